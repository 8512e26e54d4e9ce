//! C ABI for libndctl (filled in by the C library issue).
