"""Whole user stacks from unwind tables (profile/cpu's ustack, unwind = "dwarf"): a chain
built without frame pointers, a leaf that sets up no frame, Debian's python3 in libz and
a clock read in the vDSO reach their callers; a stack whose unwinding stopped early is marked truncated and
counted (sym_unwind_partial); unwind tables that lie (nobody's) cannot loop the unwinder. The expectations are counts from the same run."""
import re
import subprocess

from conftest import FIXTURES, as_nobody, read_ndjson, run_example

CHAIN = FIXTURES / "unwind_chain"
LEAF = FIXTURES / "unwind_leaf"
LOOP = FIXTURES / "unwind_loop"
BURN = FIXTURES / "burn"
# Debian's interpreter, whose libraries (libz among them) have no frame pointers.
PYTHON = "/usr/bin/python3"
ZLIB_LOOP = """
import os, sys, time, zlib
data = os.urandom(1 << 16) + bytes(1 << 16)
end = time.process_time() + float(sys.argv[1])
while time.process_time() < end:
    zlib.compress(data, 6)
"""


def names(frames):
    """The function names of a JSON stack ("name+0xOFF (module)"), or the frame as it is."""
    return [re.sub(r"\+0x[0-9a-f]+( \(.*\))?$", "", f) for f in frames]


def user_samples(path, pid):
    """The profile/cpu events of process pid: (ustack frames, truncated)."""
    return [(ev["payload"]["ustack"], "ustack" in ev.get("truncated", []))
            for ev in read_ndjson(path) if ev["event_type"] == "profile/cpu" and ev["pid"] == pid]


def stats_counter(stderr, name):
    m = re.search(rf"\b{name} (\d+)", stderr.decode(errors="replace"))
    assert m, f"no {name} in --stats"
    return int(m.group(1))


def folded_counts(path):
    """--folded output: each stack line and its count."""
    return {stack: int(n) for stack, n in (line.rsplit(" ", 1) for line in path.read_text().splitlines())}


def run_traced(tmp_path, *cmd):
    out = tmp_path / "trace.ndjson"
    proc = run_example("-e", "profile/cpu,sched/sched_process_exec", "--stats", "-o", out, "--", *cmd)
    assert proc.returncode == 0, proc.stderr
    pid = next(ev["pid"] for ev in read_ndjson(out) if ev["event_type"] == "sched/sched_process_exec")
    return proc, user_samples(out, pid), out


def test_chain_without_frame_pointers(tmp_path):
    proc, samples, out = run_traced(tmp_path, CHAIN, "chain", "2")
    in_d = [(names(frames), cut) for frames, cut in samples if frames and names(frames)[0] == "level_d"]
    whole = [n for n, cut in in_d if n[:5] == ["level_d", "level_c", "level_b", "level_a", "main"] and not cut]
    assert in_d and 5 * len(whole) >= 4 * len(in_d), in_d
    # Every stack that stopped short of the outermost frame says so, and is counted.
    events = [ev for ev in read_ndjson(out) if ev["event_type"] == "profile/cpu"]
    cut = sum("ustack" in ev.get("truncated", []) for ev in events)
    assert cut == stats_counter(proc.stderr, "sym_unwind_partial")


def test_chain_in_folded_stacks(tmp_path):
    out = tmp_path / "out.folded"
    proc = run_example("--folded", "-o", out, "--", CHAIN, "chain", "2")
    assert proc.returncode == 0, proc.stderr
    counts = folded_counts(out)
    in_d = sum(n for stack, n in counts.items() if stack.endswith(";level_d"))
    whole = sum(n for stack, n in counts.items()
                if stack.startswith("unwind_chain;") and stack.endswith(";main;level_a;level_b;level_c;level_d"))
    assert in_d and 5 * whole >= 4 * in_d, counts


def test_leaf_keeps_its_caller(tmp_path):
    proc, samples, _ = run_traced(tmp_path, LEAF, "leaf", "2")
    in_leaf = [names(frames) for frames, _ in samples if frames and names(frames)[0] == "burn_cpu"]
    assert in_leaf
    assert [n[:3] for n in in_leaf] == [["burn_cpu", "hot_caller", "main"]] * len(in_leaf)


def test_python_in_libz_reaches_main(tmp_path):
    script = tmp_path / "zlib_loop.py"
    script.write_text(ZLIB_LOOP)
    proc, samples, _ = run_traced(tmp_path, PYTHON, script, "2")
    in_libz = [(names(frames), cut) for frames, cut in samples
               if frames and re.search(r" \(libz\.so[.0-9]*(\+0x[0-9a-f]+)?\)$", frames[0])]
    reach = [("Py_BytesMain" in n or "main" in n, cut) for n, cut in in_libz]
    assert in_libz and 5 * sum(r for r, _ in reach) >= 4 * len(in_libz), in_libz
    # Those that do not reach it are marked.
    assert all(cut for r, cut in reach if not r)


def test_vdso_frames_reach_main(tmp_path):
    # burn reads CLOCK_MONOTONIC in a loop: in the vDSO, whose unwind tables (the
    # tracer's own image, the same bytes) lead back through libc to burn_clock and main.
    proc, samples, _ = run_traced(tmp_path, BURN, "clock", "2")
    in_vdso = [(names(frames), cut) for frames, cut in samples if frames and "([vdso]" in frames[0]]
    whole = [n for n, cut in in_vdso
             if n[0].startswith("__vdso_") and "burn_clock" in n and "main" in n[n.index("burn_clock"):]
             and not cut]
    assert in_vdso and 5 * len(whole) >= 4 * len(in_vdso), in_vdso


def test_vdso_frames_reach_main_in_folded_stacks(tmp_path):
    out = tmp_path / "out.folded"
    proc = run_example("--folded", "-o", out, "--", BURN, "clock", "2")
    assert proc.returncode == 0, proc.stderr
    # Each stack's user part: a clocksource the vDSO cannot read (hpet in the VM) sends it
    # to a system call, whose kernel frames (_[k]) follow the vDSO's.
    counts = {}
    for stack, n in folded_counts(out).items():
        user = re.sub(r"(;[^;]*_\[k\])+$", "", stack)
        counts[user] = counts.get(user, 0) + n
    # A frame in the vDSO is its function's name, or "[[vdso]]" unnamed.
    in_vdso = sum(n for stack, n in counts.items()
                  if stack.startswith("burn;") and re.search(r";(__vdso_\w+|\[\[vdso\]\])$", stack))
    whole = sum(n for stack, n in counts.items()
                if re.match(r"burn;_start;.*;main;burn_clock;.*;__vdso_\w+$", stack))
    assert in_vdso and 5 * whole >= 4 * in_vdso, counts


def test_lying_unwind_tables_cannot_loop_the_unwinder(tmp_path):
    # nobody's program says, through its unwind tables, that spin_loop calls itself on the
    # same stack forever. The unwinder keeps only frames that move up the stack: the
    # samples in the loop have their one true frame, marked truncated and counted.
    victim = subprocess.Popen([LOOP, "3600"], preexec_fn=as_nobody, cwd="/")
    try:
        out = tmp_path / "trace.ndjson"
        proc = run_example("-e", "profile/cpu", "-p", victim.pid, "-d", "2", "--stats", "-o", out)
    finally:
        victim.kill()
        victim.wait()
    assert proc.returncode == 0, proc.stderr
    samples = user_samples(out, victim.pid)
    in_loop = [(frames, cut) for frames, cut in samples if frames and re.match(r"spin_loop\+0x[9a-d] ", frames[0])]
    assert in_loop and all(len(frames) == 1 and cut for frames, cut in in_loop), in_loop
    assert sum(cut for _, cut in samples) == stats_counter(proc.stderr, "sym_unwind_partial")
