//! Offline Block Translation Table engine (format, arena, map, flog, check, io).
