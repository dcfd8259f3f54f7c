"""Shared helpers for the ./example tests: paths, the schema, and reading NDJSON output.

These tests run as root (make test-cli goes through tests/require_bpf.sh) and
load the real BPF programs through ./example.
"""
import fnmatch
import json
import os
import pathlib
import re
import select
import signal
import subprocess
import sys
import threading
import time
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "example"
FIXTURES = ROOT / "build" / "tests" / "fixtures"
HOSTILE = FIXTURES / "hostile"
PROBE_TARGET = FIXTURES / "probe_target"

# The output contract's keys, in order; "truncated", "lost" and "reread" follow only when
# non-empty.
CONTRACT_KEYS = ["event_id", "event_type", "timestamp_ns", "pid", "tid", "ppid", "upid",
                 "uppid", "uid", "cgroup_id", "comm", "payload"]

FLAG_KEYS = ["truncated", "lost", "reread"]

# Only a hang fails on this: nothing here measures how long anything takes.
HANG_TIMEOUT = 300


def schema_events():
    """events.toml as {"category/name": table}, in file order."""
    doc = tomllib.loads((ROOT / "events.toml").read_text())
    return {f"{cat}/{name}": table
            for cat, tables in doc.items() if cat not in ("version", "defaults")
            for name, table in tables.items()}


def selected(patterns, type_name):
    """The -e rule: comma-separated globs; one without '/' matches the name alone."""
    name = type_name.split("/", 1)[1]
    return any(fnmatch.fnmatchcase(type_name if "/" in p else name, p)
               for p in patterns.split(",") if p)


# The tracer's reason for skipping a kprobe target on a kernel without them.
NO_KPROBES = "this kernel has no kprobes (CONFIG_KPROBES is off)"


def kprobes_expected():
    """Whether this kernel must have kprobes: BOOTSTRAP_EXPECT_KPROBES=1 or 0 says so
    (the VM run sets it per kernel); unset, /proc/kallsyms decides (register_kprobe is
    there exactly when CONFIG_KPROBES is), which is not how the tracer finds out."""
    env = os.environ.get("BOOTSTRAP_EXPECT_KPROBES")
    if env is not None:
        return env == "1"
    with open("/proc/kallsyms") as f:
        return any(line.endswith(" register_kprobe\n") for line in f)


def stats_counts(stderr, row="total"):
    """The --stats summary row of an event type (or the total) as {counter: value}."""
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    head = re.search(r"^\s+event\s+(delivered.*)$", text, re.M)
    values = re.search(rf"^\s+{re.escape(row)}\s+([\d ]+)$", text, re.M)
    assert head and values, text
    return dict(zip(head.group(1).split(), map(int, values.group(1).split())))


# The unprivileged attacker of the hostile-process tests.
NOBODY = 65534


def as_nobody():
    """A preexec_fn: the child runs as nobody, with no supplementary group."""
    os.setgid(NOBODY)
    os.setgroups([])
    os.setuid(NOBODY)


def run_example(*args, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("timeout", HANG_TIMEOUT)
    return subprocess.run([str(EXAMPLE), *map(str, args)], **kwargs)


def read_ndjson(path):
    """Every line of an output file, checked by jq and by Python's json module."""
    raw = pathlib.Path(path).read_bytes()
    assert raw == b"" or raw.endswith(b"\n"), "the last line is incomplete"
    jq = subprocess.run(["jq", "-e", "."], stdin=open(path, "rb"), stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, timeout=HANG_TIMEOUT)
    assert jq.returncode == 0 or raw == b"", jq.stderr.decode(errors="replace")
    events = []
    for number, line in enumerate(raw.split(b"\n")[:-1], 1):
        # Every control byte is escaped: a raw one would make the line invalid JSON.
        assert not any(b < 0x20 for b in line), f"line {number} has a raw control byte"
        ev = json.loads(line)
        keys = list(ev)
        assert keys[:len(CONTRACT_KEYS)] == CONTRACT_KEYS, f"line {number}: key order {keys}"
        flags = keys[len(CONTRACT_KEYS):]
        assert flags == [k for k in FLAG_KEYS if k in flags] and all(ev[k] for k in flags), flags
        events.append(ev)
    return events


def poll_until(done):
    """Polls done() until it is true, for as long as a hang may take."""
    deadline = time.monotonic() + HANG_TIMEOUT
    while not done():
        assert time.monotonic() < deadline, "gave up waiting"
        select.select([], [], [], 0.02)


def blocked_reading_a_pipe(pid):
    with open(f"/proc/{pid}/wchan") as f:
        return "pipe_read" in f.read()


def wait_reading(proc):
    """Until proc is blocked reading a pipe: from then on, only what the tracer writes
    wakes it up, so none of its events can come before the tracer's first look."""
    poll_until(lambda: proc.poll() is not None or blocked_reading_a_pipe(proc.pid))
    assert proc.poll() is None


def open_marks(path, count):
    """count opens of path (each fails: ENOENT), from a child process."""
    code = f"import os\nfor _ in range({count}):\n    try: os.open({str(path)!r}, os.O_RDONLY)\n    except OSError: pass"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=HANG_TIMEOUT)


def stop(tracer, *others):
    """SIGINT ends the trace; then it and the others must exit with status 0."""
    tracer.send_signal(signal.SIGINT)
    assert tracer.wait(HANG_TIMEOUT) == 0
    for proc in others:
        assert proc.wait(HANG_TIMEOUT) == 0


def pids_in(events, *pids):
    return [ev for ev in events if ev["pid"] in pids]


@pytest.fixture(scope="session")
def schema():
    return schema_events()


class Lines:
    """What a process writes to a pipe, line by line, read by a thread."""

    def __init__(self, pipe):
        self.lines = []
        self.closed = False
        self.cond = threading.Condition()
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe):
        for raw in iter(pipe.readline, b""):
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _match(self, rx):
        return next((m for m in map(rx.search, self.lines) if m), None)

    def wait_for(self, pattern):
        """The match of the first line that matches, once the process has written it."""
        rx = re.compile(pattern)
        with self.cond:
            self.cond.wait_for(lambda: self.closed or self._match(rx), timeout=HANG_TIMEOUT)
            m = self._match(rx)
        assert m, f"no line matches {pattern!r}: {self.lines}"
        return m

    def all(self):
        with self.cond:
            self.cond.wait_for(lambda: self.closed, timeout=HANG_TIMEOUT)
            return "\n".join(self.lines)
