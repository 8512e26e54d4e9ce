//! libndctl's logging sink: the user callback installed with `ndctl_set_log_fn()` (which
//! receives a `va_list`, so it is called through the C shim `csrc/log_shim.c`) or, by
//! default, stderr as `libndctl: <function>: <message>`.
//!
//! Each C context installs a [`ContextSink`] as the sink of its Rust context's
//! [`ndctl::logging::Logger`]; the crate's records about that context and the C layer's own
//! messages go through it, and nowhere else: there is no process-wide registry of sinks.
//! The C layer's error reports name no context, so each exported call remembers the
//! logger of the handle it was given ([`enter_call`], done by `ffi::obj`) for the length of
//! the call, on the calling thread.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::io::Write;
use std::sync::Arc;

use ndctl::logging::Logger;

use crate::ctypes::va_list;

/// syslog priority `LOG_ERR`: libndctl's default threshold.
pub const LOG_ERR: c_int = 3;
/// syslog priority `LOG_NOTICE`.
pub const LOG_NOTICE: c_int = 5;
/// syslog priority `LOG_INFO`.
pub const LOG_INFO: c_int = 6;
/// syslog priority `LOG_DEBUG`.
pub const LOG_DEBUG: c_int = 7;

/// A logging callback as `ndctl_set_log_fn()` receives it, with the context pointer
/// erased (`C` is the context handle type, `struct ndctl_ctx`).
pub type LogFn<C> = unsafe extern "C" fn(
    ctx: *mut C,
    priority: c_int,
    file: *const c_char,
    line: c_int,
    func: *const c_char,
    format: *const c_char,
    args: va_list,
);

extern "C" {
    /// Defined in `csrc/log_shim.c`: builds the `va_list` from `...` and calls `log_fn`.
    fn ndctl_capi_log(
        ctx: *mut c_void, log_fn: *const c_void, priority: c_int, file: *const c_char, line: c_int,
        func: *const c_char, format: *const c_char, ...
    );
}

/// The sink of one C context: the callback installed by `ndctl_set_log_fn()` or, without
/// one, `libndctl: <function>: <message>` on stderr (libndctl's default). The address of
/// the context's handle is passed to the callback as libndctl passes it and never
/// dereferenced here (so a record racing with `ndctl_unref` cannot touch freed memory
/// through the sink).
pub struct ContextSink<C> {
    ctx: usize,
    callback: Option<LogFn<C>>,
}

impl<C> ContextSink<C> {
    /// The sink for the context handle `ctx`; a NULL `callback` means stderr.
    pub fn new(ctx: *mut C, callback: Option<LogFn<C>>) -> Self {
        ContextSink { ctx: ctx as usize, callback }
    }

    /// Emits one message. `msg` gets a trailing newline if it lacks one (libndctl's
    /// messages carry their own). Interior NUL bytes, which C cannot represent, are
    /// replaced by `?` rather than dropping the message.
    ///
    /// # Safety
    /// A callback must be a valid function of the `LogFn` signature that expects this
    /// sink's context handle.
    pub unsafe fn emit(&self, priority: c_int, file: &str, line: u32, func: &str, msg: &str) {
        let nl = if msg.ends_with('\n') { "" } else { "\n" };
        let Some(cb) = self.callback else {
            // A failing stderr write has nowhere else to go.
            return drop(write!(std::io::stderr(), "libndctl: {func}: {msg}{nl}"));
        };
        let (file, func) = (to_c_string(file), to_c_string(func));
        let text = to_c_string(&format!("{msg}{nl}"));
        let line = c_int::try_from(line).unwrap_or(c_int::MAX);
        // SAFETY: the shim forwards exactly these arguments plus a va_list holding the
        // single `%s` argument `text`; all strings live until it returns, and the
        // callback's validity is the caller's guarantee.
        unsafe {
            ndctl_capi_log(
                self.ctx as *mut c_void,
                cb as *const c_void,
                priority,
                file.as_ptr(),
                line,
                func.as_ptr(),
                c"%s".as_ptr(),
                text.as_ptr(),
            );
        }
    }
}

// A usize and a function pointer are plain values; whether the callback may run on any
// thread is the C program's contract with libndctl, as it is for libndctl itself.
impl<C: 'static> ndctl::logging::LogSink for ContextSink<C> {
    fn log(&self, record: &::log::Record<'_>) {
        let msg = record.args().to_string();
        let (file, line) = (record.file().unwrap_or(""), record.line().unwrap_or(0));
        let priority = record_priority(record.level());
        // SAFETY: the user installed the callback for exactly this context.
        unsafe { self.emit(priority, file, line, record.target(), &msg) };
    }
}

/// A sink that drops everything: installed when a context is released.
pub struct Silent;

impl ndctl::logging::LogSink for Silent {
    fn log(&self, _: &::log::Record<'_>) {}
}

/// syslog priority of a `log` record.
pub fn record_priority(level: ::log::Level) -> c_int {
    match level {
        ::log::Level::Error => LOG_ERR,
        ::log::Level::Warn => 4,
        ::log::Level::Info => LOG_INFO,
        ::log::Level::Debug | ::log::Level::Trace => LOG_DEBUG,
    }
}

/// The `log` level a syslog priority carries (notice counts as info).
pub fn priority_level(priority: c_int) -> ::log::Level {
    match priority {
        p if p <= LOG_ERR => ::log::Level::Error,
        4 => ::log::Level::Warn,
        p if p < LOG_DEBUG => ::log::Level::Info,
        _ => ::log::Level::Debug,
    }
}

/// The records a context with log priority `priority` lets through.
pub fn level_filter(priority: c_int) -> ::log::LevelFilter {
    match priority {
        p if p >= LOG_DEBUG => ::log::LevelFilter::Trace,
        p if p >= LOG_INFO => ::log::LevelFilter::Info,
        p if p >= 4 => ::log::LevelFilter::Warn,
        p if p >= LOG_ERR => ::log::LevelFilter::Error,
        _ => ::log::LevelFilter::Off,
    }
}

/// What the current exported call logs under: its context's logger (once a handle
/// argument named it) and the export's name.
#[derive(Clone)]
struct Call {
    logger: Option<Arc<Logger>>,
    /// The export's name, or a path ending in it (a `guard!` passes the type name of an
    /// item local to the export: see [`crate::ffi::export_name`]).
    func: &'static str,
}

thread_local! {
    /// The exported call running on this thread (see the module doc).
    static CALL: RefCell<Call> = const { RefCell::new(Call { logger: None, func: "" }) };
}

/// Remember `logger` as the current call's context logger (see the module doc).
pub fn enter_call(logger: Option<Arc<Logger>>) {
    if logger.is_some() {
        CALL.with(|c| c.borrow_mut().logger = logger);
    }
}

/// Run the body of the exported function `func` in its own call scope: its messages are
/// logged under `func`, whatever the body enters is forgotten afterwards, and the caller's
/// scope (a callback may call into the library) is restored.
pub fn call_scope<R>(func: &'static str, body: impl FnOnce() -> R) -> R {
    let _caller = CallerScope::enter(func);
    body()
}

/// The caller's call scope, put back when this is dropped (after a panic too).
struct CallerScope(Call);

impl CallerScope {
    /// Starts `func`'s scope with the caller's logger.
    fn enter(func: &'static str) -> CallerScope {
        CALL.with(|c| {
            let mut c = c.borrow_mut();
            let caller = c.clone();
            c.func = func;
            CallerScope(caller)
        })
    }
}

impl Drop for CallerScope {
    fn drop(&mut self) {
        let caller = std::mem::replace(&mut self.0, Call { logger: None, func: "" });
        CALL.with(|c| *c.borrow_mut() = caller);
    }
}

/// Log a message of the C layer about the current call through its context's logger,
/// under the exported function's name. Without a context (no handle was given) there is
/// no sink to use, as in libndctl, and the message is dropped.
pub fn call_log(level: ::log::Level, msg: std::fmt::Arguments<'_>) {
    let call = CALL.with(|c| c.borrow().clone());
    if let Some(l) = call.logger {
        l.log(level, crate::ffi::export_name(call.func), file!(), line!(), msg);
    }
}

/// Log a message of the C layer under the current export's name through `logger`, a
/// context's own logger (the call may have been given no handle of it yet).
pub fn call_log_to(logger: &Logger, level: ::log::Level, msg: &str) {
    logger.log(level, call_func(), file!(), line!(), format_args!("{msg}"));
}

/// The name of the exported function running on this thread ("" outside one).
pub fn call_func() -> &'static str {
    crate::ffi::export_name(CALL.with(|c| c.borrow().func))
}

fn to_c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "?")).unwrap_or_default()
}

/// Parses the `NDCTL_LOG` environment value the way libndctl does: a decimal number in
/// `strtol()` syntax that is followed by nothing or by whitespace, else a word starting
/// with `err`, `info`, `debug` or `notice`; anything else means priority 0.
pub fn parse_log_priority(value: &str) -> c_int {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r');
    let num = value.trim_start_matches(is_space);
    let unsigned = num.strip_prefix(['+', '-']).unwrap_or(num);
    let rest = unsigned.trim_start_matches(|c: char| c.is_ascii_digit());
    // strtol() leaves its end pointer at the start when it converts nothing.
    let (number, rest) = if rest.len() < unsigned.len() {
        let text = &num[..num.len() - rest.len()];
        // strtol saturates at the range of long; the C code then narrows to int.
        let n =
            text.parse::<i64>().unwrap_or(if text.starts_with('-') { i64::MIN } else { i64::MAX });
        (n as c_int, rest)
    } else {
        (0, value)
    };
    if rest.is_empty() || rest.starts_with(is_space) {
        return number;
    }
    let words =
        [("err", LOG_ERR), ("info", LOG_INFO), ("debug", LOG_DEBUG), ("notice", LOG_NOTICE)];
    words.iter().find(|(word, _)| value.starts_with(word)).map_or(0, |&(_, p)| p)
}
