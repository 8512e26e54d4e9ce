//! Per-context logging: each [`crate::Ctx`] has its own sink and threshold, so the records
//! of one context never reach another's sink (libndctl logs per context too).
//!
//! The default sink is the [`log`] facade: a Rust program sees the crate's records through
//! whatever `log` backend it installed. A binding (the C library) installs its own sink per
//! context with [`Logger::set_sink`].

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use log::{Level, LevelFilter, Record};

/// Where a context's log records go.
pub trait LogSink: Send + Sync {
    /// Deliver one record. Called without any lock of the library held, so a sink may call
    /// back into the library (even replace itself).
    fn log(&self, record: &Record<'_>);
}

/// The default sink: the `log` facade (subject to its global maximum level).
#[derive(Debug, Default, Clone, Copy)]
pub struct FacadeSink;

impl LogSink for FacadeSink {
    fn log(&self, record: &Record<'_>) {
        if record.level() <= log::max_level() {
            log::logger().log(record);
        }
    }
}

/// A context's log sink and threshold.
pub struct Logger {
    sink: RwLock<Arc<dyn LogSink>>,
    level: AtomicUsize,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("level", &self.level())
            .finish_non_exhaustive()
    }
}

impl Default for Logger {
    fn default() -> Logger {
        Logger::new()
    }
}

fn filter_from(v: usize) -> LevelFilter {
    [
        LevelFilter::Off,
        LevelFilter::Error,
        LevelFilter::Warn,
        LevelFilter::Info,
        LevelFilter::Debug,
        LevelFilter::Trace,
    ]
    .get(v)
    .copied()
    .unwrap_or(LevelFilter::Trace)
}

impl Logger {
    /// A logger sending everything to the `log` facade (which applies its own filter).
    pub fn new() -> Logger {
        Logger {
            sink: RwLock::new(Arc::new(FacadeSink)),
            level: AtomicUsize::new(LevelFilter::Trace as usize),
        }
    }

    /// Replace the sink.
    pub fn set_sink(&self, sink: Arc<dyn LogSink>) {
        *self.sink.write().unwrap_or_else(|p| p.into_inner()) = sink;
    }

    /// Records above `level` are dropped before they reach the sink.
    pub fn set_level(&self, level: LevelFilter) {
        self.level.store(level as usize, Ordering::Relaxed);
    }

    /// The current threshold.
    pub fn level(&self) -> LevelFilter {
        filter_from(self.level.load(Ordering::Relaxed))
    }

    /// Whether a record of `level` would reach the sink.
    pub fn enabled(&self, level: Level) -> bool {
        level <= self.level()
    }

    /// Send one record to the sink if the threshold admits it. `target` is what a C sink
    /// shows as the function name.
    pub fn log(&self, level: Level, target: &str, file: &str, line: u32, args: fmt::Arguments<'_>) {
        if !self.enabled(level) {
            return;
        }
        // Cloned out so the sink runs without the lock.
        let sink = Arc::clone(&self.sink.read().unwrap_or_else(|p| p.into_inner()));
        sink.log(
            &Record::builder()
                .args(args)
                .level(level)
                .target(target)
                .file(Some(file))
                .line(Some(line))
                .build(),
        );
    }
}

/// Log through a [`Logger`] with the caller's module, file and line:
/// `ctx_log!(logger, log::Level::Debug, "{}: skipped", name)`.
#[macro_export]
macro_rules! ctx_log {
    ($logger:expr, $level:expr, $($arg:tt)+) => {{
        let logger: &$crate::logging::Logger = &$logger;
        let level: ::log::Level = $level;
        if logger.enabled(level) {
            logger.log(level, module_path!(), file!(), line!(), format_args!($($arg)+));
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<(Level, String, String)>>);

    impl LogSink for Collect {
        fn log(&self, r: &Record<'_>) {
            self.0
                .lock()
                .unwrap()
                .push((r.level(), r.target().to_string(), r.args().to_string()));
        }
    }

    #[test]
    fn threshold_and_sink_are_per_logger() {
        let a = Logger::new();
        let b = Logger::new();
        let sa = Arc::new(Collect::default());
        let sb = Arc::new(Collect::default());
        a.set_sink(sa.clone());
        b.set_sink(sb.clone());
        a.set_level(LevelFilter::Warn);
        ctx_log!(a, Level::Error, "one {}", 1);
        ctx_log!(a, Level::Debug, "dropped");
        ctx_log!(b, Level::Debug, "two");
        let seen_a = sa.0.lock().unwrap().clone();
        let seen_b = sb.0.lock().unwrap().clone();
        assert_eq!(seen_a.len(), 1);
        assert_eq!(seen_a[0].0, Level::Error);
        assert_eq!(seen_a[0].2, "one 1");
        assert!(seen_a[0].1.contains("logging"));
        assert_eq!(seen_b.len(), 1);
        assert_eq!(seen_b[0].2, "two");
        assert_eq!(a.level(), LevelFilter::Warn);
    }

    struct Reentrant(Arc<Logger>);
    impl LogSink for Reentrant {
        fn log(&self, _: &Record<'_>) {
            // Replacing the sink from inside the sink must not deadlock.
            self.0.set_sink(Arc::new(FacadeSink));
        }
    }

    #[test]
    fn a_sink_may_replace_itself() {
        let l = Arc::new(Logger::new());
        l.set_sink(Arc::new(Reentrant(Arc::clone(&l))));
        ctx_log!(l, Level::Info, "x");
        ctx_log!(l, Level::Info, "y");
    }
}
