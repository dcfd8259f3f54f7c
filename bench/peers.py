"""peers.py: each traced configuration of the benchmark: how to run it, how to count its output.

A tool says whether it can trace a scenario, gives a Plan (how runner.py runs it), and
counts from its output the events of the workload's process: how many arrived, and how
many of those carried the exact payload (None: the tool does not capture payloads, or
not whole ones).

Scenario kinds: 'openat' (filename checked), 'write' (fd 1 content checked byte by byte),
'exec' (the children's argv checked), 'cpu' (a CPU-bound loop, sampled by the profilers:
delivered counts its samples).
"""

import json
import os
import re
import resource
import subprocess
from dataclasses import dataclass, field

import check

# Longest string bpftrace 0.17 can print (BPFTRACE_STRLEN, NUL included): 200 bytes,
# for strings kept on the 512-byte BPF stack. The exec probe prints two strings, so less.
BPFTRACE_STRLEN = {"openat": 200, "write": 200, "exec": 100}

SYSCALL = {"openat": "openat", "write": "write", "exec": "execve"}


@dataclass
class Plan:
    mode: str                 # 'wrap', 'pid' or 'global' (see runner.py)
    cmd: list
    env: dict = None


@dataclass
class Count:
    delivered: int
    exact: int = None         # None: payloads not captured whole
    present: int = None       # delivered with the payload field (None: all of them)
    notes: list = field(default_factory=list)
    # CPU profilers: stacks unwound per second of user-space unwinding time, and the bytes
    # a sample costs from the kernel to the tool (report.unwind_table).
    unwound_per_s: float = None
    bytes_per_sample: float = None


class Tool:
    key = label = ""

    def row_label(self, sc):
        return self.label

    def applies(self, sc):
        return sc.kind != "cpu"  # the profilers' scenario


def _lines(path):
    """The lines of a tool's output file; none when the tool did not create it."""
    if not os.path.exists(path):
        return
    with open(path, "rb") as f:
        yield from f


# --- the project's tracer: NDJSON -----------------------------------------------------

TRACER_EVENT = {"openat": "syscalls/sys_enter_openat", "write": "syscalls/sys_enter_write",
                "exec": "sched/sched_process_exec"}
TRACER_FIELD = {"openat": "filename", "write": "content", "exec": "argv"}
# The exec scenarios check argv where the tracer reads it from the caller's memory too
# (the row counts TRACER_EVENT's, read from the new image); a note gives each event's
# tally.
EXEC_EVENTS = ("syscalls/sys_enter_execve", TRACER_EVENT["exec"])


def _argv_tally(tally, ev, want):
    """Adds one exec event to tally (event type -> [delivered, exact, marked, wrong]):
    argv exact, marked lost or truncated (counted), or wrong (neither)."""
    t = tally.setdefault(ev["event_type"], [0, 0, 0, 0])
    marked = "argv" in (ev.get("lost") or []) + (ev.get("truncated") or [])
    exact = check.argv_exact((ev.get("payload") or {}).get("argv") or [], want)
    t[0] += 1
    t[1 if exact else 2 if marked else 3] += 1


# The ring record of a profile/cpu sample: the ring's own header, the event header, the
# payload's two field descriptors.
RECORD_BYTES = 8 + 104 + 16


def _stats_accounting(err, event):
    """'--stats: delivered D + ringbuf_full F = T' for event, from the --stats table,
    whose header row names the columns; None when there is no such table."""
    columns = None
    for line in err.splitlines():
        words = line.split()
        if "delivered" in words and "ringbuf_full" in words:
            columns = words
        elif columns and words and words[0] == event and len(words) == len(columns):
            try:
                d = int(words[columns.index("delivered")])
                f = int(words[columns.index("ringbuf_full")])
            except ValueError:
                return None
            return f"--stats: delivered {d:,} + ringbuf_full {f:,} = {d + f:,}"
    return None


class Tracer(Tool):
    key, label = "tracer", "./example"

    def __init__(self, binary):
        self.binary = binary

    def plan(self, sc, wload, out):
        return Plan("wrap", [self.binary, "--stats", "-o", out, "--"] + wload)

    def shown(self, sc):
        return "./example --stats -o FILE -- WORKLOAD"

    def count(self, sc, out, err, wpid):
        want = TRACER_EVENT[sc.kind]
        checked = TRACER_FIELD[sc.kind]
        c = Count(0, 0, 0)
        invalid = lost = truncated = 0
        tally = {}
        for raw in _lines(out):
            try:
                ev = json.loads(raw)
            except ValueError:
                ev = None
            if not isinstance(ev, dict):
                invalid += 1
                continue
            if sc.kind == "exec" and ev.get("event_type") in EXEC_EVENTS and ev.get("ppid") == wpid:
                _argv_tally(tally, ev, sc.argv)
            if ev.get("event_type") != want:
                continue
            p = ev.get("payload") or {}
            if sc.kind == "exec":
                if ev.get("ppid") != wpid:
                    continue
                ok = check.argv_exact(p.get("argv") or [], sc.argv)
            elif ev.get("pid") != wpid:
                continue
            elif sc.kind == "openat":
                ok = p.get("filename") == sc.path
            elif p.get("fd") != 1:
                continue
            else:
                content = p.get("content")
                ok = isinstance(content, str) and check.payload_exact(
                    content.encode("utf-8", "surrogatepass"), sc.size)
            c.delivered += 1
            c.exact += ok
            c.present += checked not in (ev.get("lost") or [])
            lost += "lost" in ev
            truncated += "truncated" in ev
        accounted = _stats_accounting(err, want)
        if accounted:
            c.notes.append(accounted)
        if invalid:
            c.notes.append(f"{invalid} output lines are not valid JSON")
        if lost:
            c.notes.append(f"{lost:,} events with fields marked lost")
        if truncated:
            c.notes.append(f"{truncated:,} events with fields marked truncated")
        for event in EXEC_EVENTS if sc.kind == "exec" else ():
            d, e, m, w = tally.get(event, [0, 0, 0, 0])
            c.notes.append(f"{event}: {d:,} delivered, argv {e:,} exact, {m:,} marked lost or "
                           f"truncated, {w:,} wrong")
        return c


# --- the floor: a minimal BPF program, counts on its stderr ---------------------------

class Floor(Tool):
    key, label = "floor", "floor"

    def __init__(self, binary):
        self.binary = binary

    def plan(self, sc, wload, out):
        return Plan("wrap", [self.binary, "--"] + wload)

    def shown(self, sc):
        return "floor -- WORKLOAD"

    def count(self, sc, out, err, wpid):
        m = re.search(r"^floor: pid=\d+ openat=(\d+) write=(\d+) exec=(\d+) dropped=(\d+)",
                      err, re.M)
        if not m:
            return None
        n = dict(openat=int(m.group(1)), write=int(m.group(2)), exec=int(m.group(3)))
        c = Count(n[sc.kind])
        if int(m.group(4)):
            c.notes.append(f"{m.group(4)} records dropped (ring buffer full)")
        return c


# --- strace -f ------------------------------------------------------------------------

_C_ESCAPE = re.compile(rb'\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)', re.S)
_C_SIMPLE = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"v": b"\v", b"f": b"\f",
             b"a": b"\a", b"b": b"\b", b'"': b'"', b"\\": b"\\"}
_C_STRING = re.compile(rb'"((?:[^"\\]|\\.)*)"')


def c_unescape(s):
    def one(m):
        e = m.group(1)
        if e[:1] == b"x":
            return bytes([int(e[1:], 16)])
        if e[:1].isdigit():
            return bytes([int(e, 8) & 0xFF])
        return _C_SIMPLE.get(e, e)
    return _C_ESCAPE.sub(one, s)


class Strace(Tool):
    key, label = "strace", "strace -f"

    def plan(self, sc, wload, out):
        return Plan("wrap", ["strace", "-f", "-qq", "-s", "65536", "-e",
                             "trace=" + SYSCALL[sc.kind], "-o", out] + wload)

    def shown(self, sc):
        return f"strace -f -qq -s 65536 -e trace={SYSCALL[sc.kind]} -o FILE WORKLOAD"

    def count(self, sc, out, err, wpid):
        call = SYSCALL[sc.kind].encode() + b"("
        c = Count(0, 0)
        for line in _lines(out):
            pid, _, rest = line.partition(b" ")
            rest = rest.lstrip()
            if not rest.startswith(call) or not pid.isdigit():
                continue
            if sc.kind == "exec":
                if int(pid) == wpid:
                    continue  # the workload's own exec
                argv = rest[rest.index(b"[") + 1:rest.index(b"]")]
                ok = check.argv_exact([c_unescape(a).decode("utf-8", "replace")
                                       for a in _C_STRING.findall(argv)], sc.argv)
            elif sc.kind == "openat":
                m = _C_STRING.search(rest)
                ok = bool(m) and c_unescape(m.group(1)) == sc.path.encode()
            else:
                if not rest.startswith(b"write(1, "):
                    continue
                # The string is the last '", ' of the line: an inner quote is escaped.
                body = rest[len(b'write(1, "'):rest.rindex(b'", ')]
                ok = check.payload_exact(c_unescape(body), sc.size)
            c.delivered += 1
            c.exact += ok
        return c


# --- bpftrace: a one-liner printing the tracer's fields, tab-separated -----------------

_HEAD = ('printf("%llu\\t%d\\t%d\\t%d\\t%d\\t%llu\\t%s\\t', "nsecs, pid, tid, "
         "curtask->real_parent->tgid, uid, cgroup, comm, ")
BPFTRACE_PROG = {
    "openat": "tracepoint:syscalls:sys_enter_openat /pid == cpid/ { " + _HEAD[0] +
              '%d\\t%u\\t%u\\t%s\\n", ' + _HEAD[1] +
              "args->dfd, args->flags, args->mode, str(args->filename)); }",
    "write": "tracepoint:syscalls:sys_enter_write /pid == cpid/ { " + _HEAD[0] +
             '%u\\t%u\\t%s\\n", ' + _HEAD[1] +
             "args->fd, args->count, str(args->buf, args->count)); }",
    "exec": "tracepoint:sched:sched_process_exec /(uint32)curtask->real_parent->tgid == cpid/"
            " { " + _HEAD[0] + '%s\\t%r\\n", ' + _HEAD[1] +
            "str(args->filename), buf(uptr(curtask->mm->arg_start), "
            "curtask->mm->arg_end - curtask->mm->arg_start)); }",
}
BPFTRACE_FIELDS = {"openat": 11, "write": 10, "exec": 9}
_R_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


class Bpftrace(Tool):
    key, label = "bpftrace", "bpftrace"

    def plan(self, sc, wload, out):
        env = dict(os.environ, BPFTRACE_STRLEN=str(BPFTRACE_STRLEN[sc.kind]))
        return Plan("wrap", ["bpftrace", "-q", "-o", out, "-e", BPFTRACE_PROG[sc.kind],
                             "-c", " ".join(wload)], env)

    def shown(self, sc):
        return (f"BPFTRACE_STRLEN={BPFTRACE_STRLEN[sc.kind]} bpftrace -q -o FILE "
                f"-c WORKLOAD -e '{BPFTRACE_PROG[sc.kind]}'")

    def count(self, sc, out, err, wpid):
        whole = sc.kind != "write" or sc.size < BPFTRACE_STRLEN["write"]
        c = Count(0, 0 if whole else None)
        for line in _lines(out):
            f = line.rstrip(b"\n").split(b"\t")
            if len(f) < BPFTRACE_FIELDS[sc.kind] or not f[1].isdigit():
                continue
            if sc.kind == "exec":
                if int(f[3]) != wpid:
                    continue
                block = _R_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), f[8])
                ok = check.argv_exact([a.decode("utf-8", "replace")
                                       for a in block.split(b"\0")[:-1]], sc.argv)
            elif int(f[1]) != wpid:
                continue
            elif sc.kind == "openat":
                ok = f[10] == sc.path.encode()
            elif f[7] != b"1":
                continue
            else:
                ok = whole and check.payload_exact(f[9], sc.size)
            c.delivered += 1
            if whole:
                c.exact += ok
        return c


# --- libbpf-tools: opensnoop -p PID, execsnoop (system-wide) ---------------------------

class LibbpfTools(Tool):
    key, label = "libbpf-tools", "libbpf-tools"

    def row_label(self, sc):
        return {"openat": "opensnoop -p", "exec": "execsnoop"}.get(sc.kind, self.label)

    def applies(self, sc):
        return sc.kind in ("openat", "exec")  # no libbpf tool captures write content

    def plan(self, sc, wload, out):
        if sc.kind == "openat":
            return Plan("pid", ["opensnoop", "-p", "{pid}"])
        return Plan("global", ["execsnoop"])

    def shown(self, sc):
        return {"openat": "opensnoop -p PID > FILE",
                "exec": "execsnoop > FILE (system-wide; lines whose PPID is the workload)",
                }.get(sc.kind)

    def count(self, sc, out, err, wpid):
        c = Count(0, 0)
        pid_at = 0 if sc.kind == "openat" else 2  # PID COMM FD ERR PATH / PCOMM PID PPID RET ARGS
        for line in _lines(out):
            f = line.rstrip(b"\n").split(None, 4)
            if len(f) < 4 or not f[pid_at].isdigit() or int(f[pid_at]) != wpid:
                continue
            if sc.kind == "openat":
                ok = len(f) == 5 and f[4] == sc.path.encode()
            else:
                ok = len(f) == 5 and check.argv_exact(
                    [a.decode("utf-8", "replace") for a in f[4].split()], sc.argv)
            c.delivered += 1
            c.exact += ok
        return c


# --- perf trace -----------------------------------------------------------------------

class PerfTrace(Tool):
    key, label = "perf-trace", "perf trace"

    def plan(self, sc, wload, out):
        return Plan("wrap", ["perf", "trace", "-o", out, "-e", SYSCALL[sc.kind], "--"] + wload)

    def shown(self, sc):
        return f"perf trace -o FILE -e {SYSCALL[sc.kind]} -- WORKLOAD"

    def count(self, sc, out, err, wpid):
        # "0.054 ( 0.015 ms): wload/4055 openat(dfd: CWD, ...) = 4"; strings are shown as
        # pointers by this perf, so nothing can be checked. "[continued]" lines finish a
        # call whose start was not seen (the workload's own execve).
        call = re.compile(rb"\): .*?/(\d+) " + SYSCALL[sc.kind].encode() + rb"\((.*)")
        c = Count(0)
        for line in _lines(out):
            m = call.search(line)
            if not m:
                continue
            if sc.kind == "write" and not m.group(2).startswith(b"fd: 1,"):
                continue
            c.delivered += 1
        return c


# --- CPU profilers: samples of the workload at HZ per CPU, with both stacks ------------

class Profiler(Tool):
    """One profiler at one rate; `probe` names its check in run.py's PROBES."""

    def __init__(self, hz):
        self.hz = hz
        self.key = f"{self.probe}-{hz}"
        self.label = f"{self.name} {hz} Hz"

    def applies(self, sc):
        return sc.kind == "cpu"


class TracerProfile(Profiler):
    probe, name = "tracer-profile", "./example -e profile/cpu"

    def __init__(self, binary, hz):
        super().__init__(hz)
        self.binary = binary

    def plan(self, sc, wload, out):
        return Plan("wrap", [self.binary, "-e", "profile/cpu", "-F", str(self.hz), "--stats", "-o", out,
                             "--"] + wload)

    def shown(self, sc):
        return f"./example -e profile/cpu -F {self.hz} --stats -o FILE -- WORKLOAD"

    def count(self, sc, out, err, wpid):
        c = Count(0)
        kstack_frames = 0
        for raw in _lines(out):
            ev = json.loads(raw)
            c.delivered += ev["pid"] == wpid
            kstack_frames += len(ev["payload"]["kstack"] or [])
        accounted = _stats_accounting(err, "profile/cpu")
        if accounted:
            c.notes.append(accounted)
        # "sym_unwound N (B bytes copied, T ms)": the user stacks, unwound by the library.
        m = re.search(r"sym_unwound (\d+) \((\d+) bytes copied, ([0-9.]+) ms\)", err)
        if m and int(m.group(1)):
            n, copied, ms = int(m.group(1)), int(m.group(2)), float(m.group(3))
            c.unwound_per_s = n / (ms / 1000) if ms else None
            # A ring record (its header, the header and payload), the kernel stack's frames
            # and the registers and user stack copied, per sample.
            c.bytes_per_sample = RECORD_BYTES + (8 * kstack_frames + copied) / n
            c.notes.append(f"{n:,} user stacks unwound, {copied / n:,.0f} bytes copied each")
        return c


class PerfRecord(Profiler):
    """perf record, the kernel walking user stacks by frame pointer (-g): perf.data's size
    per sample is what a sample costs."""
    probe, name, call_graph = "perf-record", "perf record -g", ["-g"]

    def plan(self, sc, wload, out):
        return Plan("wrap", ["perf", "record", "-q", "-F", str(self.hz), *self.call_graph, "-o", out, "--"]
                    + wload)

    def shown(self, sc):
        return f"perf record -q -F {self.hz} {' '.join(self.call_graph)} -o FILE -- WORKLOAD"

    def count(self, sc, out, err, wpid):
        if not os.path.exists(out):
            return Count(0)
        r = subprocess.run(["perf", "script", "-i", out, "-F", "pid"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        samples = r.stdout.splitlines()
        c = Count(sum(line.strip() == str(wpid) for line in samples))
        if samples:
            c.bytes_per_sample = os.path.getsize(out) / len(samples)
        return c


class PerfRecordDwarf(PerfRecord):
    """perf record copying registers and user stack per sample (8 KiB by default), which
    `perf script` unwinds with libdw: its CPU time is the user-space unwinding."""
    probe, name, call_graph = "perf-dwarf", "perf record --call-graph dwarf", ["--call-graph", "dwarf"]

    def count(self, sc, out, err, wpid):
        c = super().count(sc, out, err, wpid)
        if not c.delivered:
            return c
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run(["perf", "script", "-i", out, "-F", "pid,ip,sym"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        # A sample is its pid line (right-aligned: it may start with blanks), then its
        # frames, each on a line that starts with a tab.
        samples = sum(1 for line in r.stdout.splitlines() if line.strip() and line[:1] != b"\t")
        if cpu > 0:
            c.unwound_per_s = samples / cpu
        return c


class BpftraceProfile(Profiler):
    probe, name = "bpftrace-profile", "bpftrace profile:hz"

    def program(self):
        return f"profile:hz:{self.hz} /pid == cpid/ {{ @[ustack, kstack] = count(); }}"

    def plan(self, sc, wload, out):
        return Plan("wrap", ["bpftrace", "-q", "-o", out, "-e", self.program(), "-c", " ".join(wload)])

    def shown(self, sc):
        return f"bpftrace -q -o FILE -c WORKLOAD -e '{self.program()}'"

    def count(self, sc, out, err, wpid):
        # The map at exit: each stack pair, then "]: COUNT".
        return Count(sum(int(m.group(1)) for line in _lines(out)
                         for m in [re.search(rb"\]: (\d+)$", line.rstrip())] if m))


def all_tools(example, floor):
    """The traced configurations, in the order of the tables."""
    profilers = [cls(hz) for hz in (49, 999) for cls in (PerfRecord, PerfRecordDwarf, BpftraceProfile)]
    return ([Floor(floor), Tracer(example), Strace(), Bpftrace(), LibbpfTools(), PerfTrace()] +
            [TracerProfile(example, hz) for hz in (49, 999)] + profilers)
