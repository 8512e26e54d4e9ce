//! A Rust reimplementation of libndctl: the libnvdimm object model read from sysfs
//! (under any root), and an offline engine for Block Translation Table metadata.
//!
//! ```no_run
//! let ctx = ndctl::Ctx::with_root("/")?;
//! for bus in ctx.buses()? {
//!     for region in bus.regions()? {
//!         for ns in region.namespaces()? {
//!             println!("{} {} {}", region.devname(), ns.devname(), ns.size());
//!         }
//!     }
//! }
//! # Ok::<(), ndctl::Error>(())
//! ```

pub mod badblock;
pub mod btt;
pub mod btt_engine;
pub mod bus;
mod children;
mod claim;
pub mod cmd;
pub mod configure;
pub mod ctx;
pub mod dax;
pub mod device_type;
pub mod dimm;
pub mod env;
pub mod error;
pub mod labels;
pub mod list;
pub mod logging;
pub mod mapping;
pub mod namespace;
pub mod pfn;
pub mod region;
pub mod sysfs;

pub use badblock::BadBlock;
pub use btt::Btt;
pub use bus::Bus;
pub use children::Node;
pub use claim::ClaimCore;
pub use cmd::Command;
pub use ctx::Ctx;
pub use dax::Dax;
pub use device_type::DeviceType;
pub use dimm::Dimm;
pub use error::{Error, Result};
pub use mapping::{InterleaveSet, Mapping};
pub use namespace::{Claim, Mode, Namespace};
pub use pfn::{Location, Pfn, PfnCore};
pub use region::Region;
