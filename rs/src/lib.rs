//! bootstrap: the safe Rust API of libbootstrap.a, the schema-generated eBPF tracer.
//!
//! `Tracer::open` loads and attaches the BPF programs of the selected events;
//! `Tracer::poll` hands each event to a closure as an [`Event`], whose
//! [`payload()`](Event::payload) is a [`Payload`] generated from events.toml (one variant
//! per event, fields by name). Nothing is copied: variable fields are read in place from
//! the kernel's arena, so an event and what it borrows live until the closure returns, as
//! the lifetimes say. A [`StopHandle`] stops the tracer from another thread or a signal
//! handler; `Tracer` is the epoll-ready fd for an event loop of one's own
//! (`AsRawFd`), and closes on drop.
//!
//! Besides events: run-time targets and a sampling rate ([`Options::attach`],
//! [`Options::sampling_frequency`]), the kernel's aggregations with keys typed from the
//! schema ([`Tracer::aggregates`], [`AggKey`]), stacks as named frames and folded lines
//! ([`Event::stack`], [`Event::write_folded`], [`Symbolizer`]), and what can be asked
//! before opening ([`select_events`], [`EventType::check_target`], [`Env::probe`]). The
//! docs/library.md ("Using the library from Rust") and `examples/` show it whole: `example-rs`
//! is `./example`'s tracing through this API.

#![warn(missing_docs)]

use std::ffi::CString;
use std::fmt;
use std::io;
use std::os::raw::c_int;
use std::os::unix::io::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

/// The offset of `$field` in `$ty`, for the layout tests: Rust 1.63 has no `offset_of!`,
/// and a value's own address keeps it free of `unsafe`.
#[cfg(test)]
macro_rules! offset_of {
    ($ty:ty, $field:ident) => {{
        let value = <$ty>::default();
        std::ptr::addr_of!(value.$field) as usize - std::ptr::addr_of!(value) as usize
    }};
}

mod aggregate;
mod event;
mod ffi;
mod process;
mod reflect;
mod stack;
mod target;

/// What typegen generated from events.toml and the wire protocol header.
mod generated {
    include!(env!("BOOTSTRAP_TYPES_RS"));
}

pub use aggregate::{AggKeyInfo, AggRow, AggTable, AggregationInfo, Aggregates};
pub use event::{Event, VarField};
use generated::decode;
pub use generated::raw::{EventStats, Stats};
pub use generated::{
    aggkey, raw, view, AggKey, AggView, AggregationType, EventType, FieldType, Kind, LogLevel, Payload, AGGREGATIONS,
    EVENTS, KCOUNTERS, MAX_FREQUENCY, N_AGGREGATIONS, N_EVENTS,
};
pub use process::Tracee;
pub use reflect::{EventInfo, FieldInfo};
pub use stack::{Frame, Symbolizer};
pub use target::{select_events, tracefs_mount, tracepoint_exists, Env};

/// The signals a tracer is usually stopped by (Linux's numbers), for
/// [`StopHandle::stop_on_signals`].
pub mod signal {
    /// The terminal hung up.
    pub const SIGHUP: i32 = 1;
    /// Ctrl-C.
    pub const SIGINT: i32 = 2;
    /// `kill`'s default.
    pub const SIGTERM: i32 = 15;
}

/// What to trace, and how: `bootstrap_opts`. Every setting has the library's default.
#[derive(Default)]
pub struct Options {
    events: Option<String>,
    pids: Vec<i32>,
    follow: bool,
    comm: Option<String>,
    ringbuf_bytes: usize,
    arena_bytes_per_cpu: usize,
    strict: bool,
    wakeup_ms: u32,
    log: Option<Box<dyn FnMut(LogLevel, &str) + Send>>,
    attach: Vec<(EventType, Option<String>, i32)>,
    frequency: u32,
    aggregate_entries: usize,
}

impl Options {
    /// Every setting at the library's default: every event but the opt-in ones, every
    /// process.
    pub fn new() -> Options {
        Options::default()
    }

    /// Only these events: `category/name` globs separated by commas or spaces; a glob
    /// without `/` matches the name alone. Default: every event but the opt-in ones
    /// (`EventInfo::opt_in`).
    pub fn events(mut self, list: &str) -> Options {
        self.events = Some(list.to_owned());
        self
    }

    /// Only this process (all its threads); repeatable.
    pub fn pid(mut self, pid: i32) -> Options {
        self.pids.push(pid);
        self
    }

    /// With pids: also the processes they fork from now on.
    pub fn follow(mut self, follow: bool) -> Options {
        self.follow = follow;
        self
    }

    /// Only tasks whose comm is exactly `comm` (at most 15 bytes).
    pub fn comm(mut self, comm: &str) -> Options {
        self.comm = Some(comm.to_owned());
        self
    }

    /// Ring buffer size (rounded up to a power of two; default 4 MiB).
    pub fn ringbuf_bytes(mut self, bytes: usize) -> Options {
        self.ringbuf_bytes = bytes;
        self
    }

    /// Payload arena per CPU (at least 64 KiB, rounded up to a power of two; default 4 MiB).
    pub fn arena_bytes_per_cpu(mut self, bytes: usize) -> Options {
        self.arena_bytes_per_cpu = bytes;
        self
    }

    /// Fail the open when a selected event's target is absent on this kernel, instead of
    /// skipping that event with a warning.
    pub fn strict(mut self, strict: bool) -> Options {
        self.strict = strict;
        self
    }

    /// The latency bound of delivery (default 50 ms).
    pub fn wakeup(mut self, every: Duration) -> Options {
        // At least 1 ms: 0 would mean the default.
        self.wakeup_ms = u32::try_from(every.as_millis()).unwrap_or(u32::MAX).max(1);
        self
    }

    /// A target given at run time for `event` (`struct bootstrap_attach`): it replaces
    /// the event's declared target, and each call for one event adds a target (one probe
    /// event on many functions). It applies when the event is selected (see [`events`]).
    /// `target`: a tracepoint's `category/name`, a kprobe's kernel function, a uprobe's
    /// `binary:function` or `binary` alone (keeping the declared function), where a
    /// binary is a path or a library name (`libssl.so.3`) found as the dynamic loader
    /// would; a sampling event's `cpu-clock@49Hz`; an xdp event's interface. None keeps
    /// the declared target (to set `pid` alone). `pid` (uprobes): only this process; 0
    /// for all. [`EventType::parse_target`] checks a target's form beforehand.
    ///
    /// ```no_run
    /// # use bootstrap::{EventType, Options, Tracer};
    /// let probe = EventType::from_name("probe/uprobe").expect("a build with generic probes");
    /// let opts = Options::new().events("probe/uprobe").attach(probe, Some("libc.so.6:malloc"), 0);
    /// let tracer = Tracer::open(opts)?;
    /// # Ok::<(), bootstrap::Error>(())
    /// ```
    ///
    /// [`events`]: Options::events
    pub fn attach(mut self, event: EventType, target: Option<&str>, pid: i32) -> Options {
        self.attach.push((event, target.map(str::to_owned), pid));
        self
    }

    /// The sampling events (kind `perf_event`) that the selection holds sample at `hz`
    /// samples a second per CPU instead of their declared rate.
    pub fn sampling_frequency(mut self, hz: u32) -> Options {
        self.frequency = hz;
        self
    }

    /// Keys per aggregation map; a key past that is counted in
    /// `aggregate_full`. Default 10240.
    pub fn aggregate_entries(mut self, entries: usize) -> Options {
        self.aggregate_entries = entries;
        self
    }

    /// Where the library's messages go. Default: warnings to stderr. While `open` runs
    /// they are held: a failed open returns them in its `Error` instead.
    pub fn log<F: FnMut(LogLevel, &str) + Send + 'static>(mut self, sink: F) -> Options {
        self.log = Some(Box::new(sink));
        self
    }
}

/// A failure of the library: its errno and, when it said why, its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    errno: i32,
    messages: Vec<String>,
}

impl Error {
    pub(crate) fn from_errno(err: c_int) -> Error {
        Error { errno: -err, messages: Vec::new() }
    }

    fn nul_byte(what: &str) -> Error {
        Error::with_message(ffi::EINVAL, format!("{} contains a NUL byte", what))
    }

    fn with_message(errno: i32, message: String) -> Error {
        Error { errno, messages: vec![message] }
    }

    /// The (positive) errno value: EPERM without privilege, ENOTSUP without BTF, ENOENT
    /// for a missing tracefs or tracepoint, EINVAL for a bad option or pattern...
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// The warnings the library logged about it (empty when it logged none).
    pub fn messages(&self) -> &[String] {
        &self.messages
    }
}

/// The library's words when it said why, else `bootstrap_strerror()`.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.messages.is_empty() {
            f.write_str(&ffi::strerror(self.errno))
        } else {
            f.write_str(&self.messages.join("; "))
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::new(io::Error::from_raw_os_error(e.errno).kind(), e)
    }
}

/// What the poll closure wants next: `()` means `Continue`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next event.
    Continue,
    /// Return from this poll after this event.
    Break,
}

impl From<()> for Flow {
    fn from(_: ()) -> Flow {
        Flow::Continue
    }
}

/// Drop accounting (`struct bootstrap_stats`, generated): per event, by index, and in
/// total.
impl Stats {
    /// The counters of one event.
    pub fn event(&self, event: EventType) -> &EventStats {
        &self.events[event.index()]
    }
}

/// An open tracer. Dropping it detaches everything and frees its maps.
pub struct Tracer {
    handle: ffi::Handle,
}

impl Tracer {
    /// Loads and attaches the programs of the selected events. Errors: see `Error::errno`.
    pub fn open(opts: Options) -> Result<Tracer, Error> {
        let cstring = |s: &Option<String>, what| s.as_deref().map(CString::new).transpose().map_err(|_| Error::nul_byte(what));
        let events = cstring(&opts.events, "events")?;
        let comm = cstring(&opts.comm, "comm")?;
        let mut targets = opts.attach.clone();
        // The sampling events' rate, after the caller's targets.
        if opts.frequency != 0 {
            let sampling = ffi::select_events(events.as_deref()).unwrap_or([false; N_EVENTS]);
            targets.extend(
                EventType::ALL
                    .iter()
                    .filter(|t| sampling[t.index()] && t.info().kind == Kind::PerfEvent)
                    .map(|&t| (t, Some(format!("cpu-clock@{}Hz", opts.frequency)), 0)),
            );
        }
        let c_targets = targets
            .iter()
            .map(|(event, target, pid)| {
                let target = target.as_deref().map(CString::new).transpose().map_err(|_| Error::nul_byte("target"))?;
                Ok((CString::new(event.name()).expect("event names have no NUL"), target, *pid))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let attach: Vec<_> = c_targets.iter().map(|(e, t, pid)| (e.as_c_str(), t.as_deref(), *pid)).collect();
        let params = ffi::OpenParams {
            events: events.as_deref(),
            pids: &opts.pids,
            follow_children: opts.follow,
            comm: comm.as_deref(),
            ringbuf_bytes: opts.ringbuf_bytes,
            arena_bytes_per_cpu: opts.arena_bytes_per_cpu,
            strict: opts.strict,
            wakeup_ms: opts.wakeup_ms,
            attach: &attach,
            aggregate_entries: opts.aggregate_entries,
        };
        let log = ffi::LogState::new(opts.log);
        match ffi::Handle::open(&params, log) {
            Ok(handle) => Ok(Tracer { handle }),
            Err((err, held)) => Err(Error {
                messages: held.into_iter().filter(|(l, _)| *l == LogLevel::Warn).map(|(_, m)| m).collect(),
                ..Error::from_errno(err)
            }),
        }
    }

    /// Waits up to `timeout` (None: without end) for the next wake-up, then hands every
    /// pending event to `f`, which returns `()` or a [`Flow`]. Returns how many were
    /// delivered, or None once the tracer was stopped and everything the kernel had
    /// produced until then was delivered: then the trace is over.
    pub fn poll<F, R>(&mut self, timeout: Option<Duration>, mut f: F) -> Result<Option<usize>, Error>
    where
        F: FnMut(&Event<'_>) -> R,
        R: Into<Flow>,
    {
        let timeout_ms = match timeout {
            None => -1,
            // Rounded up, so that a short wait is not a busy loop.
            Some(t) => c_int::try_from((t.as_nanos() + 999_999) / 1_000_000).unwrap_or(c_int::MAX),
        };
        let rc = self.handle.poll(timeout_ms, |raw| f(&Event::new(raw)).into() == Flow::Break);
        match rc {
            n if n >= 0 => Ok(Some(n as usize)),
            n if n == -ffi::ECANCELED => Ok(None),
            n => Err(Error::from_errno(n)),
        }
    }

    /// The counters, per event and in total.
    pub fn stats(&self) -> Result<Stats, Error> {
        let mut st = Stats::default();
        match self.handle.stats(&mut st) {
            0 => Ok(st),
            err => Err(Error::from_errno(err)),
        }
    }

    /// Leaves process `tgid`, all its threads, out of the trace from now on (or traces
    /// it again): for the readers of the caller's own output. At most 1024 at a time.
    pub fn exclude_pid(&mut self, tgid: i32, excluded: bool) -> Result<(), Error> {
        match self.handle.exclude_pid(tgid, excluded) {
            0 => Ok(()),
            err => Err(Error::from_errno(err)),
        }
    }

    /// Reads every aggregation of the selected events: totals since the open, or what
    /// changed since the previous delta read.
    pub fn aggregates(&mut self, view: AggView) -> Result<Aggregates, Error> {
        self.handle.aggregates(view).map(Aggregates::new).map_err(Error::from_errno)
    }

    /// A handle that stops this tracer from anywhere.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.handle.stop_shared())
    }
}

/// Readable when `poll(Some(Duration::ZERO), …)` has work; it turns readable at the
/// latest every wake-up period.
impl AsRawFd for Tracer {
    fn as_raw_fd(&self) -> RawFd {
        self.handle.epoll_fd()
    }
}

/// Stops a tracer: the next poll (or the one blocked) turns the kernel side off, delivers
/// what it had produced and returns None. `Send` and `Sync`, and lock-free, so it may be
/// called from any thread or a signal handler; once the tracer is dropped it does nothing.
#[derive(Clone)]
pub struct StopHandle(Arc<ffi::StopShared>);

impl StopHandle {
    /// Stops the tracer (async-signal-safe).
    pub fn stop(&self) {
        self.0.stop()
    }

    /// Installs handlers so that each of `signals` stops the tracer (see [`signal`]).
    /// A later call for the same signal replaces this one.
    pub fn stop_on_signals(&self, signals: &[i32]) -> io::Result<()> {
        signals.iter().try_for_each(|&sig| ffi::stop_on_signal(&self.0, sig))
    }
}

impl fmt::Debug for StopHandle {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("StopHandle")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rust lays out every mirror as typegen computed, which the C compiler asserts in
    /// events.gen.h (and ffi's test holds the payload layouts against the C table).
    #[test]
    fn layouts_are_the_c_ones() {
        let rust = generated::rust_layouts();
        let (protocol, payloads) = rust.split_at(generated::MIRRORED_LAYOUTS.len());
        for ((name, size, offsets), (rust_size, rust_offsets)) in generated::MIRRORED_LAYOUTS.iter().zip(protocol) {
            assert_eq!((size, offsets.to_vec()), (rust_size, rust_offsets.clone()), "struct {}", name);
        }
        for (info, (size, offsets)) in EVENTS.iter().zip(payloads) {
            let c_offsets: Vec<usize> = info.fields.iter().map(|f| f.offset as usize).collect();
            assert_eq!((info.payload_size as usize, c_offsets), (*size, offsets.clone()), "{}", info.type_name);
        }
        assert_eq!(payloads.len(), N_EVENTS);
    }

    #[test]
    fn aggregation_keys_are_laid_out_as_the_c_ones() {
        let rust = generated::rust_key_layouts();
        assert_eq!(rust.len(), N_AGGREGATIONS);
        for (info, (size, offsets)) in AGGREGATIONS.iter().zip(rust) {
            let c_offsets: Vec<usize> = info.keys.iter().map(|k| k.offset as usize).collect();
            assert_eq!((info.key_size as usize, c_offsets), (size, offsets), "{}", info.name);
        }
        for (i, a) in AggregationType::ALL.iter().enumerate() {
            assert_eq!((a.index(), a.info().name), (i, AGGREGATIONS[i].name));
        }
    }

    #[test]
    fn event_types_are_found_by_name_and_index() {
        for (i, t) in EventType::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
            assert_eq!(EventType::from_index(i), Some(*t));
            assert_eq!(EventType::from_name(t.name()), Some(*t));
            assert_eq!(t.info().type_name, EVENTS[i].type_name);
        }
        assert_eq!(EventType::from_index(N_EVENTS), None);
        assert_eq!(EventType::from_name("syscalls/no_such_event"), None);
    }

    #[test]
    fn nul_bytes_in_options_are_refused_before_the_library() {
        for (opts, what) in [(Options::new().events("sys_enter_openat\0"), "events"), (Options::new().comm("a\0b"), "comm")] {
            let err = Tracer::open(opts).err().expect("refused");
            assert_eq!(err.errno(), ffi::EINVAL);
            assert_eq!(err.to_string(), format!("{} contains a NUL byte", what));
        }
    }
}
