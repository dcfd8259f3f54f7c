//! report.rs: --stats, ./example's table of the library's delivery and loss counters on
//! stderr: every counter of BOOTSTRAP_KCOUNTERS (the crate's KCOUNTERS), zero or not, so
//! that delivered + the losses account for every event the kernel saw.

use std::time::Instant;

use bootstrap::{EventStats, EventType, Stats, Tracer, KCOUNTERS};

pub struct Report {
    started: Instant,
    last: Stats,
}

fn read(tracer: &Tracer) -> Option<Stats> {
    tracer.stats().map_err(|e| eprintln!("example-rs: reading the counters failed: {}", e)).ok()
}

fn column_width(name: &str) -> usize {
    (name.len() + 1).max(11)
}

fn row(name: &str, e: &EventStats) {
    let mut line = format!("  {:<42} {:>10}", name, e.delivered);
    for ((counter, _), value) in KCOUNTERS.iter().zip(e.kcounters()) {
        line += &format!("{:>1$}", value, column_width(counter));
    }
    eprintln!("{}", line);
}

fn per_run(what: &str, runs: u64, ns: u64) -> String {
    format!("{} {} runs, {:.0} ns/run", what, runs, if runs != 0 { ns as f64 / runs as f64 } else { 0.0 })
}

/// The kernel's time per program run, when it measures it (kernel.bpf_stats_enabled=1).
fn program_times(s: &Stats) {
    if s.total.handler_ns == 0 && s.total.companion_ns == 0 {
        return;
    }
    eprintln!("  kernel time per program run (kernel.bpf_stats_enabled=1):");
    for t in EventType::ALL {
        let e = s.event(t);
        if e.handler_runs == 0 && e.companion_runs == 0 {
            continue;
        }
        let mut line = format!("    {}: {}", t.name(), per_run("handler", e.handler_runs, e.handler_ns));
        if e.companion_runs != 0 {
            line += &format!("; {}", per_run("companion", e.companion_runs, e.companion_ns));
        }
        eprintln!("{}", line);
    }
}

impl Report {
    pub fn start() -> Report {
        Report { started: Instant::now(), last: Stats::default() }
    }

    /// -v --stats, every second: the counts since the previous line.
    pub fn tick(&mut self, tracer: &Tracer) {
        let s = match read(tracer) {
            Some(s) => s,
            None => return,
        };
        let (now, last) = (s.total.kcounters(), self.last.total.kcounters());
        let mut line = format!(
            "example-rs: {:.0}s delivered {} (+{})",
            self.started.elapsed().as_secs_f64(),
            s.total.delivered,
            s.total.delivered - self.last.total.delivered
        );
        // [0] is emitted, not a loss.
        for (i, (name, _)) in KCOUNTERS.iter().enumerate().skip(1) {
            line += &format!(", {} +{}", name, now[i] - last[i]);
        }
        eprintln!("{}", line);
        self.last = s;
    }

    /// The summary at exit: per event type, then totals and every loss counter.
    pub fn summary(&self, tracer: &Tracer) {
        let s = match read(tracer) {
            Some(s) => s,
            None => return,
        };
        eprintln!("example-rs: stats after {:.1}s", self.started.elapsed().as_secs_f64());
        let mut head = format!("  {:<42} {:>10}", "event", "delivered");
        for (name, _) in KCOUNTERS {
            head += &format!("{:>1$}", name, column_width(name));
        }
        eprintln!("{}", head);
        for t in EventType::ALL {
            let e = s.event(t);
            // An event with no counts was not selected or never happened.
            if e.delivered != 0 || e.kcounters().iter().any(|&v| v != 0) {
                row(t.name(), e);
            }
        }
        row("total", &s.total);
        if s.total.emitted > s.total.delivered {
            eprintln!(
                "  not delivered at exit (emitted after the trace ended): {}",
                s.total.emitted - s.total.delivered
            );
        }
        program_times(&s);
        eprintln!(
            "  recursion_misses {}, arena_lapped {}, records_malformed {}, maps {:.1} MiB",
            s.recursion_misses,
            s.arena_lapped,
            s.records_malformed,
            s.map_bytes as f64 / 1048576.0
        );
        eprintln!(
            "  sym_files_skipped {}, sym_maps_truncated {}, sym_deferred {}, sym_unwind_partial {}",
            s.sym_files_skipped, s.sym_maps_truncated, s.sym_deferred, s.sym_unwind_partial
        );
        if s.sym_unwound != 0 {
            eprintln!(
                "  sym_unwound {} ({} bytes copied, {:.1} ms)",
                s.sym_unwound,
                s.sym_unwind_bytes,
                s.sym_unwind_ns as f64 / 1e6
            );
        }
    }
}
