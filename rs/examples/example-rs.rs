//! example-rs: ./example's tracing in Rust, through the crate's safe API: the same NDJSON
//! lines (the library's serializer writes them) for the same options.
//!
//!     example-rs [-e LIST] [-p PID]... [-f] [-o FILE] [-- COMMAND [ARG...]]
//!
//! Without -p or COMMAND it traces the whole system until SIGINT, SIGTERM or SIGHUP;
//! unlike ./example it does not leave the readers of its output out of the trace (use
//! -o FILE). With COMMAND, the trace starts at its exec and ends when it exits, and the
//! exit status is the command's.

use std::env;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{self, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use bootstrap::{signal, Flow, Options, Tracee, Tracer};

const USAGE: &str = "usage: example-rs [-e LIST] [-p PID]... [-f] [-o FILE] [-- COMMAND [ARG...]]";
// The exit statuses of ./example.
const EXIT_RUNTIME: i32 = 1;
const EXIT_USAGE: i32 = 2;
/// How often the loop looks at the command between deliveries.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// How long a command stopped by the same Ctrl-C as the trace is given to exit.
const EXIT_GRACE: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Args {
    events: Option<String>,
    pids: Vec<i32>,
    follow: bool,
    output: Option<OsString>,
    command: Vec<OsString>,
}

fn value(argv: &mut impl Iterator<Item = OsString>, option: &str) -> Result<String, String> {
    let v = argv.next().ok_or_else(|| format!("{} needs a value", option))?;
    v.into_string().map_err(|v| format!("{}: {:?} is not UTF-8", option, v))
}

fn parse(mut argv: impl Iterator<Item = OsString>) -> Result<Args, String> {
    let mut args = Args::default();
    while let Some(arg) = argv.next() {
        match arg.to_str().unwrap_or("") {
            "-e" | "--events" => args.events = Some(value(&mut argv, "-e")?),
            "-p" | "--pid" => {
                let pid = value(&mut argv, "-p")?;
                args.pids.push(pid.parse().ok().filter(|&p| p > 0).ok_or_else(|| format!("-p: bad pid '{}'", pid))?);
            }
            "-f" | "--follow" => args.follow = true,
            "-o" | "--output" => args.output = Some(argv.next().ok_or("-o needs a value")?),
            "--" => {
                args.command = argv.by_ref().collect();
                if args.command.is_empty() {
                    return Err("-- needs a COMMAND".into());
                }
            }
            _ => return Err(format!("unknown argument {:?}", arg)),
        }
    }
    Ok(args)
}

/// 128+N for a command killed by signal N, as a shell reports it.
fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

fn open_tracer(args: &Args, tracee: Option<&Tracee>) -> Result<Tracer, bootstrap::Error> {
    let mut opts = Options::new().follow(args.follow);
    if let Some(events) = &args.events {
        opts = opts.events(events);
    }
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

fn create_output(path: &Option<OsString>) -> io::Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(File::create(path)?),
        None => Box::new(io::stdout()),
    })
}

/// Writes every event until the trace ends: stopped by a signal, or the command exited.
/// Returns the command's exit status, if it has one by then.
fn trace(tracer: &mut Tracer, out: &mut impl Write, mut tracee: Option<&mut Tracee>) -> io::Result<Option<i32>> {
    let stop = tracer.stop_handle();
    let mut line = Vec::new();
    let mut failed = None;
    let mut status = None;
    loop {
        let polled = tracer.poll(Some(POLL_EVERY), |ev| {
            line.clear();
            ev.write_json(&mut line);
            match out.write_all(&line) {
                Ok(()) => Flow::Continue,
                Err(e) => {
                    failed = Some(e);
                    Flow::Break
                }
            }
        })?;
        if let Some(e) = failed.take() {
            return Err(e);
        }
        out.flush()?;
        if polled.is_none() {
            break;
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

fn run() -> i32 {
    let args = match parse(env::args_os().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("example-rs: {}\n{}", msg, USAGE);
            return EXIT_USAGE;
        }
    };
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
    let mut tracer = match open_tracer(&args, tracee.as_ref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("example-rs: cannot start tracing: {}", e);
            return EXIT_RUNTIME;
        }
    };
    // Only now: a run that cannot trace must not truncate an existing file.
    let mut out = match create_output(&args.output) {
        Ok(out) => BufWriter::with_capacity(1 << 16, out),
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
    let status = match trace(&mut tracer, &mut out, tracee.as_mut()) {
        Ok(status) => status,
        // The reader went away (`example-rs | head -1`): not a failure.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Some(0),
        Err(e) => {
            eprintln!("example-rs: tracing failed: {}", e);
            return EXIT_RUNTIME;
        }
    };
    // The output is complete before the detach, which waits for the kernel.
    drop(out);
    drop(tracer);
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
