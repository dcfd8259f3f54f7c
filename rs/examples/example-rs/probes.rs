//! probes.rs: the probe options (--kprobe, --kretprobe, --uprobe, --uretprobe,
//! --tracepoint, --binary, --uprobe-pid, --iface) as the crate's run-time targets, with
//! ./example's rules: each probe option is a target of the generic event probe/KIND;
//! --binary, --uprobe-pid and --iface are targets of the selected events they concern.

use bootstrap::{select_events, EventType, Kind, Options};

use crate::options::Usage;

#[derive(Default)]
pub struct Probes {
    /// (event, target, pid), for `Options::attach`.
    pub attach: Vec<(EventType, Option<String>, i32)>,
    pub binary: Option<String>,
    pub iface: Option<String>,
    pub pids: Vec<i32>,
}

fn is_uprobe(kind: Kind) -> bool {
    matches!(kind, Kind::Uprobe | Kind::Uretprobe)
}

impl Probes {
    /// --KIND TARGET: a target of probe/KIND, checked for form only (a target missing on
    /// this machine is the library's warning, not a usage error).
    pub fn add(&mut self, kind: &str, target: &str) -> Result<(), Usage> {
        let event = EventType::from_name(&format!("probe/{}", kind)).ok_or_else(|| {
            format!("--{} needs the event probe/{}, which this build's events.toml lacks", kind, kind)
        })?;
        event.parse_target(Some(target)).map_err(|e| format!("--{}: {}", kind, e))?;
        self.attach.push((event, Some(target.to_owned()), 0));
        Ok(())
    }

    /// Once every option is in: --iface targets the selected xdp events; without -e only
    /// the probes are traced; --binary and --uprobe-pid target the selected uprobe events.
    pub fn finish(&mut self, events: &mut Option<String>) -> Result<(), Usage> {
        if let Some(iface) = &self.iface {
            for t in selected(events) {
                if t.info().kind == Kind::Xdp {
                    self.attach.push((t, Some(iface.clone()), 0));
                }
            }
        }
        if events.is_none() && !self.attach.is_empty() {
            let mut names: Vec<&str> = Vec::new();
            for (t, _, _) in &self.attach {
                if !names.contains(&t.name()) {
                    names.push(t.name());
                }
            }
            *events = Some(names.join(","));
        }
        if let Some(binary) = self.binary.clone() {
            let before = self.attach.len();
            for t in selected(events) {
                if is_uprobe(t.info().kind) && t.info().target.is_some() {
                    self.attach.push((t, Some(binary.clone()), 0));
                }
            }
            if self.attach.len() == before {
                return Err(format!(
                    "--binary '{}' replaces the binary of the selected uprobe events of events.toml, and none is selected",
                    binary
                ));
            }
        }
        if !self.pids.is_empty() {
            self.apply_pids(events)?;
        }
        Ok(())
    }

    /// --uprobe-pid: every uprobe target, given or declared, once per process.
    fn apply_pids(&mut self, events: &Option<String>) -> Result<(), Usage> {
        for t in selected(events) {
            if is_uprobe(t.info().kind) && t.info().target.is_some() && !self.attach.iter().any(|(e, _, _)| *e == t) {
                self.attach.push((t, None, 0));
            }
        }
        let mut more = Vec::new();
        for (event, target, pid) in &mut self.attach {
            if !is_uprobe(event.info().kind) {
                continue;
            }
            *pid = self.pids[0];
            more.extend(self.pids[1..].iter().map(|&p| (*event, target.clone(), p)));
        }
        self.attach.extend(more);
        if self.attach.iter().all(|(_, _, pid)| *pid == 0) {
            return Err("--uprobe-pid restricts uprobes to a process, and no uprobe is selected".into());
        }
        Ok(())
    }

    pub fn apply(&self, mut opts: Options) -> Options {
        for (event, target, pid) in &self.attach {
            opts = opts.attach(*event, target.as_deref(), *pid);
        }
        opts
    }
}

/// The events the list (None: the default selection) selects; checked already.
fn selected(events: &Option<String>) -> Vec<EventType> {
    select_events(events.as_deref()).unwrap_or_default()
}
