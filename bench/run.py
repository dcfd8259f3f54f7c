#!/usr/bin/python3
"""run.py: the benchmark behind `make bench`.

Each scenario runs untraced, under the floor, under ./example and under each peer that
can trace it, alternating tools run by run; the medians go to a Markdown report on
stdout and in bench/RESULTS.md (progress goes to stderr).

  run.py --tools build/bench [--example ./example]

Environment (all optional):
  BENCH_RUNS=3            runs of each tool per scenario
  BENCH_SCENARIOS=a,b     a subset of: openat write64 write4k write32k exec exec-long
                          exec-literal threads cpu
  BENCH_TOOLS=a,b         a subset of: floor tracer strace bpftrace libbpf-tools perf-trace
                          tracer-profile-49 tracer-profile-999 perf-record-49
                          perf-record-999 perf-dwarf-49 perf-dwarf-999
                          bpftrace-profile-49 bpftrace-profile-999 (the last eight: the
                          cpu scenario's CPU profilers)
  BENCH_SCALE=1           multiplies every operation count (e.g. 0.01 for a smoke run)
  BENCH_TIMEOUT=300       seconds before one run is stopped and reported as a timeout
  BENCH_TMP=/dev/shm      where tool outputs are written (and deleted once counted)
  BENCH_RESULTS=FILE      report file; default bench/RESULTS.md for a full run (every
                          scenario and tool, scale 1, 3 runs or more), else
                          TOOLS/RESULTS.md, so that a quick run keeps the last full one
"""

import argparse
import datetime
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import check  # noqa: E402 (after the line above on purpose)
import peers  # noqa: E402
import prepare  # noqa: E402
import report  # noqa: E402
import runner  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

SCENARIOS = [  # key, wload arguments, kind (see peers.py)
    ("openat", ["openat", "1000000", "/etc/hostname"], "openat"),
    ("write64", ["write", "1000000", "64"], "write"),
    ("write4k", ["write", "100000", "4096"], "write"),
    ("write32k", ["write", "20000", "32768"], "write"),
    ("exec", ["exec", "20000"], "exec"),
    ("exec-long", ["exec-long", "2000"], "exec"),
    ("exec-literal", ["exec-literal", "5000"], "exec"),
    ("threads", ["threads", "2", "500000", "/etc/hostname"], "openat"),
    ("cpu", ["cpu", "3000000"], "cpu"),
]

# A cheap command per peer: a peer that fails it here is left out, with the reason.
PROBES = {
    "strace": ["strace", "-o", "/dev/null", "/bin/true"],
    "bpftrace": ["bpftrace", "-q", "-e", "tracepoint:syscalls:sys_enter_exit_group { }",
                 "-c", "/bin/true"],
    "libbpf-tools": ["opensnoop", "-d", "1"],
    "perf-trace": ["perf", "trace", "-o", "/dev/null", "-e", "openat", "--", "/bin/true"],
    "perf-record": ["perf", "record", "-q", "-o", "/dev/null", "-F", "49", "-g", "--", "/bin/true"],
    "perf-dwarf": ["perf", "record", "-q", "-o", "/dev/null", "-F", "49", "--call-graph", "dwarf", "--",
                   "/bin/true"],
    "bpftrace-profile": ["bpftrace", "-q", "-e", "profile:hz:49 { exit(); }"],
}

# The write content sizes the scenarios use, for the serializer's sized rows.
SERIALIZER_SIZED = "syscalls/sys_enter_write:content:64,4096,32768"


@dataclass
class Scenario:
    key: str
    args: list
    kind: str
    generated: int
    what: str
    path: str = None
    size: int = None
    argv: list = None         # exec: the argv each child gets


def make_scenario(key, args, kind, scale, wload):
    args = list(args)
    n_at = 2 if args[0] == "threads" else 1  # the per-thread or total operation count
    args[n_at] = str(max(1, int(int(args[n_at]) * scale)))
    generated = int(args[1]) * (int(args[2]) if args[0] == "threads" else 1)
    what = {"exec-long": "execs of 100 arguments of 300 bytes",
            "exec-literal": "execs by a fresh child of a string-literal argv"}.get(key) or {
        "openat": "openat", "write": "writes to fd 1", "exec": "execs",
        "cpu": "operations of 1,000 multiply-adds, sampled by CPU profilers"}[kind]
    sc = Scenario(key, args, kind, generated, what)
    if kind == "openat":
        sc.path = args[-1]
    if kind == "write":
        sc.size = int(args[2])
    if kind == "exec":
        sc.argv = check.exec_argv(wload, args[0])
    return sc


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def env_list(name, allowed):
    value = os.environ.get(name)
    if not value:
        return list(allowed)
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in allowed]
    if unknown:
        raise SystemExit(f"bench: {name}: unknown {', '.join(unknown)} "
                         f"(choose from {', '.join(allowed)})")
    return chosen


def available_tools(tools, example, chosen):
    """The tools that can run here, and a line for each one that cannot."""
    usable, missing = [], []
    for tool in tools:
        if tool.key not in chosen:
            continue
        if tool.key == "tracer" and not os.access(example, os.X_OK):
            missing.append(f"- ./example: not found at {example} (run `make` first)")
            continue
        probe = PROBES.get(getattr(tool, "probe", tool.key))
        if probe:
            why = prepare.probe(probe)
            if why:
                missing.append(f"- {tool.label}: left out, `{' '.join(probe)}` failed: {why}")
                continue
        usable.append(tool)
    return usable, missing


class Bench:
    def __init__(self, wload, tmp, timeout_s):
        self.wload, self.tmp, self.timeout_s = wload, tmp, timeout_s
        self.tracer_stats = {}

    def one(self, tool, sc):
        """One run of one tool (None: the bare workload)."""
        wload = [self.wload] + sc.args
        work = tempfile.mkdtemp(dir=self.tmp)
        out, err = os.path.join(work, "out"), os.path.join(work, "err")
        try:
            if tool is None:
                return runner.run_wrapped(wload, err, self.timeout_s, is_tool=False)
            plan = tool.plan(sc, wload, out)
            if plan.mode == "wrap":
                run = runner.run_wrapped(plan.cmd, err, self.timeout_s, env=plan.env)
            else:
                run = runner.run_attached(plan.cmd, wload, out, err, self.timeout_s,
                                          by_pid=plan.mode == "pid")
            with open(err, "rb") as f:
                own = [line for line in f.read().decode("utf-8", "replace").splitlines()
                       if not line.startswith("wload:")]  # the tool's stderr alone
            if run.status.startswith("error") and own:
                run.status += f" ({own[-1].strip()})"
            if run.status == "ok":
                run.count = tool.count(sc, out, "\n".join(own), run.wpid)
                if tool.key == "tracer":
                    self.tracer_stats[sc.key] = "\n".join(own)
            return run
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def scenario(self, sc, tools, runs):
        """[(label, runs, counted)]: the untraced row first, then each tool."""
        entries = [(None, "untraced")] + [(t, t.row_label(sc)) for t in tools if t.applies(sc)]
        results = {label: [] for _, label in entries}
        for r in range(runs):
            # Alternating, and rotating the order, spreads slow drifts of the machine.
            order = entries[r % len(entries):] + entries[:r % len(entries)]
            for tool, label in order:
                run = self.one(tool, sc)
                results[label].append(run)
                detail = run.status if run.status != "ok" else f"{run.ns_per_op:,.0f} ns/op"
                if run.count:
                    detail += f", {run.count.delivered:,}/{sc.generated:,} delivered"
                log(f"{sc.key} run {r + 1}/{runs}: {label}: {detail}")
        return [(label, results[label], tool is not None) for tool, label in entries]


# bench/RESULTS.md opens with a summary kept by hand (figures of several reports side by
# side, each table saying where it comes from); a run rewrites only what follows it.
SUMMARY_END = "<!-- make bench writes below this line; the summary above is kept by hand -->"


def kept_summary(path):
    """The hand-kept head of an existing report, through its SUMMARY_END line, or ""."""
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        return ""
    end = old.find(SUMMARY_END)
    return old[:end + len(SUMMARY_END)] + "\n\n" if end >= 0 else ""


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{platform.node()}: Linux {platform.release()}, {os.cpu_count()} CPUs, {cpu}"


def versions():
    cmds = [["strace", "-V"], ["bpftrace", "--version"], ["perf", "--version"],
            ["dpkg-query", "-W", "-f", "libbpf-tools ${Version}", "libbpf-tools"]]
    out = []
    for cmd in cmds:
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, timeout=10)
            if r.returncode == 0 and r.stdout.strip():
                out.append(r.stdout.strip().splitlines()[0])
        except (OSError, subprocess.TimeoutExpired):
            pass
    return "; ".join(out)


def serializer_section(binary):
    if not os.access(binary, os.X_OK):
        return f"{binary} not built."
    r = subprocess.run([binary, SERIALIZER_SIZED], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:  # a schema without write content: the default rows only
        r = subprocess.run([binary], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return f"serialize_bench failed: {r.stderr.strip()}"
    return r.stdout.strip()


def program_cost_section(example, wload, scale):
    """The kernel's time per program run on the openat storm, measured by the kernel
    itself (kernel.bpf_stats_enabled, only for this run: it slows every BPF program
    a little). The companion of sys_enter_openat is its retry at the syscall exit: what
    completing faulted entries costs when nothing faults."""
    if not os.access(example, os.X_OK):
        return "./example not built."
    n = str(max(1, int(200000 * scale)))
    stats_path = "/proc/sys/kernel/bpf_stats_enabled"
    with open(stats_path) as f:
        before = f.read().strip()
    lines = []
    try:
        with open(stats_path, "w") as f:
            f.write("1")
        for events in ("syscalls/sys_enter_openat", "syscalls/sys_enter_openat,syscalls/sys_exit_openat"):
            r = subprocess.run([example, "--stats", "-e", events, "-o", "/dev/null", "--",
                                wload, "openat", n, "/etc/hostname"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            cost = [ln.strip() for ln in r.stderr.splitlines() if "ns/run" in ln]
            lines += [f"- `-e {events}`, {n} opens:"] + [f"  - {c}" for c in cost or ["(no program times)"]]
    finally:
        with open(stats_path, "w") as f:
            f.write(before)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="make bench: overhead, delivery and fidelity")
    ap.add_argument("--tools", required=True, help="directory with wload, floor, serialize_bench")
    ap.add_argument("--example", default="./example", help="the tracer (default ./example)")
    opts = ap.parse_args()
    tools_dir = os.path.abspath(opts.tools)
    example = os.path.abspath(opts.example)

    runs = int(os.environ.get("BENCH_RUNS", "3"))
    scale = float(os.environ.get("BENCH_SCALE", "1"))
    timeout_s = float(os.environ.get("BENCH_TIMEOUT", "300"))
    tmp_root = os.environ.get("BENCH_TMP") or ("/dev/shm" if os.path.isdir("/dev/shm") else "/tmp")
    keys = [s[0] for s in SCENARIOS]
    chosen_sc = env_list("BENCH_SCENARIOS", keys)
    all_tools = peers.all_tools(example, os.path.join(tools_dir, "floor"))
    chosen_tools = env_list("BENCH_TOOLS", [t.key for t in all_tools])
    full = (len(chosen_sc) == len(keys) and len(chosen_tools) == len(all_tools)
            and scale == 1 and runs >= 3)
    results_path = os.environ.get("BENCH_RESULTS") or (
        os.path.join(HERE, "RESULTS.md") if full else os.path.join(tools_dir, "RESULTS.md"))

    # make and CI stop a job with SIGTERM: unwind like Ctrl-C, so that every tool and
    # workload is killed and the outputs are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    prepare.prepare(log)
    tools, missing = available_tools(all_tools, example, chosen_tools)
    for line in missing:
        log(line[2:])

    tmp = tempfile.mkdtemp(prefix="bench-", dir=tmp_root)
    bench = Bench(os.path.join(tools_dir, "wload"), tmp, timeout_s)
    started = datetime.datetime.now(datetime.timezone.utc)
    settings = "".join(f"{k}={v} " for k, v in sorted(os.environ.items()) if k.startswith("BENCH_"))
    doc = ["# make bench results", "",
           f"{started:%Y-%m-%d %H:%M} UTC, {machine()}.", "",
           f"Peers: {versions()}.", "",
           f"Command: `{settings}make bench` (runs per tool: {runs}, scale: {scale:g}, "
           f"outputs in {tmp_root}).", "", report.HOW_TO_READ, ""]
    if missing:
        doc += ["Not measured:", ""] + missing + [""]
    commands = {}  # tool label -> {command shown: [scenario keys]}
    tracer_runs = {}  # scenario key -> runs of ./example
    try:
        for key, args, kind in SCENARIOS:
            if key not in chosen_sc:
                continue
            sc = make_scenario(key, args, kind, scale, bench.wload)
            rows = bench.scenario(sc, tools, runs)
            doc += [report.scenario_table(sc, rows), ""]
            for t in tools:
                if t.applies(sc):
                    commands.setdefault(t.row_label(sc), {}).setdefault(t.shown(sc), []).append(key)
            tracer_runs[sc.key] = next((r for label, r, _ in rows if label == "./example"), [])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if any(tracer_runs.values()):
        doc += [report.memory_section(tracer_runs, os.cpu_count()), ""]
    if bench.tracer_stats:
        doc += ["## ./example --stats (last run of each scenario)", ""]
        for key, text in bench.tracer_stats.items():
            doc += [f"{key}:", "", "```", text.strip() or "(nothing)", "```", ""]
    doc += ["## Commands", "", "WORKLOAD is `wload ARGS` with stdout to /dev/null.", ""]
    for label, shown in commands.items():
        doc += [f"- {label}: `{cmd}` ({', '.join(keys)})" for cmd, keys in shown.items()]
    doc += [""]
    doc += ["## Kernel time per program run (openat storm, bpf_stats)", "",
            program_cost_section(example, os.path.join(tools_dir, "wload"), scale), ""]
    doc += ["## Serializer (one core, no kernel)", "",
            serializer_section(os.path.join(tools_dir, "serialize_bench")), ""]
    text = "\n".join(doc)
    print(text)
    head = kept_summary(results_path)
    with open(results_path, "w") as f:
        f.write(head + text)
    log(f"report written to {results_path}")


if __name__ == "__main__":
    main()
