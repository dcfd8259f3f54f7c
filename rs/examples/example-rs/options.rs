//! options.rs: example-rs's command line, ./example's tracing options with its words,
//! parsed and checked before anything starts, so that a mistake is a usage error (status
//! 2) rather than a failure halfway through.

use std::ffi::OsString;

use bootstrap::{select_events, EventInfo, EventType, FieldType, Kind, MAX_FREQUENCY};

use crate::probes::Probes;

/// The kernel's comm is 15 bytes and a NUL.
const COMM_MAX: usize = 15;

pub const HELP: &str = "Usage: example-rs [OPTION...] [-- COMMAND [ARG...]]
Trace the events of events.toml and print one JSON object per line (NDJSON), as
./example does, through the Rust crate.

Without COMMAND every process is traced until Ctrl-C (the readers of the output too:
use -o FILE). With -- COMMAND, COMMAND is started and it and every process it forks are
traced from its first instruction; the trace ends when COMMAND exits, and example-rs
exits with COMMAND's status (128+N when killed by signal N).

  -e, --events LIST       only these events: comma-separated category/name globs
  -p, --pid PID           only this process, all its threads (repeatable)
  -f, --follow            with -p: also the processes they fork from now on
  -c, --comm NAME         only tasks whose comm is NAME (at most 15 bytes)
  -d, --duration SECONDS  stop after SECONDS (fractions allowed)
  -o, --output FILE       write the events to FILE instead of stdout
      --stats             at exit, print delivery and loss counters on stderr
  -v, --verbose           more messages; with --stats, a counter line every second
      --ringbuf-bytes N   ring buffer size (suffix K, M or G; default 4M)
      --arena-bytes N     payload arena per CPU (at least 64K; default 4M)
      --strict            fail when an event's target is absent here
      --folded            at exit, write the samples' stacks as folded stacks instead
                          of one line per event; without -e, the events with stacks
  -F, --frequency HZ      sampling events at HZ samples a second per CPU
  -i, --interval SECONDS  print the aggregations every SECONDS (and at exit anyway)
      --agg-entries N     keys per aggregation map (default 10240)
      --iface IFACE       attach the xdp events to IFACE
      --kprobe FUNC           a kernel function's entry
      --kretprobe FUNC        a kernel function's return
      --uprobe BIN:FUNC       a function's entry in a program or library
      --uretprobe BIN:FUNC    a function's return in a program or library
      --tracepoint CAT/NAME   any tracepoint
      --binary PATH           the uprobe events of events.toml attach to PATH
      --uprobe-pid PID        uprobes only in process PID (repeatable)
  -h, --help              show this help

Exit status: 0 success, 1 runtime error, 2 usage error, or COMMAND's status.
";

#[derive(Default)]
pub struct Args {
    pub help: bool,
    pub events: Option<String>,
    pub pids: Vec<i32>,
    pub follow: bool,
    pub comm: Option<String>,
    pub duration: Option<f64>,
    pub output: Option<OsString>,
    pub stats: bool,
    pub verbose: u32,
    pub ringbuf_bytes: usize,
    pub arena_bytes: usize,
    pub strict: bool,
    pub folded: bool,
    pub frequency: u32,
    pub interval: Option<f64>,
    pub agg_entries: usize,
    pub probes: Probes,
    pub command: Vec<OsString>,
}

/// What is wrong with the command line, as ./example words it.
pub type Usage = String;

fn positive_int(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().filter(|&v| v > 0)
}

pub fn parse_pid(s: &str) -> Result<i32, Usage> {
    positive_int(s)
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| format!("invalid PID '{}' (a positive process id)", s))
}

fn parse_seconds(s: &str) -> Result<f64, Usage> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0 && *v <= f64::from(i32::MAX))
        .ok_or_else(|| format!("invalid duration '{}' (a positive number of seconds)", s))
}

/// "4096", "64K", "4M", "1G": binary multiples, as memory sizes usually are.
fn parse_bytes(s: &str) -> Result<usize, Usage> {
    let (digits, shift) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 10),
        Some((i, 'm' | 'M')) => (&s[..i], 20),
        Some((i, 'g' | 'G')) => (&s[..i], 30),
        _ => (s, 0),
    };
    digits
        .parse::<usize>()
        .ok()
        .filter(|&v| v > 0 && v <= usize::MAX >> shift)
        .map(|v| v << shift)
        .ok_or_else(|| format!("invalid size '{}' (bytes, with an optional K, M or G suffix)", s))
}

fn parse_frequency(s: &str) -> Result<u32, Usage> {
    s.parse::<u32>()
        .ok()
        .filter(|v| (1..=MAX_FREQUENCY).contains(v))
        .ok_or_else(|| format!("invalid frequency '{}' (samples a second, 1..{})", s, MAX_FREQUENCY))
}

/// Options that take a value: (short, long).
const WITH_VALUE: &[(Option<char>, &str)] = &[
    (Some('e'), "events"),
    (Some('p'), "pid"),
    (Some('c'), "comm"),
    (Some('d'), "duration"),
    (Some('o'), "output"),
    (Some('F'), "frequency"),
    (Some('i'), "interval"),
    (None, "ringbuf-bytes"),
    (None, "arena-bytes"),
    (None, "agg-entries"),
    (None, "iface"),
    (None, "kprobe"),
    (None, "kretprobe"),
    (None, "uprobe"),
    (None, "uretprobe"),
    (None, "tracepoint"),
    (None, "binary"),
    (None, "uprobe-pid"),
];
/// Flags: (short, long).
const FLAGS: &[(Option<char>, &str)] = &[
    (Some('f'), "follow"),
    (Some('v'), "verbose"),
    (Some('h'), "help"),
    (None, "stats"),
    (None, "strict"),
    (None, "folded"),
];

fn long_of(table: &[(Option<char>, &'static str)], short: char) -> Option<&'static str> {
    table.iter().find(|(s, _)| *s == Some(short)).map(|(_, l)| *l)
}

fn apply(args: &mut Args, long: &str, value: Option<OsString>) -> Result<(), Usage> {
    let text = match &value {
        Some(v) if long != "output" => Some(v.to_str().ok_or_else(|| format!("--{}: {:?} is not UTF-8", long, v))?),
        _ => None,
    };
    let v = text.unwrap_or("");
    match long {
        "events" => args.events = Some(v.to_owned()),
        "pid" => args.pids.push(parse_pid(v)?),
        "comm" => args.comm = Some(v.to_owned()),
        "duration" => args.duration = Some(parse_seconds(v)?),
        "output" => args.output = value,
        "frequency" => args.frequency = parse_frequency(v)?,
        "interval" => args.interval = Some(parse_seconds(v)?),
        "ringbuf-bytes" => args.ringbuf_bytes = parse_bytes(v)?,
        "arena-bytes" => args.arena_bytes = parse_bytes(v)?,
        "agg-entries" => args.agg_entries = parse_bytes(v)?,
        "iface" => args.probes.iface = Some(v.to_owned()),
        "kprobe" | "kretprobe" | "uprobe" | "uretprobe" | "tracepoint" => args.probes.add(long, v)?,
        "binary" => args.probes.binary = Some(v.to_owned()),
        "uprobe-pid" => args.probes.pids.push(parse_pid(v)?),
        "follow" => args.follow = true,
        "verbose" => args.verbose += 1,
        "help" => args.help = true,
        "stats" => args.stats = true,
        "strict" => args.strict = true,
        "folded" => args.folded = true,
        _ => unreachable!("an option of the tables"),
    }
    Ok(())
}

/// Parses like getopt_long with "+": options up to the first operand, which must follow
/// "--" (COMMAND); `-xVALUE`, `-x VALUE`, `--long=VALUE`, `--long VALUE`, `-vf`.
pub fn parse(argv: impl Iterator<Item = OsString>) -> Result<Args, Usage> {
    let mut args = Args::default();
    let mut argv = argv.peekable();
    while let Some(word) = argv.next() {
        let text = word.to_string_lossy().into_owned();
        if text == "--" {
            args.command = argv.by_ref().collect();
            if args.command.is_empty() {
                return Err("-- needs a COMMAND to run".into());
            }
            break;
        }
        if let Some(long) = text.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(OsString::from(v))),
                None => (long, None),
            };
            if WITH_VALUE.iter().any(|(_, l)| *l == name) {
                let value =
                    inline.or_else(|| argv.next()).ok_or_else(|| format!("option '--{}' needs an argument", name))?;
                apply(&mut args, name, Some(value))?;
            } else if FLAGS.iter().any(|(_, l)| *l == name) && inline.is_none() {
                apply(&mut args, name, None)?;
            } else {
                return Err(format!("unknown option '{}'", text));
            }
        } else if text.len() > 1 && text.starts_with('-') {
            for (i, c) in text.char_indices().skip(1) {
                if let Some(long) = long_of(WITH_VALUE, c) {
                    let rest = &text[i + c.len_utf8()..];
                    let value = if rest.is_empty() { argv.next() } else { Some(OsString::from(rest)) };
                    let value = value.ok_or_else(|| format!("option '-{}' needs an argument", c))?;
                    apply(&mut args, long, Some(value))?;
                    break;
                }
                match long_of(FLAGS, c) {
                    Some(long) => apply(&mut args, long, None)?,
                    None => return Err(format!("unknown option '-{}'", c)),
                }
            }
        } else {
            return Err(format!(
                "unexpected argument '{}' (a command to trace goes after --, e.g. example-rs -- ls)",
                text
            ));
        }
        if args.help {
            return Ok(args);
        }
    }
    // --folded's output is stacks: without -e, it traces the events that have them.
    if args.folded && args.events.is_none() {
        let stacks: Vec<&str> = EventType::ALL.iter().filter(|t| has_stack(t.info())).map(|t| t.name()).collect();
        if stacks.is_empty() {
            return Err("--folded needs an event with a stack field, and this build has none".into());
        }
        args.events = Some(stacks.join(","));
    }
    check(&args)?;
    args.probes.finish(&mut args.events)?;
    Ok(args)
}

pub fn has_stack(info: &EventInfo) -> bool {
    info.fields.iter().any(|f| f.ty == FieldType::Stack)
}

/// Whether the list (None: the default selection) selects an event that `pred` holds for.
pub fn selects(list: Option<&str>, pred: impl Fn(&EventInfo) -> bool) -> bool {
    select_events(list).map_or(false, |events| events.iter().any(|t| pred(t.info())))
}

/// The combinations and values that the library would only reject once started.
fn check(a: &Args) -> Result<(), Usage> {
    let events = a.events.as_deref();
    if let Some(list) = events {
        match select_events(Some(list)) {
            Err(e) => return Err(format!("{} (see them with ./example --list)", e)),
            Ok(selected) if selected.is_empty() => {
                return Err(format!("-e '{}' selects no event (see them with ./example --list)", list))
            }
            Ok(_) => {}
        }
        if a.probes.attach.is_empty() && !selects(events, |ev| ev.target.is_some() || ev.kind == Kind::Xdp) {
            return Err(format!(
                "-e '{}' selects only events that attach to the targets of --kprobe, --kretprobe, \
                 --uprobe, --uretprobe or --tracepoint, and none is given",
                list
            ));
        }
    }
    if let Some(comm) = &a.comm {
        if comm.len() > COMM_MAX {
            return Err(format!("comm '{}' is longer than the kernel's 15 bytes", comm));
        }
    }
    if a.arena_bytes != 0 && a.arena_bytes < 64 << 10 {
        return Err("--arena-bytes must be at least 64K".into());
    }
    if a.probes.iface.is_some() && !selects(events, |ev| ev.kind == Kind::Xdp) {
        return Err(format!("--iface is for xdp events, and {} selects none", events.unwrap_or("the schema")));
    }
    if let (Some(list), None) = (events, &a.probes.iface) {
        if selects(events, |ev| ev.kind == Kind::Xdp && ev.target.is_none()) {
            return Err(format!("{} selects an xdp event without an interface: name one with --iface IFACE", list));
        }
    }
    if a.follow && a.pids.is_empty() {
        return Err("-f follows the processes given with -p; give at least one".into());
    }
    if !a.command.is_empty() && !a.pids.is_empty() {
        return Err("-p cannot be combined with -- COMMAND (COMMAND is what is traced)".into());
    }
    if a.frequency != 0 && !selects(events, |ev| ev.kind == Kind::PerfEvent) {
        return Err("-F sets the rate of sampling events, and none is selected (see -e)".into());
    }
    if a.folded && !selects(events, has_stack) {
        return Err("--folded needs an event with a stack field (see them with ./example --list)".into());
    }
    if !a.command.is_empty() && a.duration.is_some() {
        return Err("-d cannot be combined with -- COMMAND (the trace ends when COMMAND exits; bound it with \
                    timeout(1))"
            .into());
    }
    Ok(())
}
