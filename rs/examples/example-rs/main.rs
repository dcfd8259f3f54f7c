//! example-rs: ./example's tracing in Rust, through the crate's safe API: the same lines
//! for the same options (events and aggregate lines by the library's serializers, folded
//! stacks, the --stats table).
//!
//!     example-rs [OPTION...] [-- COMMAND [ARG...]]     (example-rs --help)
//!
//! Without -p or COMMAND it traces the whole system until SIGINT, SIGTERM or SIGHUP (or
//! -d); unlike ./example it does not leave the readers of its output out of the trace
//! (use -o FILE). With COMMAND, the trace starts at its exec and ends when it exits, and
//! the exit status is the command's.

mod options;
mod output;
mod probes;
mod report;

use std::env;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{self, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use bootstrap::{signal, Options, Tracee, Tracer};

use options::Args;
use output::Output;
use report::Report;

// The exit statuses of ./example.
const EXIT_RUNTIME: i32 = 1;
const EXIT_USAGE: i32 = 2;
/// How often the loop looks at the command and the timers between deliveries.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// How long a command stopped by the same Ctrl-C as the trace is given to exit.
const EXIT_GRACE: Duration = Duration::from_secs(1);
/// --stats -v: a counter line this often.
const TICK: Duration = Duration::from_secs(1);

/// 128+N for a command killed by signal N, as a shell reports it.
fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

fn open_tracer(args: &Args, tracee: Option<&Tracee>) -> Result<Tracer, bootstrap::Error> {
    let verbose = args.verbose;
    let mut opts = Options::new()
        .follow(args.follow)
        .strict(args.strict)
        .ringbuf_bytes(args.ringbuf_bytes)
        .arena_bytes_per_cpu(args.arena_bytes)
        .aggregate_entries(args.agg_entries)
        .sampling_frequency(args.frequency)
        // Info and debug only with -v and -vv.
        .log(move |level, msg| {
            if level as u32 <= verbose {
                eprintln!("example-rs: {}", msg);
            }
        });
    if let Some(events) = &args.events {
        opts = opts.events(events);
    }
    if let Some(comm) = &args.comm {
        opts = opts.comm(comm);
    }
    opts = args.probes.apply(opts);
    match tracee {
        // The command and all its descendants, from its first instruction.
        Some(t) => opts = opts.pid(t.pid()).follow(true),
        None => {
            for &pid in &args.pids {
                opts = opts.pid(pid);
            }
        }
    }
    Tracer::open(opts)
}

/// A timer of the loop: due every `every` from the start.
struct Timer {
    every: Duration,
    next: Instant,
}

impl Timer {
    fn new(every: Option<Duration>) -> Option<Timer> {
        every.map(|every| Timer { every, next: Instant::now() + every })
    }

    /// Whether it is due; if so, it is set for the next time.
    fn due(timer: &mut Option<Timer>) -> bool {
        match timer {
            Some(t) if Instant::now() >= t.next => {
                t.next += t.every;
                true
            }
            _ => false,
        }
    }

    fn until(timer: &Option<Timer>) -> Duration {
        timer.as_ref().map_or(POLL_EVERY, |t| t.next.saturating_duration_since(Instant::now()))
    }
}

/// The trace's state between polls.
struct Session<'a> {
    args: &'a Args,
    tracer: Tracer,
    out: Output,
    report: Report,
}

fn write_aggregates(s: &mut Session) -> io::Result<()> {
    match s.out.aggregates(&mut s.tracer) {
        Ok(written) => written,
        Err(e) => Err(io::Error::new(io::ErrorKind::Other, format!("reading the aggregations failed: {}", e))),
    }
}

/// Writes every event until the trace ends: stopped by a signal or -d, or the command
/// exited; the aggregate lines every -i SECONDS. Returns the command's exit status, if it
/// has one by then.
fn trace(s: &mut Session, mut tracee: Option<&mut Tracee>) -> io::Result<Option<i32>> {
    let stop = s.tracer.stop_handle();
    let mut deadline = Timer::new(s.args.duration.map(Duration::from_secs_f64));
    let mut interval = Timer::new(s.args.interval.map(Duration::from_secs_f64));
    let mut tick = Timer::new((s.args.stats && s.args.verbose > 0).then(|| TICK));
    let mut failed = None;
    let mut status = None;
    loop {
        let wait = POLL_EVERY.min(Timer::until(&deadline)).min(Timer::until(&interval)).min(Timer::until(&tick));
        let out = &mut s.out;
        let polled = s.tracer.poll(Some(wait), |ev| match out.event(ev) {
            Ok(()) => bootstrap::Flow::Continue,
            Err(e) => {
                failed = Some(e);
                bootstrap::Flow::Break
            }
        })?;
        if let Some(e) = failed.take() {
            return Err(e);
        }
        s.out.flush()?;
        if polled.is_none() {
            break;
        }
        if Timer::due(&mut deadline) {
            stop.stop();
        }
        if Timer::due(&mut interval) {
            write_aggregates(s)?;
            s.out.flush()?;
        }
        if Timer::due(&mut tick) {
            s.report.tick(&s.tracer);
        }
        if let Some(t) = tracee.as_deref_mut() {
            if let Some(st) = t.try_wait()? {
                // What it produced until now is still delivered: the next polls drain it.
                status = Some(exit_code(st));
                stop.stop();
            }
        }
    }
    Ok(status)
}

/// A command that outlived a trace stopped by a signal: often the same Ctrl-C is ending
/// it, so it gets a moment to exit.
fn late_status(tracee: &mut Tracee) -> io::Result<Option<i32>> {
    let deadline = Instant::now() + EXIT_GRACE;
    while Instant::now() < deadline {
        if let Some(st) = tracee.try_wait()? {
            return Ok(Some(exit_code(st)));
        }
        thread::sleep(Duration::from_millis(10));
    }
    Ok(None)
}

/// Ends the trace as ./example does: the aggregate lines after the events, then the
/// folded stacks and the end of the output (its reader sees the end before the detach,
/// which can take a while), then the stats. Returns whether the output went out whole.
fn finish(mut s: Session, traced: io::Result<Option<i32>>) -> Result<Option<i32>, ()> {
    let traced = traced.and_then(|status| write_aggregates(&mut s).map(|()| status));
    let closed = s.out.close();
    if s.args.stats {
        s.report.summary(&s.tracer);
    }
    drop(s.tracer);
    match traced.and_then(|status| closed.map(|()| status)) {
        Ok(status) => Ok(status),
        // The reader went away (`example-rs | head -1`): not a failure.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Some(0)),
        Err(e) => {
            eprintln!("example-rs: tracing failed: {}", e);
            Err(())
        }
    }
}

fn run() -> i32 {
    let args = match options::parse(env::args_os().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("example-rs: {}\nTry 'example-rs --help' for more information.", msg);
            return EXIT_USAGE;
        }
    };
    if args.help {
        print!("{}", options::HELP);
        return 0;
    }
    let mut tracee = match args.command.as_slice() {
        [] => None,
        argv => match Tracee::spawn(argv) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("example-rs: starting the command failed: {}", e);
                return EXIT_RUNTIME;
            }
        },
    };
    // On failure the command, still stopped, is killed as the Tracee drops.
    let tracer = match open_tracer(&args, tracee.as_ref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("example-rs: cannot start tracing: {}", e);
            return EXIT_RUNTIME;
        }
    };
    // Only now: a run that cannot trace must not truncate an existing file.
    let out = match Output::open(&args.output, args.folded) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("example-rs: cannot open the output: {}", e);
            return EXIT_RUNTIME;
        }
    };
    let started = tracer
        .stop_handle()
        .stop_on_signals(&[signal::SIGINT, signal::SIGTERM, signal::SIGHUP])
        .and_then(|()| tracee.as_mut().map_or(Ok(()), Tracee::resume));
    if let Err(e) = started {
        eprintln!("example-rs: starting the trace failed: {}", e);
        return EXIT_RUNTIME;
    }
    let mut session = Session { args: &args, tracer, out, report: Report::start() };
    let traced = trace(&mut session, tracee.as_mut());
    let status = match finish(session, traced) {
        Ok(status) => status,
        Err(()) => return EXIT_RUNTIME,
    };
    match (status, tracee) {
        (Some(status), _) => status,
        (None, None) => 0,
        (None, Some(mut t)) => match late_status(&mut t) {
            Ok(Some(status)) => status,
            _ => {
                eprintln!("example-rs: trace stopped; {:?} (pid {}) goes on untraced", args.command[0], t.pid());
                EXIT_RUNTIME
            }
        },
    }
}

fn main() {
    process::exit(run());
}
