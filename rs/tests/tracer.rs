//! tracer.rs: the safe API against the real library. Tests that load BPF programs need
//! root and kernel BTF: without them they say SKIPPED, or fail when REQUIRE_BPF=1 (as
//! tests/require_bpf.sh does for the C tests). The unprivileged open runs as nobody.

use std::env;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::panic::{self, AssertUnwindSafe};
use std::os::raw::{c_char, c_int, c_void};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use bootstrap::{signal, EventType, FieldType, Flow, Options, Payload, Tracee, Tracer};

/// Set in the copy of this test binary that runs as nobody.
const UNPRIVILEGED: &str = "BOOTSTRAP_TEST_UNPRIVILEGED";
/// Only a hang fails on this: nothing here measures how long anything takes.
const HANG: Duration = Duration::from_secs(60);

fn is_root() -> bool {
    // /proc/self belongs to the process's effective uid.
    fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// Whether this machine can run a BPF test; without it, a SKIPPED line, or a failure
/// under REQUIRE_BPF=1.
fn can_trace(test: &str) -> bool {
    if is_root() && fs::File::open("/sys/kernel/btf/vmlinux").is_ok() {
        return true;
    }
    let why = "needs root and kernel BTF (/sys/kernel/btf/vmlinux)";
    assert!(env::var("REQUIRE_BPF").as_deref() != Ok("1"), "{} {}, and REQUIRE_BPF=1", test, why);
    // Straight to stderr: the harness captures eprintln!, and a skip must be seen.
    let _ = writeln!(io::stderr(), "SKIPPED: {} {} (REQUIRE_BPF=1 makes this a failure)", test, why);
    false
}

/// Polls until `done` says so, the trace ends, or HANG passes.
fn poll_until(tracer: &mut Tracer, mut on_event: impl FnMut(&bootstrap::Event) -> bool) -> bool {
    let deadline = Instant::now() + HANG;
    let mut done = false;
    while !done && Instant::now() < deadline {
        let polled = tracer.poll(Some(Duration::from_millis(100)), |ev| {
            done = on_event(ev);
            if done {
                Flow::Break
            } else {
                Flow::Continue
            }
        });
        if polled.expect("poll").is_none() {
            return done;
        }
    }
    done
}

#[test]
fn open_without_privilege_says_why() {
    if env::var_os(UNPRIVILEGED).is_some() || !is_root() {
        let err = Tracer::open(Options::new()).err().expect("open fails without privilege");
        assert_eq!(err.errno(), 1, "EPERM: {}", err);
        assert_eq!(err.to_string(), "tracing needs root, or CAP_BPF and CAP_PERFMON (run it with sudo)");
        assert!(io_error_kind_is_permission(err));
        return;
    }
    // As root: the same test, again, in this binary run as nobody without capabilities.
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"])
        .arg(env::current_exe().expect("test binary"))
        .args(["--exact", "open_without_privilege_says_why", "--test-threads=1"])
        .env(UNPRIVILEGED, "1")
        .output()
        .expect("setpriv (util-linux) runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "as nobody: {}\n{}", stdout, String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("1 passed"), "as nobody: {}", stdout);
}

fn io_error_kind_is_permission(err: bootstrap::Error) -> bool {
    io::Error::from(err).kind() == io::ErrorKind::PermissionDenied
}

#[test]
fn bad_options_fail_with_the_librarys_reason() {
    if !can_trace("bad_options_fail_with_the_librarys_reason") {
        return;
    }
    let cases = [
        (Options::new().events("nosuchcategory/*"), "nosuchcategory/*"),
        (Options::new().arena_bytes_per_cpu(4096), "below the minimum"),
        (Options::new().comm("a-comm-of-more-than-15-bytes"), "longer than the kernel's 15 bytes"),
    ];
    for (opts, reason) in cases {
        let err = Tracer::open(opts).err().expect("refused");
        assert_eq!(err.errno(), 22, "EINVAL: {}", err);
        assert!(err.to_string().contains(reason), "{:?} lacks {:?}", err.to_string(), reason);
    }
}

/// A child's open of a known path comes back typed: the pid, the file name read in place,
/// the exit's fd; the trace starts at its exec; stats count what was delivered.
#[test]
fn typed_events_of_a_traced_command() {
    if !can_trace("typed_events_of_a_traced_command") {
        return;
    }
    // cat opens /dev/null and prints nothing, so the test's output stays clean.
    let path = "/dev/null";
    let mut child = Tracee::spawn(&["cat", path]).expect("spawn");
    let opts = Options::new().events("syscalls/*_openat,syscalls/sys_enter_execve").pid(child.pid()).follow(true);
    let mut tracer = Tracer::open(opts).expect("open");
    child.resume().expect("resume");
    let (mut first, mut opened, mut returned, mut delivered) = (None, false, false, 0u64);
    let mut line = Vec::new();
    let done = poll_until(&mut tracer, |ev| {
        delivered += 1;
        first.get_or_insert(ev.event_type());
        assert_eq!(ev.header().pid as i32, child.pid());
        match ev.payload() {
            Payload::SyscallsSysEnterOpenat(open) if open.filename.bytes() == path.as_bytes() => {
                assert!(!open.filename.is_truncated() && !open.filename.is_lost());
                assert_eq!(open.dfd, -100, "AT_FDCWD");
                assert_eq!(ev.comm(), b"cat");
                ev.write_json(&mut line);
                opened = true;
            }
            Payload::SyscallsSysExitOpenat(exit) if opened && !returned => {
                assert!(exit.ret >= 0, "an fd: {}", exit.ret);
                returned = true;
            }
            _ => {}
        }
        returned
    });
    assert!(done, "the open of {} and its exit were not seen", path);
    assert_eq!(first, Some(EventType::SyscallsSysEnterExecve));
    let line = String::from_utf8(line).expect("UTF-8");
    assert!(line.starts_with("{\"event_id\":1024,\"event_type\":\"syscalls/sys_enter_openat\",") && line.ends_with("}\n"), "{}", line);
    assert!(line.contains(&format!("\"filename\":\"{}\"", path)), "{}", line);
    let stats = tracer.stats().expect("stats");
    assert_eq!(stats.total.delivered, delivered);
    assert!(stats.event(EventType::SyscallsSysEnterOpenat).delivered >= 1);
    assert_eq!(stats.total.ringbuf_full, 0);
    assert!(stats.map_bytes > 0);
    assert_eq!(child.wait().expect("wait").code(), Some(0));
}

/// Stopping from another thread ends a poll blocked without timeout; once the tracer is
/// closed, the handle does nothing.
#[test]
fn stop_from_another_thread() {
    if !can_trace("stop_from_another_thread") {
        return;
    }
    // Traces this test's own process, which makes no open meanwhile: nothing to deliver.
    let mut tracer = Tracer::open(Options::new().events("syscalls/sys_enter_openat").pid(std::process::id() as i32)).expect("open");
    let stop = tracer.stop_handle();
    let stopper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        stop.stop();
        stop
    });
    // Without a timeout a poll still returns at every wake-up period (Some) until the stop.
    let deadline = Instant::now() + HANG;
    while tracer.poll(None, |_| ()).expect("poll").is_some() {
        assert!(Instant::now() < deadline, "the stop did not end the trace");
    }
    // A stopped tracer stays stopped.
    assert_eq!(tracer.poll(None, |_| ()).expect("poll"), None);
    assert_eq!(tracer.poll(Some(Duration::ZERO), |_| ()).expect("poll"), None);
    let stop = stopper.join().expect("stopper");
    drop(tracer);
    stop.stop();
}

/// A signal handler stops the tracer, and the poll after it returns None.
#[test]
fn stop_from_a_signal_handler() {
    if !can_trace("stop_from_a_signal_handler") {
        return;
    }
    let mut tracer = Tracer::open(Options::new().events("syscalls/sys_enter_openat").pid(std::process::id() as i32)).expect("open");
    tracer.stop_handle().stop_on_signals(&[signal::SIGHUP]).expect("handler");
    let status = Command::new("kill").args(["-HUP", &std::process::id().to_string()]).status().expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + HANG;
    while tracer.poll(Some(Duration::from_millis(100)), |_| ()).expect("poll").is_some() {
        assert!(Instant::now() < deadline, "SIGHUP did not stop the tracer");
    }
}

#[test]
fn stop_on_a_signal_that_cannot_be_caught_fails() {
    if !can_trace("stop_on_a_signal_that_cannot_be_caught_fails") {
        return;
    }
    let tracer = Tracer::open(Options::new().events("syscalls/sys_enter_openat").pid(std::process::id() as i32)).expect("open");
    let err = tracer.stop_handle().stop_on_signals(&[9]).expect_err("SIGKILL");
    assert_eq!(err.raw_os_error(), Some(22));
    assert_eq!(tracer.stop_handle().stop_on_signals(&[0]).expect_err("0").raw_os_error(), Some(22));
    assert_eq!(tracer.stop_handle().stop_on_signals(&[65]).expect_err("65").raw_os_error(), Some(22));
}

/// The raw fd is the library's epoll fd; excluding pid 0 is refused; a panic in the
/// closure reaches the caller and leaves the tracer usable.
#[test]
fn fd_exclusions_and_panics() {
    if !can_trace("fd_exclusions_and_panics") {
        return;
    }
    let mut child = Tracee::spawn(&["true"]).expect("spawn");
    let mut tracer = Tracer::open(Options::new().events("syscalls/sys_enter_execve").pid(child.pid())).expect("open");
    let fd = tracer.as_raw_fd();
    let link = fs::read_link(format!("/proc/self/fd/{}", fd)).expect("fd");
    assert_eq!(link, Path::new("anon_inode:[eventpoll]"));
    assert_eq!(tracer.exclude_pid(0, true).expect_err("pid 0").errno(), 22);
    child.resume().expect("resume");
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        poll_until(&mut tracer, |_| panic!("from the closure"));
    }));
    let message = caught.expect_err("the panic reaches the caller");
    assert_eq!(message.downcast_ref::<&str>(), Some(&"from the closure"));
    assert!(tracer.stats().expect("stats").total.delivered >= 1);
    child.wait().expect("wait");
}

/// A command that cannot be run exits 127 (not found) with the reason, as in a shell; one
/// dropped before it was resumed is killed.
#[test]
fn tracee_exit_statuses() {
    let mut missing = Tracee::spawn(&["/nonexistent/bootstrap-rs-command"]).expect("spawn");
    missing.resume().expect("resume");
    assert_eq!(missing.wait().expect("wait").code(), Some(127));
    assert_eq!(missing.try_wait().expect("again").and_then(|s| s.code()), Some(127));
    let stopped = Tracee::spawn(&["true"]).expect("spawn");
    let proc_dir = format!("/proc/{}", stopped.pid());
    assert!(Path::new(&proc_dir).exists());
    drop(stopped);
    assert!(!Path::new(&proc_dir).exists(), "a dropped stopped child is killed and reaped");
}

/// Stops a tracer and hands `f` every event it delivers until it has delivered all.
fn drain(tracer: &mut Tracer, mut f: impl FnMut(&bootstrap::Event)) {
    tracer.stop_handle().stop();
    while tracer.poll(Some(Duration::from_millis(100)), |ev| f(ev)).expect("poll").is_some() {}
}

/// libbpf's C API, as an agent calls it (libbpf-sys declares the same functions).
mod libbpf {
    use std::os::raw::{c_char, c_int, c_void};

    pub const WARN: c_int = 0; // LIBBPF_WARN
    pub type PrintFn = unsafe extern "C" fn(c_int, *const c_char, *mut c_void) -> c_int;

    extern "C" {
        pub fn libbpf_major_version() -> u32;
        pub fn libbpf_set_print(f: Option<PrintFn>) -> Option<PrintFn>;
        pub fn bpf_object__open_mem(buf: *const c_void, size: usize, opts: *const c_void) -> *mut c_void;
    }
}

static LIBBPF_WARNINGS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn count_libbpf_warnings(level: c_int, _fmt: *const c_char, _args: *mut c_void) -> c_int {
    if level == libbpf::WARN {
        LIBBPF_WARNINGS.fetch_add(1, SeqCst);
    }
    0
}

/// An agent that calls libbpf itself beside the crate (as one on libbpf-sys with its
/// `novendor` feature does): one libbpf in the process, the system's. The agent's log
/// hook gets libbpf's warnings about its own broken object while a tracer is open, and
/// the tracer traces the agent's child.
#[test]
fn agent_with_its_own_libbpf() {
    if !can_trace("agent_with_its_own_libbpf") {
        return;
    }
    // SAFETY: plain libbpf calls; the hook is a function that lives as long as the process.
    assert_eq!(unsafe { libbpf::libbpf_major_version() }, 1);
    let previous = unsafe { libbpf::libbpf_set_print(Some(count_libbpf_warnings)) };
    let mut child = Tracee::spawn(&["true"]).expect("spawn");
    let mut tracer = Tracer::open(Options::new().events("syscalls/sys_enter_execve").pid(child.pid())).expect("open");
    let broken = b"\x7fELF, not really";
    // SAFETY: buf and size describe the bytes above; NULL opts are libbpf's defaults.
    let obj = unsafe { libbpf::bpf_object__open_mem(broken.as_ptr() as *const c_void, broken.len(), std::ptr::null()) };
    assert!(obj.is_null());
    assert!(LIBBPF_WARNINGS.load(SeqCst) > 0, "the agent's log hook got no warning");
    child.resume().expect("resume");
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    assert!(poll_until(&mut tracer, |ev| ev.event_type() == EventType::SyscallsSysEnterExecve));
    // SAFETY: as above.
    unsafe { libbpf::libbpf_set_print(previous) };
}

/// A run-time uprobe with a pid: a generic probe on libc's malloc fires in that process
/// only, and names its target.
#[test]
fn uprobe_target_with_a_pid() {
    if !can_trace("uprobe_target_with_a_pid") {
        return;
    }
    let probe = EventType::from_name("probe/uprobe").expect("events.toml has probe/uprobe");
    let target = "libc.so.6:malloc";
    probe.parse_target(Some(target)).expect("well-formed");
    assert_eq!(probe.parse_target(Some("libc.so.6:")).expect_err("no function").errno(), 22);
    let mut child = Tracee::spawn(&["cat", "/dev/null"]).expect("spawn");
    let opts = Options::new().events("probe/uprobe").attach(probe, Some(target), child.pid());
    let mut tracer = Tracer::open(opts).expect("open");
    child.resume().expect("resume");
    child.wait().expect("wait");
    let mut calls = 0;
    drain(&mut tracer, |ev| {
        assert_eq!(ev.header().pid as i32, child.pid());
        match ev.payload() {
            Payload::ProbeUprobe(call) => assert_eq!(call.target.bytes(), target.as_bytes()),
            other => panic!("{:?}", other),
        }
        calls += 1;
    });
    assert!(calls > 0, "cat called malloc");
}

/// A sample's stacks as frames and as its folded line: the line is the comm, then the
/// user frames and the kernel ones, outermost first, as `stack()` names them.
#[test]
fn stacks_as_frames_and_folded() {
    if !can_trace("stacks_as_frames_and_folded") {
        return;
    }
    let mut child = Tracee::spawn(&["sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"]).expect("spawn");
    let opts = Options::new().events("profile/cpu").pid(child.pid()).sampling_frequency(997);
    let mut tracer = Tracer::open(opts).expect("open");
    child.resume().expect("resume");
    let mut checked = 0;
    let done = poll_until(&mut tracer, |ev| {
        let mut expected = String::from_utf8_lossy(ev.comm()).into_owned();
        for kernel in [false, true] {
            for (i, field) in ev.info().fields.iter().enumerate() {
                if field.ty != FieldType::Stack || field.kernel_stack != kernel {
                    continue;
                }
                let frames = match ev.stack(i) {
                    Some(frames) => frames,
                    None => {
                        expected += ";[lost]";
                        continue;
                    }
                };
                let addrs: Vec<u64> = ev.var(field.var_index.expect("a variable field")).bytes().chunks(8).map(|b| u64::from_ne_bytes(b.try_into().unwrap())).collect();
                assert_eq!(frames.iter().map(|f| f.addr).collect::<Vec<_>>(), addrs);
                for frame in frames.iter().rev() {
                    let name = match (&frame.name, &frame.module) {
                        (Some(name), _) => name.clone(),
                        (None, Some(module)) => format!("[{}]", module),
                        (None, None) => "[unknown]".into(),
                    };
                    if let Some(name) = &frame.name {
                        assert!(frame.to_string().starts_with(&format!("{}+0x", name)), "{}", frame);
                    }
                    expected += &format!(";{}{}", name, if kernel { "_[k]" } else { "" });
                }
            }
        }
        let mut line = Vec::new();
        assert!(ev.write_folded(&mut line));
        assert_eq!(String::from_utf8_lossy(&line), expected);
        checked += 1;
        checked == 5
    });
    assert!(done, "5 samples of a busy shell");
    child.wait().expect("wait");
}
