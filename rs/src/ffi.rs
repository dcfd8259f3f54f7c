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
pub(crate) const ENOMEM: c_int = 12;
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

/// `struct bootstrap_attach`.
#[repr(C)]
struct Attach {
    event: *const c_char,
    target: *const c_char,
    pid: i32,
}

/// `struct bootstrap_opts`. The library reads `sz` bytes of it: a member it gains later
/// is absent here, and so keeps its default.
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
    attach: *const Attach,
    n_attach: usize,
    aggregate_entries: usize,
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
    symbolizer: *mut CSymbolizer,
}

/// `struct bootstrap_symbolizer`: opaque.
#[repr(C)]
pub(crate) struct CSymbolizer {
    _opaque: [u8; 0],
}

/// `struct bootstrap_symbol`.
#[repr(C)]
struct CSymbol {
    name: *const c_char,
    offset: u64,
    module: *const c_char,
}

/// `struct bootstrap_env`.
#[repr(C)]
struct CEnv {
    root: bool,
    cap_bpf: bool,
    cap_perfmon: bool,
    cap_sys_admin: bool,
    can_trace: bool,
    btf: bool,
    tracefs: *const c_char,
}

/// `struct bootstrap_agg_row`.
#[repr(C)]
struct CAggRow {
    key: *const c_void,
    count: u64,
    sums: *const u64,
    hist: *const u64,
}

/// `struct bootstrap_agg_table`.
#[repr(C)]
struct CAggTable {
    info: *const CAggregationInfo,
    n_rows: usize,
    rows: *const CAggRow,
}

/// `struct bootstrap_aggregates`.
#[repr(C)]
struct CAggregates {
    timestamp_ns: u64,
    interval_ns: u64,
    n_tables: usize,
    tables: *const CAggTable,
}

/// `struct bootstrap_agg_key_info`.
#[repr(C)]
struct CAggKeyInfo {
    name: *const c_char,
    ty: c_int,
    offset: u32,
    size: u32,
    names: *const *const c_char,
    n_names: u32,
}

/// `struct bootstrap_aggregation_info`.
#[repr(C)]
struct CAggregationInfo {
    name: *const c_char,
    event: c_int,
    key_size: u32,
    n_keys: u32,
    keys: *const CAggKeyInfo,
    n_sums: u32,
    sums: *const *const c_char,
    sums_signed: *const bool,
    hist: *const c_char,
    hist_signed: bool,
    value_size: u32,
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
    fn bootstrap_event_folded(ev: *const RawEvent, buf: *mut c_char, cap: usize) -> usize;
    fn bootstrap_select_events(list: *const c_char, selected: *mut bool, bad: *mut c_char, bad_cap: usize) -> c_int;
    fn bootstrap_target_parse(index: c_int, target: *const c_char, why: *mut c_char, cap: usize) -> c_int;
    fn bootstrap_target_check(index: c_int, target: *const c_char, why: *mut c_char, cap: usize) -> c_int;
    fn bootstrap_env_probe(env: *mut CEnv);
    fn bootstrap_tracefs_mount() -> *const c_char;
    fn bootstrap_tracepoint_exists(tracefs: *const c_char, type_name: *const c_char) -> bool;
    fn bootstrap_kind_name(kind: c_int) -> *const c_char;
    fn bootstrap_symbolizer_new() -> *mut CSymbolizer;
    fn bootstrap_symbolizer_free(s: *mut CSymbolizer);
    fn bootstrap_symbolize(s: *mut CSymbolizer, pid: i32, upid: u64, addrs: *const u64, n: usize, out: *mut CSymbol) -> c_int;
    fn bootstrap_frame_format(sym: *const CSymbol, addr: u64, buf: *mut c_char, cap: usize) -> usize;
    fn bootstrap_aggregates_read(b: *mut Bootstrap, view: c_int, out: *mut *mut CAggregates) -> c_int;
    fn bootstrap_aggregates_free(a: *mut CAggregates);
    fn bootstrap_aggregate_json(a: *const CAggregates, t: *const CAggTable, row: usize, buf: *mut c_char, cap: usize) -> usize;
    #[cfg(test)]
    static bootstrap_aggregations: [CAggregationInfo; crate::N_AGGREGATIONS];
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
        // SAFETY: self is the library's event, valid during the callback.
        append_formatted(out, |buf, cap| unsafe { bootstrap_event_json(self, buf, cap) })
    }

    /// Appends the event's folded stacks line (without '\n'); false for an event without
    /// a stack field.
    pub(crate) fn folded(&self, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        // SAFETY: as for json.
        append_formatted(out, |buf, cap| unsafe { bootstrap_event_folded(self, buf, cap) });
        out.len() > start
    }

    /// Frames of a stack field, named by the instance's symbolizer (when it has one).
    pub(crate) fn symbolize(&self, addrs: &[u64], kernel: bool) -> Vec<Frame> {
        let hdr = self.header();
        let pid = if kernel { 0 } else { hdr.pid as i32 };
        // SAFETY: the instance's symbolizer, used by one thread at a time: the one polling.
        symbolize(self.symbolizer, pid, hdr.upid, addrs)
    }
}

/// Appends what `format(buf, cap)` writes, a C function with snprintf's contract (it
/// returns the length it needs without the NUL and writes at most cap bytes), growing
/// `out` until it fits.
fn append_formatted<F: FnMut(*mut c_char, usize) -> usize>(out: &mut Vec<u8>, mut format: F) {
    let start = out.len();
    out.reserve(512);
    loop {
        let cap = out.capacity() - start;
        // SAFETY: the buffer has cap writable bytes past start.
        let need = format(unsafe { out.as_mut_ptr().add(start) } as *mut c_char, cap);
        if need < cap {
            // SAFETY: need bytes were written (the NUL after them is not kept).
            unsafe { out.set_len(start + need) };
            return;
        }
        out.reserve(need + 1);
    }
}

fn c_text(p: *const c_char) -> Option<String> {
    // SAFETY: the library's strings are NUL-terminated (or NULL), valid during the call
    // that returned them; they are copied here.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// A stack frame: its address and, when known, the function, the offset in it and the
/// module it is in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    /// The address as the stack holds it (a return address for every frame but the first).
    pub addr: u64,
    /// The function, or None when unknown.
    pub name: Option<String>,
    /// The address's offset from the function's start; without a name but with a module,
    /// its offset in the module's file; else 0.
    pub offset: u64,
    /// `[kernel]`, `[MODULE]` for a kernel module, the file's name (`libc.so.6`),
    /// `[vdso]`..., or None when unknown.
    pub module: Option<String>,
}

impl std::fmt::Display for Frame {
    /// As the JSON output writes a frame: `name+0xOFF (module)`, `0xADDR (module+0xOFF)` or
    /// `0xADDR` (`bootstrap_frame_format()`).
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let name = self.name.as_deref().map(CString::new).transpose().map_err(|_| std::fmt::Error)?;
        let module = self.module.as_deref().map(CString::new).transpose().map_err(|_| std::fmt::Error)?;
        let sym = CSymbol { name: opt_ptr(name.as_deref()), offset: self.offset, module: opt_ptr(module.as_deref()) };
        let mut text = Vec::new();
        // SAFETY: sym's strings outlive the call.
        append_formatted(&mut text, |buf, cap| unsafe { bootstrap_frame_format(&sym, self.addr, buf, cap) });
        f.write_str(&String::from_utf8_lossy(&text))
    }
}

/// bootstrap_symbolize() of `addrs`, the names copied out (they are valid only until the
/// symbolizer's next call). A null symbolizer names nothing.
fn symbolize(s: *mut CSymbolizer, pid: i32, upid: u64, addrs: &[u64]) -> Vec<Frame> {
    let mut syms: Vec<CSymbol> =
        addrs.iter().map(|_| CSymbol { name: ptr::null(), offset: 0, module: ptr::null() }).collect();
    if !s.is_null() && !addrs.is_empty() {
        // SAFETY: s is a live symbolizer used by this thread only; addrs and syms have
        // addrs.len() entries.
        unsafe { bootstrap_symbolize(s, pid, upid, addrs.as_ptr(), addrs.len(), syms.as_mut_ptr()) };
    }
    addrs
        .iter()
        .zip(&syms)
        .map(|(&addr, sym)| Frame { addr, name: c_text(sym.name), offset: sym.offset, module: c_text(sym.module) })
        .collect()
}

/// A symbolizer of one's own (`bootstrap_symbolizer_new()`), freed on drop.
pub(crate) struct SymbolizerHandle(NonNull<CSymbolizer>);

// SAFETY: a symbolizer has no tie to a thread; &mut self keeps its calls one at a time.
unsafe impl Send for SymbolizerHandle {}

impl SymbolizerHandle {
    pub(crate) fn new() -> Option<SymbolizerHandle> {
        // SAFETY: no precondition; NULL only when out of memory.
        NonNull::new(unsafe { bootstrap_symbolizer_new() }).map(SymbolizerHandle)
    }

    pub(crate) fn symbolize(&mut self, pid: i32, upid: u64, addrs: &[u64]) -> Vec<Frame> {
        symbolize(self.0.as_ptr(), pid, upid, addrs)
    }
}

impl Drop for SymbolizerHandle {
    fn drop(&mut self) {
        // SAFETY: allocated by bootstrap_symbolizer_new, freed once.
        unsafe { bootstrap_symbolizer_free(self.0.as_ptr()) }
    }
}

/// Which events a list of globs selects (bootstrap_select_events); Err(the pattern that
/// selects nothing).
pub(crate) fn select_events(list: Option<&CStr>) -> Result<[bool; crate::N_EVENTS], String> {
    let mut selected = [false; crate::N_EVENTS];
    let mut bad = [0 as c_char; 256];
    // SAFETY: selected has BOOTSTRAP_N_EVENTS entries; bad has bad.len() bytes.
    let err = unsafe { bootstrap_select_events(opt_ptr(list), selected.as_mut_ptr(), bad.as_mut_ptr(), bad.len()) };
    if err != 0 {
        return Err(c_text(bad.as_ptr()).unwrap_or_default());
    }
    Ok(selected)
}

/// bootstrap_target_parse (check = false) or bootstrap_target_check: Err((-errno, why)).
pub(crate) fn target(index: usize, target: Option<&CStr>, check: bool) -> Result<(), (c_int, String)> {
    let mut why = [0 as c_char; 512];
    let f = if check { bootstrap_target_check } else { bootstrap_target_parse };
    // SAFETY: index is an event index (below BOOTSTRAP_N_EVENTS, which the library checks
    // too); why has why.len() bytes and comes back NUL-terminated.
    let err = unsafe { f(index as c_int, opt_ptr(target), why.as_mut_ptr(), why.len()) };
    match err {
        0 => Ok(()),
        err => Err((err, c_text(why.as_ptr()).unwrap_or_default())),
    }
}

/// What bootstrap_env_probe() finds.
pub(crate) fn env_probe() -> crate::Env {
    let mut e = CEnv { root: false, cap_bpf: false, cap_perfmon: false, cap_sys_admin: false, can_trace: false, btf: false, tracefs: ptr::null() };
    // SAFETY: e is a valid out struct; tracefs points to a static string or is NULL.
    unsafe { bootstrap_env_probe(&mut e) };
    crate::Env {
        root: e.root,
        cap_bpf: e.cap_bpf,
        cap_perfmon: e.cap_perfmon,
        cap_sys_admin: e.cap_sys_admin,
        can_trace: e.can_trace,
        btf: e.btf,
        tracefs: c_text(e.tracefs),
    }
}

pub(crate) fn tracefs_mount() -> Option<String> {
    // SAFETY: returns a static string or NULL.
    c_text(unsafe { bootstrap_tracefs_mount() })
}

pub(crate) fn tracepoint_exists(tracefs: &CStr, type_name: &CStr) -> bool {
    // SAFETY: both strings outlive the call.
    unsafe { bootstrap_tracepoint_exists(tracefs.as_ptr(), type_name.as_ptr()) }
}

pub(crate) fn kind_name(kind: crate::Kind) -> String {
    // SAFETY: a static string for any kind.
    c_text(unsafe { bootstrap_kind_name(kind as c_int) }).unwrap_or_default()
}

/// A snapshot of the aggregations (`struct bootstrap_aggregates`), freed on drop. Its
/// tables and rows borrow it.
pub(crate) struct AggSnapshot(NonNull<CAggregates>);

// SAFETY: the snapshot is plain memory the caller owns, read-only from here.
unsafe impl Send for AggSnapshot {}
unsafe impl Sync for AggSnapshot {}

/// One table of a snapshot: its aggregation and rows.
pub(crate) struct AggTableRef<'a> {
    pub(crate) aggregation: crate::AggregationType,
    raw: &'a CAggTable,
}

/// One row: key bytes, count, sums, histogram.
pub(crate) struct AggRowRef<'a> {
    pub(crate) key: &'a [u8],
    pub(crate) count: u64,
    pub(crate) sums: &'a [u64],
    pub(crate) hist: Option<&'a [u64]>,
}

/// Which aggregation of the Rust table the C one is: the same name on the same event.
fn aggregation_of(info: &CAggregationInfo) -> Option<crate::AggregationType> {
    let name = c_text(info.name).unwrap_or_default();
    crate::AggregationType::ALL
        .iter()
        .copied()
        .find(|a| a.info().name == name && a.info().event.index() as c_int == info.event)
}

impl AggSnapshot {
    pub(crate) fn tables(&self) -> Vec<AggTableRef<'_>> {
        // SAFETY: the snapshot is ours until drop; tables has n_tables entries.
        let a = unsafe { self.0.as_ref() };
        let tables = if a.n_tables == 0 { &[][..] } else { unsafe { slice::from_raw_parts(a.tables, a.n_tables) } };
        tables
            .iter()
            .map(|t| {
                // SAFETY: info points at one of the generated tables, the crate's own (same schema).
                let aggregation = aggregation_of(unsafe { &*t.info }).expect("the library's aggregation is the crate's");
                AggTableRef { aggregation, raw: t }
            })
            .collect()
    }

    pub(crate) fn timestamp_ns(&self) -> u64 {
        // SAFETY: as in tables.
        unsafe { self.0.as_ref() }.timestamp_ns
    }

    pub(crate) fn interval_ns(&self) -> u64 {
        unsafe { self.0.as_ref() }.interval_ns
    }

    /// Appends row `row` of `table` as its NDJSON line, '\n' included.
    pub(crate) fn row_json(&self, table: &AggTableRef<'_>, row: usize, out: &mut Vec<u8>) {
        assert!(row < table.raw.n_rows, "no row {}", row);
        // SAFETY: table is one of this snapshot's and row is in range.
        append_formatted(out, |buf, cap| unsafe { bootstrap_aggregate_json(self.0.as_ptr(), table.raw, row, buf, cap) })
    }
}

impl<'a> AggTableRef<'a> {
    pub(crate) fn rows(&self) -> Vec<AggRowRef<'a>> {
        let t = self.raw;
        // SAFETY: info is static; rows has n_rows entries, each pointing to key_size key
        // bytes, n_sums sums and, with a histogram, the rest of value_size in buckets,
        // all owned by the snapshot 'a borrows.
        let info = unsafe { &*t.info };
        let rows = if t.n_rows == 0 { &[][..] } else { unsafe { slice::from_raw_parts(t.rows, t.n_rows) } };
        let n_sums = info.n_sums as usize;
        let n_hist = (info.value_size as usize / 8).saturating_sub(1 + n_sums);
        rows.iter()
            .map(|r| unsafe {
                AggRowRef {
                    key: slice::from_raw_parts(r.key as *const u8, info.key_size as usize),
                    count: r.count,
                    sums: if n_sums == 0 { &[] } else { slice::from_raw_parts(r.sums, n_sums) },
                    hist: (!r.hist.is_null() && n_hist > 0).then(|| slice::from_raw_parts(r.hist, n_hist)),
                }
            })
            .collect()
    }

    pub(crate) fn n_rows(&self) -> usize {
        self.raw.n_rows
    }
}

impl Drop for AggSnapshot {
    fn drop(&mut self) {
        // SAFETY: allocated by bootstrap_aggregates_read, freed once.
        unsafe { bootstrap_aggregates_free(self.0.as_ptr()) }
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
    /// (event, target, pid) of each run-time target.
    pub(crate) attach: &'a [(&'a CStr, Option<&'a CStr>, i32)],
    pub(crate) aggregate_entries: usize,
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
        let attach: Vec<Attach> = p
            .attach
            .iter()
            .map(|(event, target, pid)| Attach { event: event.as_ptr(), target: opt_ptr(*target), pid: *pid })
            .collect();
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
            attach: if attach.is_empty() { ptr::null() } else { attach.as_ptr() },
            n_attach: attach.len(),
            aggregate_entries: p.aggregate_entries,
        };
        let mut b = ptr::null_mut();
        // SAFETY: opts and the strings, pids and targets it points to outlive the call; the log
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

    pub(crate) fn aggregates(&mut self, view: crate::AggView) -> Result<AggSnapshot, c_int> {
        let mut a = ptr::null_mut();
        // SAFETY: b is open; &mut self keeps reads one at a time; a is an out pointer.
        let err = unsafe { bootstrap_aggregates_read(self.b.as_ptr(), view as c_int, &mut a) };
        self.rethrow_log_panic();
        match NonNull::new(a) {
            Some(a) if err == 0 => Ok(AggSnapshot(a)),
            _ => Err(if err < 0 { err } else { -EINVAL }),
        }
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

    fn texts(p: *const *const c_char, n: usize) -> Vec<&'static str> {
        // SAFETY: an array of n static strings (or NULL when n is 0).
        (0..n).map(|i| text(unsafe { *p.add(i) }).expect("a string")).collect()
    }

    /// The Rust aggregation table says what the C one says, and finds each C entry.
    #[test]
    fn aggregations_match_the_c_table() {
        // SAFETY: the table is a static array of N_AGGREGATIONS entries.
        let table = unsafe { &bootstrap_aggregations };
        for (c, r) in table.iter().zip(crate::AGGREGATIONS.iter()) {
            assert_eq!(text(c.name), Some(r.name));
            assert_eq!(c.event as usize, r.event.index());
            assert_eq!(c.key_size, r.key_size);
            assert_eq!(c.n_keys as usize, r.keys.len());
            for (i, k) in r.keys.iter().enumerate() {
                // SAFETY: keys has n_keys entries.
                let ck = unsafe { &*c.keys.add(i) };
                assert_eq!((text(ck.name), ck.ty, ck.offset, ck.size), (Some(k.name), k.ty as c_int, k.offset, k.size));
                assert_eq!(texts(ck.names, ck.n_names as usize), k.names);
            }
            assert_eq!(texts(c.sums, c.n_sums as usize), r.sums);
            // SAFETY: sums_signed has n_sums entries.
            let signed: Vec<bool> = (0..c.n_sums as usize).map(|i| unsafe { *c.sums_signed.add(i) }).collect();
            assert_eq!(signed, r.sums_signed);
            assert_eq!((text(c.hist), c.hist_signed), (r.hist, r.hist_signed));
            assert_eq!(aggregation_of(c).map(|a| a.info().name), Some(r.name));
        }
    }

    #[test]
    fn strerror_is_the_librarys() {
        assert_eq!(strerror(ECANCELED), "stopped");
        assert!(strerror(1).contains("CAP_BPF"));
    }
}
