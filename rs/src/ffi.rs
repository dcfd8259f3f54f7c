//! ffi.rs: the crate's one module with `unsafe`. It declares the C API of bootstrap.h
//! and the few libc calls the crate needs, and wraps each in a safe function whose
//! checks make the C side's promises hold for any caller. Each unsafe block says why.

use std::any::Any;
use std::ffi::{CStr, CString};
use std::io;
use std::mem;
use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::slice;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use crate::{raw, LogLevel, Stats, EVENTS};

// Linux's values (the same on x86_64 and arm64, the architectures the tracer builds for).
const EINTR: c_int = 4;
pub(crate) const EINVAL: c_int = 22;
const ENOENT: c_int = 2;
pub(crate) const ECANCELED: c_int = 125;
const ECHILD: c_int = 10;
const SIGKILL: c_int = 9;
const SIGPIPE: c_int = 13;
const SIGCONT: c_int = 18;
const SIGSTOP: c_int = 19;
const WNOHANG: c_int = 1;
const WUNTRACED: c_int = 2;
const SIG_ERR: usize = !0;
/// Signal numbers run from 1 to 64 on Linux.
const NSIG: usize = 65;

/// `struct bootstrap`: opaque.
#[repr(C)]
struct Bootstrap {
    _opaque: [u8; 0],
}

type LogFn = extern "C" fn(ctx: *mut c_void, level: c_int, msg: *const c_char);
type EventFn = extern "C" fn(ctx: *mut c_void, ev: *const RawEvent) -> c_int;

/// `struct bootstrap_opts` up to `log_ctx`. The library reads `sz` bytes of it, so the
/// members after (run-time attach targets, which this crate does not offer) are absent.
#[repr(C)]
struct Opts {
    sz: usize,
    events: *const c_char,
    pids: *const i32,
    n_pids: usize,
    follow_children: bool,
    comm: *const c_char,
    ringbuf_bytes: usize,
    arena_bytes_per_cpu: usize,
    strict: bool,
    wakeup_ms: c_uint,
    log: Option<LogFn>,
    log_ctx: *mut c_void,
}

/// `struct bootstrap_field_value`.
#[repr(C)]
struct FieldValue {
    data: *const c_char,
    len: u32,
    truncated: bool,
    lost: bool,
}

/// `struct bootstrap_event`, as the library hands it to the callback.
#[repr(C)]
pub(crate) struct RawEvent {
    hdr: *const raw::Header,
    payload: *const c_void,
    info: *const c_void,
    vars: *const FieldValue,
}

/// `struct bootstrap_field_info` and `struct bootstrap_event_info`: the C reflection
/// table, read only by the tests that hold the Rust one against it.
#[cfg(test)]
#[repr(C)]
struct CFieldInfo {
    name: *const c_char,
    ty: c_int,
    type_name: *const c_char,
    offset: u32,
    var_index: c_int,
    kernel_stack: bool,
}

#[cfg(test)]
#[repr(C)]
struct CEventInfo {
    id: u32,
    type_name: *const c_char,
    comment: *const c_char,
    payload_size: u32,
    n_fields: u32,
    fields: *const CFieldInfo,
    n_vars: u32,
    kind: c_int,
    lossy_fields: u32,
    target: *const c_char,
    opt_in: bool,
    reread_fields: u32,
}

extern "C" {
    fn bootstrap_open(opts: *const Opts, out: *mut *mut Bootstrap) -> c_int;
    fn bootstrap_poll(b: *mut Bootstrap, timeout_ms: c_int, f: EventFn, ctx: *mut c_void) -> c_int;
    fn bootstrap_epoll_fd(b: *const Bootstrap) -> c_int;
    fn bootstrap_stats(b: *const Bootstrap, out: *mut Stats) -> c_int;
    fn bootstrap_stop(b: *mut Bootstrap);
    fn bootstrap_close(b: *mut Bootstrap);
    fn bootstrap_exclude_pid(b: *mut Bootstrap, tgid: i32, excluded: bool) -> c_int;
    fn bootstrap_event_json(ev: *const RawEvent, buf: *mut c_char, cap: usize) -> usize;
    fn bootstrap_strerror(err: c_int) -> *const c_char;
    #[cfg(test)]
    static bootstrap_events: [CEventInfo; crate::N_EVENTS];

    fn fork() -> i32;
    fn execvp(file: *const c_char, argv: *const *const c_char) -> c_int;
    fn raise(sig: c_int) -> c_int;
    fn kill(pid: i32, sig: c_int) -> c_int;
    fn waitpid(pid: i32, status: *mut c_int, options: c_int) -> i32;
    fn write(fd: c_int, buf: *const c_void, n: usize) -> isize;
    fn _exit(status: c_int) -> !;
    /// glibc's signal(): BSD semantics (SA_RESTART, the handler stays); None is SIG_DFL.
    fn signal(sig: c_int, handler: Option<extern "C" fn(c_int)>) -> usize;
    fn __errno_location() -> *mut c_int;
}

pub(crate) fn strerror(err: c_int) -> String {
    // SAFETY: bootstrap_strerror returns a static NUL-terminated string for any value.
    unsafe { CStr::from_ptr(bootstrap_strerror(-err)) }.to_string_lossy().into_owned()
}

/// A payload struct of the generated `raw` module: `INDEX` is its event's index. Only the
/// generated structs implement it, each with its size asserted against the C struct's.
pub(crate) trait RawPayload {
    const INDEX: usize;
}

impl RawEvent {
    pub(crate) fn header(&self) -> &raw::Header {
        // SAFETY: the library points hdr at the ring buffer record for the duration of the
        // callback, which outlives every borrow of self (the callback gets &RawEvent only).
        unsafe { &*self.hdr }
    }

    pub(crate) fn index(&self) -> usize {
        // The library delivers only records whose index is below BOOTSTRAP_N_EVENTS.
        usize::from(self.header().event_index)
    }

    /// The payload as its generated struct; panics on another event's struct.
    pub(crate) fn payload<T: RawPayload>(&self) -> &T {
        assert_eq!(self.index(), T::INDEX, "payload struct of another event");
        assert!(mem::size_of::<T>() <= EVENTS[T::INDEX].payload_size as usize);
        assert_eq!(self.payload as usize % mem::align_of::<T>(), 0);
        // SAFETY: the record holds payload_size bytes after the header (the library checks
        // the record's size before delivering it), T is the #[repr(C)] mirror of this
        // event's payload struct, all of whose bit patterns are valid, and it is aligned.
        unsafe { &*(self.payload as *const T) }
    }

    /// Variable field `i`: (bytes, truncated, lost); the bytes are empty when lost.
    pub(crate) fn var(&self, i: usize) -> (&[u8], bool, bool) {
        assert!(i < EVENTS[self.index()].n_vars(), "no variable field {}", i);
        // SAFETY: vars has n_vars entries, valid during the callback.
        let v = unsafe { &*self.vars.add(i) };
        if v.lost || v.data.is_null() {
            return (&[], v.truncated, true);
        }
        // SAFETY: a field that is not lost is len bytes in the mmapped arena, which the
        // library releases to the kernel only after the callback returns.
        (unsafe { slice::from_raw_parts(v.data as *const u8, v.len as usize) }, v.truncated, false)
    }

    /// Appends the event's NDJSON line (with its '\n') to `out`.
    pub(crate) fn json(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.reserve(512);
        loop {
            let cap = out.capacity() - start;
            // SAFETY: the buffer has cap writable bytes past start; the library writes at
            // most cap of them and returns the line's length (like snprintf).
            let need = unsafe { bootstrap_event_json(self, out.as_mut_ptr().add(start) as *mut c_char, cap) };
            if need < cap {
                // SAFETY: need bytes were written (the NUL after them is not kept).
                unsafe { out.set_len(start + need) };
                return;
            }
            out.reserve(need + 1);
        }
    }
}

/// The log callback's state: the caller's sink, and the messages held while opening (an
/// open that fails returns them in its error instead of printing them).
pub(crate) struct LogState {
    sink: Option<Box<dyn FnMut(LogLevel, &str) + Send>>,
    held: Option<Vec<(LogLevel, String)>>,
    panic: Option<Box<dyn Any + Send>>,
}

impl LogState {
    pub(crate) fn new(sink: Option<Box<dyn FnMut(LogLevel, &str) + Send>>) -> LogState {
        LogState { sink, held: None, panic: None }
    }

    fn deliver(&mut self, level: LogLevel, msg: &str) {
        match (&mut self.held, &mut self.sink) {
            (Some(held), _) => held.push((level, msg.to_owned())),
            (None, Some(sink)) => sink(level, msg),
            // What the library does without a log callback.
            (None, None) if level == LogLevel::Warn => eprintln!("bootstrap: {}", msg),
            (None, None) => {}
        }
    }
}

extern "C" fn on_log(ctx: *mut c_void, level: c_int, msg: *const c_char) {
    // SAFETY: ctx is the LogState registered with the instance, freed only after
    // bootstrap_close; no other reference to it is live while the library runs; msg is a
    // NUL-terminated string valid during the call.
    let state = unsafe { &mut *(ctx as *mut LogState) };
    let msg = unsafe { CStr::from_ptr(msg) }.to_string_lossy();
    // A level added to the library's enum and not yet to this build is the least urgent.
    let level = LogLevel::from_c(level).unwrap_or(LogLevel::Debug);
    // A panic must not unwind into C: it is resumed when the library call returns.
    if let Err(p) = panic::catch_unwind(AssertUnwindSafe(|| state.deliver(level, &msg))) {
        state.panic.get_or_insert(p);
    }
}

/// What the stop handles share with their instance: the instance while it is open, and
/// how many stops are under way, so that closing can wait for them. Lock-free, so a
/// signal handler can stop an instance whatever the thread it interrupted was doing.
pub(crate) struct StopShared {
    b: AtomicPtr<Bootstrap>,
    inflight: AtomicUsize,
}

impl StopShared {
    pub(crate) fn stop(&self) {
        self.inflight.fetch_add(1, SeqCst);
        let b = self.b.load(SeqCst);
        if !b.is_null() {
            // SAFETY: b was still set after inflight was raised, so Handle::drop, which
            // clears b and then waits for inflight to fall to 0, has not closed it;
            // bootstrap_stop is async-signal-safe and may race with a poll.
            unsafe { bootstrap_stop(b) };
        }
        self.inflight.fetch_sub(1, SeqCst);
    }
}

/// The parameters of bootstrap_open, as C strings.
pub(crate) struct OpenParams<'a> {
    pub(crate) events: Option<&'a CStr>,
    pub(crate) pids: &'a [i32],
    pub(crate) follow_children: bool,
    pub(crate) comm: Option<&'a CStr>,
    pub(crate) ringbuf_bytes: usize,
    pub(crate) arena_bytes_per_cpu: usize,
    pub(crate) strict: bool,
    pub(crate) wakeup_ms: u32,
}

/// An open instance: closed, and its log state freed, on drop.
pub(crate) struct Handle {
    b: NonNull<Bootstrap>,
    log: NonNull<LogState>,
    stop: Arc<StopShared>,
}

// SAFETY: an instance has no tie to the thread that opened it; &mut self on every call
// that changes it keeps those calls one at a time, and the log sink is Send.
unsafe impl Send for Handle {}

fn opt_ptr(s: Option<&CStr>) -> *const c_char {
    s.map_or(ptr::null(), CStr::as_ptr)
}

fn rethrow(panic: Option<Box<dyn Any + Send>>) {
    if let Some(p) = panic {
        panic::resume_unwind(p);
    }
}

impl Handle {
    /// Opens an instance; on failure, the errno and the messages the library logged.
    pub(crate) fn open(p: &OpenParams, mut log: LogState) -> Result<Handle, (c_int, Vec<(LogLevel, String)>)> {
        log.held = Some(Vec::new());
        let log = NonNull::from(Box::leak(Box::new(log)));
        let opts = Opts {
            sz: mem::size_of::<Opts>(),
            events: opt_ptr(p.events),
            pids: if p.pids.is_empty() { ptr::null() } else { p.pids.as_ptr() },
            n_pids: p.pids.len(),
            follow_children: p.follow_children,
            comm: opt_ptr(p.comm),
            ringbuf_bytes: p.ringbuf_bytes,
            arena_bytes_per_cpu: p.arena_bytes_per_cpu,
            strict: p.strict,
            wakeup_ms: p.wakeup_ms,
            log: Some(on_log),
            log_ctx: log.as_ptr() as *mut c_void,
        };
        let mut b = ptr::null_mut();
        // SAFETY: opts and the strings and pids it points to outlive the call; the log
        // state stays valid until the instance is closed (below, or in drop).
        let err = unsafe { bootstrap_open(&opts, &mut b) };
        // SAFETY: log came from Box::leak above and the library holds no borrow of it now.
        let state = unsafe { &mut *log.as_ptr() };
        let held = state.held.take().unwrap_or_default();
        let panic = state.panic.take();
        match NonNull::new(b).filter(|_| err == 0) {
            Some(b) => {
                for (level, msg) in held {
                    state.deliver(level, &msg);
                }
                let stop = Arc::new(StopShared { b: AtomicPtr::new(b.as_ptr()), inflight: AtomicUsize::new(0) });
                let handle = Handle { b, log, stop };
                rethrow(panic);
                Ok(handle)
            }
            None => {
                // SAFETY: a failed open keeps no pointer to the log state.
                drop(unsafe { Box::from_raw(log.as_ptr()) });
                rethrow(panic);
                Err((if err < 0 { err } else { -EINVAL }, held))
            }
        }
    }

    fn rethrow_log_panic(&mut self) {
        // SAFETY: the library is not running (we hold &mut self), so nothing else
        // borrows the log state.
        rethrow(unsafe { &mut *self.log.as_ptr() }.panic.take());
    }

    /// bootstrap_poll with `f` as the callback; `f` returns true to stop after this event.
    /// A panic in `f` ends the poll and is resumed when the library has returned.
    pub(crate) fn poll<F: FnMut(&RawEvent) -> bool>(&mut self, timeout_ms: c_int, f: F) -> c_int {
        struct Ctx<F> {
            f: F,
            panic: Option<Box<dyn Any + Send>>,
        }
        extern "C" fn on_event<F: FnMut(&RawEvent) -> bool>(ctx: *mut c_void, ev: *const RawEvent) -> c_int {
            // SAFETY: ctx is the Ctx<F> below, borrowed by nothing else during the poll;
            // ev is valid during this call, and f cannot keep the reference beyond it.
            let ctx = unsafe { &mut *(ctx as *mut Ctx<F>) };
            if ctx.panic.is_some() {
                return 1;
            }
            let ev = unsafe { &*ev };
            match panic::catch_unwind(AssertUnwindSafe(|| (ctx.f)(ev))) {
                Ok(stop) => c_int::from(stop),
                Err(p) => {
                    ctx.panic = Some(p);
                    1
                }
            }
        }
        let mut ctx = Ctx { f, panic: None };
        // SAFETY: b is open; ctx outlives the call and matches on_event's type.
        let rc = unsafe { bootstrap_poll(self.b.as_ptr(), timeout_ms, on_event::<F>, &mut ctx as *mut Ctx<F> as *mut c_void) };
        self.rethrow_log_panic();
        rethrow(ctx.panic);
        rc
    }

    pub(crate) fn epoll_fd(&self) -> c_int {
        // SAFETY: b is open.
        unsafe { bootstrap_epoll_fd(self.b.as_ptr()) }
    }

    pub(crate) fn stats(&self, out: &mut Stats) -> c_int {
        out.sz = mem::size_of::<Stats>();
        // SAFETY: b is open; out is the generated mirror of struct bootstrap_stats, whose
        // layout json.gen.c asserts.
        unsafe { bootstrap_stats(self.b.as_ptr(), out) }
    }

    pub(crate) fn exclude_pid(&mut self, tgid: i32, excluded: bool) -> c_int {
        // SAFETY: b is open.
        let err = unsafe { bootstrap_exclude_pid(self.b.as_ptr(), tgid, excluded) };
        self.rethrow_log_panic();
        err
    }

    pub(crate) fn stop_shared(&self) -> Arc<StopShared> {
        Arc::clone(&self.stop)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // Stops that start from now on do nothing; the ones under way finish first.
        self.stop.b.store(ptr::null_mut(), SeqCst);
        while self.stop.inflight.load(SeqCst) != 0 {
            std::thread::yield_now();
        }
        // SAFETY: b is open and no stop can reach it any more; after the close the
        // library no longer calls the log callback, so its state can go.
        unsafe {
            bootstrap_close(self.b.as_ptr());
            drop(Box::from_raw(self.log.as_ptr()));
        }
    }
}

/// The stop handle each signal stops, by signal number. An entry, once set, is never
/// freed (a handler may be reading it on another thread): see stop_on_signal.
const NO_STOP: AtomicPtr<StopShared> = AtomicPtr::new(ptr::null_mut());
static SIGNAL_STOPS: [AtomicPtr<StopShared>; NSIG] = [NO_STOP; NSIG];

extern "C" fn on_signal(sig: c_int) {
    // SAFETY: errno is this thread's; a handler must leave it as it found it.
    let errno = unsafe { *__errno_location() };
    if let Some(slot) = usize::try_from(sig).ok().and_then(|s| SIGNAL_STOPS.get(s)) {
        let stop = slot.load(SeqCst);
        if !stop.is_null() {
            // SAFETY: a slot holds an Arc leaked by stop_on_signal, never freed.
            unsafe { &*stop }.stop();
        }
    }
    unsafe { *__errno_location() = errno };
}

/// From now on signal `sig` stops the instance behind `stop` (a no-op once it is closed).
pub(crate) fn stop_on_signal(stop: &Arc<StopShared>, sig: c_int) -> io::Result<()> {
    let slot = usize::try_from(sig)
        .ok()
        .filter(|&s| s > 0)
        .and_then(|s| SIGNAL_STOPS.get(s))
        .ok_or_else(|| io::Error::from_raw_os_error(EINVAL))?;
    // The handle it replaces is leaked, not freed: a handler may be using it right now.
    slot.store(Arc::into_raw(Arc::clone(stop)) as *mut StopShared, SeqCst);
    // SAFETY: on_signal is async-signal-safe (atomics, bootstrap_stop, errno).
    if unsafe { signal(sig, Some(on_signal)) } == SIG_ERR {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Forks a child that stops itself (SIGSTOP) and, once continued, execs argv (searched in
/// PATH), so that tracing can be set up before it runs a single instruction of its own.
/// Returns its pid once it is stopped. When the exec fails, the child writes `not_found`
/// or `not_run` to stderr and exits 127 (not found) or 126 (found, but not run), as a
/// shell does: the messages are made beforehand, as the child may not allocate.
pub(crate) fn spawn_stopped(argv: &[CString], not_found: &[u8], not_run: &[u8]) -> io::Result<i32> {
    if argv.is_empty() {
        return Err(io::Error::from_raw_os_error(EINVAL));
    }
    let mut args: Vec<*const c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    args.push(ptr::null());
    // SAFETY: the child only makes async-signal-safe calls on memory prepared here (the
    // parent may have other threads, whose locks the child's copy could hold).
    let pid = unsafe { fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        unsafe {
            // The Rust runtime ignores SIGPIPE; a command gets the default, as with
            // std::process::Command.
            signal(SIGPIPE, None);
            raise(SIGSTOP);
            execvp(args[0], args.as_ptr());
            let err = *__errno_location();
            let msg = if err == ENOENT { not_found } else { not_run };
            write(2, msg.as_ptr() as *const c_void, msg.len());
            _exit(if err == ENOENT { 127 } else { 126 });
        }
    }
    match wait(pid, WUNTRACED) {
        // Stopped, as it stops itself (status 0x137f), unless someone killed it.
        Ok(Some(status)) if status & 0xff == 0x7f => Ok(pid),
        Ok(_) => Err(io::Error::from_raw_os_error(ECHILD)),
        Err(e) => {
            kill_and_reap(pid);
            Err(e)
        }
    }
}

/// waitpid(pid, options), retried on EINTR: Some(status), or None (WNOHANG, no change).
fn wait(pid: i32, options: c_int) -> io::Result<Option<c_int>> {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let rc = unsafe { waitpid(pid, &mut status, options) };
        if rc == pid {
            return Ok(Some(status));
        }
        if rc == 0 {
            return Ok(None);
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(EINTR) {
            return Err(err);
        }
    }
}

/// The child's exit status once it has exited: Some(wait status), None while it runs.
pub(crate) fn try_reap(pid: i32) -> io::Result<Option<c_int>> {
    wait(pid, WNOHANG)
}

pub(crate) fn reap(pid: i32) -> io::Result<c_int> {
    wait(pid, 0).map(|s| s.unwrap_or(0))
}

pub(crate) fn resume(pid: i32) -> io::Result<()> {
    // SAFETY: plain syscall.
    if unsafe { kill(pid, SIGCONT) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub(crate) fn kill_and_reap(pid: i32) {
    // SAFETY: plain syscall on our own child.
    unsafe { kill(pid, SIGKILL) };
    let _ = wait(pid, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: *const c_char) -> Option<&'static str> {
        // SAFETY: the C table's strings are static and NUL-terminated, or NULL.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().expect("UTF-8"))
    }

    /// The Rust reflection table and payload layouts say what the C library's say.
    #[test]
    fn reflection_matches_the_c_table() {
        // SAFETY: the table is a static array of N_EVENTS entries.
        let table = unsafe { &bootstrap_events };
        for (c, r) in table.iter().zip(EVENTS.iter()) {
            assert_eq!(c.id, r.id);
            assert_eq!(text(c.type_name), Some(r.type_name));
            assert_eq!(text(c.comment), Some(r.comment));
            assert_eq!(c.payload_size, r.payload_size);
            assert_eq!(c.kind, r.kind as c_int);
            assert_eq!(c.lossy_fields, r.lossy_fields);
            assert_eq!(text(c.target), r.target);
            assert_eq!(c.opt_in, r.opt_in);
            assert_eq!(c.reread_fields, r.reread_fields);
            assert_eq!(c.n_vars as usize, r.n_vars());
            assert_eq!(c.n_fields as usize, r.fields.len());
            for (i, f) in r.fields.iter().enumerate() {
                // SAFETY: fields has n_fields entries.
                let cf = unsafe { &*c.fields.add(i) };
                assert_eq!(text(cf.name), Some(f.name));
                assert_eq!(cf.ty, f.ty as c_int);
                assert_eq!(text(cf.type_name), Some(f.type_name));
                assert_eq!(cf.offset, f.offset);
                assert_eq!(usize::try_from(cf.var_index).ok(), f.var_index);
                assert_eq!(cf.kernel_stack, f.kernel_stack);
            }
        }
    }

    #[test]
    fn strerror_is_the_librarys() {
        assert_eq!(strerror(ECANCELED), "stopped");
        assert!(strerror(1).contains("CAP_BPF"));
    }
}
