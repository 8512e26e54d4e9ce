//! A Rust reimplementation of libndctl: the libnvdimm object model read from sysfs
//! (under any root), and an offline engine for Block Translation Table metadata.

pub mod btt_engine;
pub mod fixture;
