//! target.rs: what a tracer can attach to, asked before opening one: the events a list
//! of globs selects, whether a target is written right or present on this machine, and
//! what the machine offers for tracing.

use std::ffi::CString;

use crate::{ffi, Error, EventType, Kind};

fn c_string(s: &str, what: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::nul_byte(what))
}

/// The events a list of globs selects, the rule of [`Options::events`]: patterns
/// separated by commas or spaces; one with `/` matches `category/name`, one without the
/// name alone; None selects every event but the opt-in ones. A pattern that selects
/// nothing is an error (EINVAL) that names it.
///
/// ```
/// let events = bootstrap::select_events(Some("syscalls/sys_enter_openat")).unwrap();
/// assert_eq!(events.len(), 1);
/// assert!(bootstrap::select_events(Some("no/such_event")).is_err());
/// ```
///
/// [`Options::events`]: crate::Options::events
pub fn select_events(list: Option<&str>) -> Result<Vec<EventType>, Error> {
    let list = list.map(|l| c_string(l, "events")).transpose()?;
    match ffi::select_events(list.as_deref()) {
        Ok(selected) => Ok(EventType::ALL.iter().copied().filter(|t| selected[t.index()]).collect()),
        Err(bad) => Err(Error::with_message(ffi::EINVAL, format!("no event matches '{}'", bad))),
    }
}

impl EventType {
    /// Whether `target` is written right for this event (see [`Options::attach`]; None:
    /// its declared one), without looking at this machine. The error says why: EINVAL
    /// or ENAMETOOLONG for a malformed target, ENOENT for a run-time-only event without
    /// one, ENOTSUP when this kernel lacks the event's kind altogether.
    ///
    /// [`Options::attach`]: crate::Options::attach
    pub fn parse_target(self, target: Option<&str>) -> Result<(), Error> {
        self.target_call(target, false)
    }

    /// Whether this event can attach here to `target` (None: its declared one): the
    /// error's message says why not ("this kernel has no kprobes ...", "library
    /// libssl.so.3 not found ...", "... has no function symbol ...").
    ///
    /// ```no_run
    /// for event in bootstrap::EventType::ALL {
    ///     if let Err(e) = event.check_target(None) {
    ///         println!("{}: {}", event.name(), e);
    ///     }
    /// }
    /// ```
    pub fn check_target(self, target: Option<&str>) -> Result<(), Error> {
        self.target_call(target, true)
    }

    fn target_call(self, target: Option<&str>, check: bool) -> Result<(), Error> {
        let target = target.map(|t| c_string(t, "target")).transpose()?;
        ffi::target(self.index(), target.as_deref(), check).map_err(|(err, why)| Error::with_message(-err, why))
    }
}

impl Kind {
    /// The kind's name as events.toml writes it: "tracepoint", "kprobe", "uprobe"...
    pub fn name(self) -> String {
        ffi::kind_name(self)
    }
}

/// What this machine offers for tracing (`struct bootstrap_env`), found without changing
/// anything.
///
/// ```
/// let env = bootstrap::Env::probe();
/// println!("can trace: {}, BTF: {}", env.can_trace, env.btf);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    /// Running as root.
    pub root: bool,
    /// CAP_BPF is effective.
    pub cap_bpf: bool,
    /// CAP_PERFMON is effective.
    pub cap_perfmon: bool,
    /// CAP_SYS_ADMIN is effective.
    pub cap_sys_admin: bool,
    /// Root, CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON.
    pub can_trace: bool,
    /// /sys/kernel/btf/vmlinux is readable.
    pub btf: bool,
    /// The mounted tracefs root.
    pub tracefs: Option<String>,
}

impl Env {
    /// Looks at this process and machine (`bootstrap_env_probe()`).
    pub fn probe() -> Env {
        ffi::env_probe()
    }
}

/// The tracefs root, mounting tracefs at /sys/kernel/tracing first when it is not
/// mounted (as opening a tracer does; needs CAP_SYS_ADMIN); None when that fails.
pub fn tracefs_mount() -> Option<String> {
    ffi::tracefs_mount()
}

/// Whether tracepoint `category/name` exists under the tracefs root `tracefs`.
pub fn tracepoint_exists(tracefs: &str, type_name: &str) -> bool {
    match (CString::new(tracefs), CString::new(type_name)) {
        (Ok(root), Ok(name)) => ffi::tracepoint_exists(&root, &name),
        _ => false,
    }
}
