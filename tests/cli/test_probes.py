"""./example's probe options: --uprobe/--uretprobe on the probe_target fixture (exact
arguments, return values, entry arguments at the return, time in the call, counts;
each return with its own call's entry through recursion, longjmp and a filtered entry),
--tracepoint on a known open and fork, --uprobe-pid, --kprobe on this kernel (captured
where it has kprobes; one warning, or with --strict an error, where it has not),
missing uprobe targets, and what `check` says of each.

The expected values mirror main() of tests/fixtures/probe_target.c.
"""
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import (EXAMPLE, HANG_TIMEOUT, NO_KPROBES, PROBE_TARGET, ROOT, Lines, kprobes_expected, read_ndjson,
                      run_example, stats_counts)

sys.path.insert(0, str(ROOT / "typegen"))
from kinds import ENTRY_DEPTH  # noqa: E402  (entries kept per task and return point)

FIXTURE = str(PROBE_TARGET)
FIXTURE_STDOUT = b"42\n993\n5000100000\nhello, world!\nhello, tracer!\n"
# add_numbers(a, b) calls: a is an int, so only the low 32 bits of its register are set.
ADDS = [(2, 40, 42), (-7 & 0xffffffff, 1000, 993), (100000, 5000000000, 5000100000)]
NAP_NS = 50_000_000
LOW32 = 0xffffffff


def payloads(events, event_type, target=None):
    return [e["payload"] for e in events
            if e["event_type"] == event_type and (target is None or e["payload"]["target"] == target)]


def stderr_lines(proc):
    return proc.stderr.decode().splitlines()


@pytest.fixture(scope="module")
def uprobe_trace(tmp_path_factory):
    """The fixture run under every uprobe kind: (its pid, the events, the run's own wall
    time in ns, which holds every call it made)."""
    out = tmp_path_factory.mktemp("uprobes") / "trace.ndjson"
    start = time.monotonic_ns()
    proc = run_example("--uprobe", f"{FIXTURE}:add_numbers", "--uretprobe", f"{FIXTURE}:add_numbers",
                       "--uretprobe", f"{FIXTURE}:greet", "--uretprobe", f"{FIXTURE}:nap_ms",
                       "-o", out, "--", FIXTURE)
    span_ns = time.monotonic_ns() - start
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, FIXTURE_STDOUT, b"")
    events = read_ndjson(out)
    pids = {e["pid"] for e in events}
    assert len(pids) == 1
    return pids.pop(), events, span_ns


def test_probe_options_alone_trace_only_the_probes(uprobe_trace):
    pid, events, _ = uprobe_trace
    assert {e["event_type"] for e in events} == {"probe/uprobe", "probe/uretprobe"}
    assert all(e["comm"] == "probe_target" and e["tid"] == pid for e in events)
    assert all("lost" not in e and "truncated" not in e for e in events)


def test_uprobe_arguments_exact(uprobe_trace):
    _, events, _ = uprobe_trace
    calls = payloads(events, "probe/uprobe")
    assert [(p["target"], p["arg0"] & LOW32, p["arg1"]) for p in calls] == \
        [(f"{FIXTURE}:add_numbers", a, b) for a, b, _ in ADDS]


def test_uretprobe_return_values_and_entry_arguments(uprobe_trace):
    _, events, _ = uprobe_trace
    adds = payloads(events, "probe/uretprobe", f"{FIXTURE}:add_numbers")
    assert [(p["arg0"] & LOW32, p["arg1"], p["ret"]) for p in adds] == ADDS
    assert all(p["elapsed_ns"] > 0 for p in adds)
    # The return sees its own call's arguments, as the entry did.
    calls = payloads(events, "probe/uprobe")
    assert [(p["arg0"], p["arg1"]) for p in adds] == [(p["arg0"], p["arg1"]) for p in calls]


def test_uretprobe_of_a_string_function(uprobe_trace):
    _, events, _ = uprobe_trace
    greets = payloads(events, "probe/uretprobe", f"{FIXTURE}:greet")
    assert len(greets) == 2
    # The same static buffer each time, for two different names.
    assert greets[0]["ret"] == greets[1]["ret"] != 0
    assert greets[0]["arg0"] != greets[1]["arg0"]


def test_uretprobe_elapsed_covers_the_sleep(uprobe_trace):
    _, events, span_ns = uprobe_trace
    (nap,) = payloads(events, "probe/uretprobe", f"{FIXTURE}:nap_ms")
    assert nap["arg0"] & LOW32 == NAP_NS // 1_000_000
    # At least the sleep; at most the traced run that made the call (the same clock).
    assert NAP_NS <= nap["elapsed_ns"] < span_ns


ENTRY_FIELDS = [f"arg{n}" for n in range(6)] + ["elapsed_ns"]


def recursion_returns(depth, kept):
    """The returns of recurse(depth, 0), innermost first, as (arg0, arg1, ret): each
    level's own depth and the sum of the depths up to it; None for the arguments of the
    levels past the `kept` outermost, whose entries were not kept."""
    return [(n, 0, n * (n + 1) // 2) if depth - n < kept else (None, None, n * (n + 1) // 2)
            for n in range(depth + 1)]


def nested_run(tmp_path, depth):
    """probe_target nest DEPTH under --uretprobe on recurse and survive_longjmp: the
    returns as (function, arg0, arg1, ret), and entry_missed."""
    out = tmp_path / "trace.ndjson"
    proc = run_example("--stats", "--uretprobe", f"{FIXTURE}:recurse", "--uretprobe", f"{FIXTURE}:survive_longjmp",
                       "-o", out, "--", FIXTURE, "nest", depth)
    total = depth * (depth + 1) // 2
    assert (proc.returncode, proc.stdout) == (0, f"{total}\n{total}\n7000\n".encode())
    returns = []
    for e in read_ndjson(out):
        p = e["payload"]
        lost = [f for f in ENTRY_FIELDS if p[f] is None]
        # The entry fields come whole, or all lost and listed as such.
        assert lost in ([], ENTRY_FIELDS) and e.get("lost", []) == lost, e
        assert lost or p["elapsed_ns"] > 0
        returns.append((p["target"].rsplit(":", 1)[1], p["arg0"], p["arg1"], p["ret"]))
    return returns, stats_counts(proc.stderr)["entry_missed"]


@pytest.mark.parametrize("depth", [4, ENTRY_DEPTH + 3], ids=["within-the-entries-kept", "deeper"])
def test_each_return_of_a_recursion_has_its_own_entry(tmp_path, depth):
    """A recursion, one left by longjmp from its bottom back to main, the same recursion
    again, then survive_longjmp around one left by longjmp: each return carries its own
    call's arguments, or none (lost and counted) past the entries kept per task; the
    calls left by longjmp return nothing, and their entries neither show up at a later
    return nor take the places of later calls' entries."""
    returns, missed = nested_run(tmp_path, depth)
    recursion = [("recurse", *r) for r in recursion_returns(depth, ENTRY_DEPTH)]
    assert returns == recursion + recursion + [("survive_longjmp", 7000, depth, 7000)]
    assert missed == sum(1 for _, a0, _, _ in returns if a0 is None)


def test_a_return_whose_entry_was_filtered_out_has_no_entry(tmp_path):
    """rename_self renames its thread: its first call enters under the traced comm and
    returns under another (its return filtered out), its second enters under the other
    and returns under the traced one. That return's entry was not recorded, and the first
    call's, made at the same stack address, must not stand in for it. The process runs
    as nobody: any user can rename its threads."""
    out = tmp_path / "trace.ndjson"
    # Python drops the privileges before exec: the second kernel's system has no setpriv.
    as_nobody = ("import os, sys; os.setgroups([]); os.setgid(65534); os.setuid(65534); "
                 "os.execv(sys.argv[1], sys.argv[1:])")
    proc = run_example("--stats", "-c", "probe_target", "--uretprobe", f"{FIXTURE}:rename_self", "-o", out, "--",
                       sys.executable, "-I", "-S", "-c", as_nobody, FIXTURE, "rename")
    assert (proc.returncode, proc.stdout) == (0, b"1\n2\n")
    (e,) = read_ndjson(out)
    assert (e["uid"], e["payload"]["ret"], e["lost"]) == (65534, 2, ENTRY_FIELDS)
    assert [e["payload"][f] for f in ENTRY_FIELDS] == [None] * len(ENTRY_FIELDS)
    assert stats_counts(proc.stderr)["entry_missed"] == 1


# One openat with a known dfd, flags and mode, and one fork; the script prints its pid
# and its child's.
OPEN_AND_FORK = """
import os
os.dup2(os.open('/', os.O_RDONLY | os.O_DIRECTORY), 200)
os.open('.', os.O_RDONLY | os.O_DIRECTORY, dir_fd=200)
child = os.fork()
if child == 0:
    os._exit(0)
os.waitpid(child, 0)
print(os.getpid(), child)
"""


def test_tracepoint_probes_read_the_record_fields(tmp_path):
    out = tmp_path / "trace.ndjson"
    proc = run_example("--tracepoint", "syscalls/sys_enter_openat", "--tracepoint", "sched/sched_process_fork",
                       "-o", out, "--", sys.executable, "-I", "-S", "-c", OPEN_AND_FORK)
    assert (proc.returncode, proc.stderr) == (0, b"")
    pid, child = map(int, proc.stdout.split())
    events = read_ndjson(out)
    assert {e["event_type"] for e in events} == {"probe/tracepoint"}
    # sys_enter_openat: dfd, filename (a pointer), flags, mode
    opens = [p for p in payloads(events, "probe/tracepoint", "syscalls/sys_enter_openat") if p["arg0"] & LOW32 == 200]
    assert [(p["arg2"], p["arg3"], p["arg4"], p["arg5"]) for p in opens] == \
        [(os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, 0, 0, 0)]
    assert opens[0]["arg1"] != 0
    # sched_process_fork: parent_comm (a __data_loc), parent_pid, child_comm, child_pid
    forks = [e["payload"] for e in events if e["pid"] == pid and e["payload"]["target"] == "sched/sched_process_fork"]
    assert [(p["arg1"], p["arg3"]) for p in forks] == [(pid, child)]


def wait_for_byte(n):
    """n fixtures waiting for a byte on their stdin before they call anything."""
    return [subprocess.Popen([FIXTURE, "wait"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
            for _ in range(n)]


def test_uprobe_pid_traces_that_process_only(tmp_path):
    traced, other = wait_for_byte(2)
    out = tmp_path / "trace.ndjson"
    tracer = subprocess.Popen([EXAMPLE, "-v", "--uprobe", f"{FIXTURE}:add_numbers", "--uprobe-pid", str(traced.pid),
                               "-o", out], stderr=subprocess.PIPE)
    err = Lines(tracer.stderr)
    err.wait_for(rf"^example: probe/uprobe \(uprobe {re.escape(FIXTURE)}:add_numbers\): attached in pid {traced.pid}$")
    for proc in (traced, other):
        proc.communicate(b"go", timeout=HANG_TIMEOUT)
        assert proc.returncode == 0
    tracer.send_signal(signal.SIGINT)
    assert tracer.wait(HANG_TIMEOUT) == 0
    events = read_ndjson(out)
    assert [(e["pid"], e["payload"]["arg0"] & LOW32, e["payload"]["arg1"]) for e in events] == \
        [(traced.pid, a, b) for a, b, _ in ADDS]


def test_kprobe_on_this_kernel(tmp_path):
    out = tmp_path / "trace.ndjson"
    proc = run_example("--kprobe", "do_sys_openat2", "-e", "syscalls/sys_enter_openat", "-o", out,
                       "--", "cat", "/proc/version")
    assert proc.returncode == 0
    events = read_ndjson(out)
    # The other selected event flows either way.
    assert "/proc/version" in [p["filename"] for p in payloads(events, "syscalls/sys_enter_openat")]
    kprobes = payloads(events, "probe/kprobe")
    if kprobes_expected():
        assert proc.stderr == b""
        assert kprobes and all(p["target"] == "do_sys_openat2" for p in kprobes)
    else:
        assert stderr_lines(proc) == [f"example: probe/kprobe (kprobe do_sys_openat2): {NO_KPROBES}; skipped"]
        assert kprobes == []


def test_kprobe_strict_on_this_kernel(tmp_path):
    out = tmp_path / "trace.ndjson"
    proc = run_example("--strict", "--kprobe", "do_sys_openat2", "-e", "syscalls/sys_enter_openat", "-o", out,
                       "--", "true")
    if kprobes_expected():
        assert (proc.returncode, proc.stderr) == (0, b"")
    else:
        assert proc.returncode == 1
        assert stderr_lines(proc) == [f"example: probe/kprobe (kprobe do_sys_openat2): {NO_KPROBES}; failing (strict)"]
        assert not out.exists()


MISSING = {
    "binary": ("/nonexistent/probe_target:add_numbers", "binary /nonexistent/probe_target does not exist"),
    "symbol": (f"{FIXTURE}:no_such_function", f"{FIXTURE} has no function symbol no_such_function"),
}


@pytest.mark.parametrize("what", MISSING)
def test_missing_uprobe_target_is_one_warning(tmp_path, what):
    target, why = MISSING[what]
    out = tmp_path / "trace.ndjson"
    proc = run_example("--uprobe", target, "--uretprobe", f"{FIXTURE}:add_numbers", "-o", out, "--", FIXTURE)
    assert (proc.returncode, proc.stdout) == (0, FIXTURE_STDOUT)
    assert stderr_lines(proc) == [f"example: probe/uprobe (uprobe {target}): {why}; skipped"]
    events = read_ndjson(out)
    assert [p["ret"] for p in payloads(events, "probe/uretprobe")] == [s for _, _, s in ADDS]
    assert payloads(events, "probe/uprobe") == []

    strict = run_example("--strict", "--uprobe", target, "--uretprobe", f"{FIXTURE}:add_numbers", "-o", out,
                         "--", FIXTURE)
    assert (strict.returncode, strict.stdout) == (1, b"")
    assert stderr_lines(strict) == [f"example: probe/uprobe (uprobe {target}): {why}; failing (strict)"]


def test_check_says_what_each_target_needs():
    out = run_example("check")
    assert out.returncode == 0
    text = out.stdout.decode()
    for kind, option in (("uprobe", "--uprobe BIN:FUNC"), ("uretprobe", "--uretprobe BIN:FUNC"),
                         ("tracepoint", "--tracepoint CAT/NAME")):
        assert re.search(rf"^  \u2713 probe/{kind} \({kind}, id \d+\): target given at run time \({option}\)$",
                         text, re.M), kind
    for kind in ("kprobe", "kretprobe"):
        if kprobes_expected():
            want = rf"^  \u2713 probe/{kind} \({kind}, id \d+\): target given at run time \(--{kind} FUNC\)$"
        else:
            want = rf"^  \u2717 probe/{kind} \({kind}, id \d+\): {re.escape(NO_KPROBES)}$"
        assert re.search(want, text, re.M), kind
    assert re.search(r"^  \u2713 syscalls/sys_enter_openat \(tracepoint syscalls/sys_enter_openat, id 1024\)$",
                     text, re.M)
