"""runner.py: runs one tool around one workload, bounded in time, and measures its memory.

Three ways a tool meets the workload:
  wrap    the tool starts the workload itself (strace -f, bpftrace -c, ./example --, ...)
  pid     the workload starts stopped (WLOAD_STOP=1), the tool attaches with its pid,
          then the workload is continued
  global  the tool traces the whole system and is started before the workload
Peak RSS is the maximum resident set size GNU time reports for the tool: the largest of
the tool and the processes it waited for, i.e. the workload in wrap mode, a small static
program. (A wait4() from this script would not do: a child inherits the high-water mark
of the Python process it was forked from.) The memory of the BPF maps the tool holds
(memlock in /proc/PID/fdinfo) is sampled while it runs.
"""

import os
import re
import signal
import subprocess
import time

TIME = "/usr/bin/time"
SAMPLE_S = 0.1
READY_TIMEOUT_S = 30
DRAIN_S = 0.5  # lets a tool attached from outside read the last events before it stops

WLOAD_LINE = re.compile(r"^wload: pid=(\d+) op=\S+ n=(\d+) ns=(\d+) ns_per_op=([\d.]+)$", re.M)


class Run:
    """What one run produced: status is 'ok', 'timeout' or 'error: ...'."""

    def __init__(self):
        self.status = "ok"
        self.wpid = None
        self.ops = None
        self.ns_per_op = None
        self.rss_kib = None
        self.map_bytes = None
        self.maps = {}     # map_id -> (map_type, memlock), from the largest sample
        self.count = None  # peers.Count, from the tool's output


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def bpf_maps(pid):
    """map_id -> (map_type, memlock bytes) for the BPF maps process pid holds open."""
    maps = {}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return maps
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:bpf-map":
                continue
        except OSError:
            continue
        info = dict(re.findall(r"^(\w+):\s+(\S+)", _read(f"/proc/{pid}/fdinfo/{fd}"), re.M))
        if "map_id" in info and "memlock" in info:
            maps[int(info["map_id"])] = (int(info.get("map_type", -1)), int(info["memlock"]))
    return maps


def _sample_maps(run, pid):
    maps = bpf_maps(pid)
    total = sum(m[1] for m in maps.values())
    if maps and total >= (run.map_bytes or 0):
        run.map_bytes, run.maps = total, maps


def _attach_fds(pid):
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            n += target in ("anon_inode:bpf_link", "anon_inode:[perf_event]")
    except OSError:
        pass
    return n


def _timed(cmd, rss_path):
    return [TIME, "-f", "%M", "-o", rss_path] + cmd


def _read_rss(run, rss_path):
    words = _read(rss_path).split()  # "Command exited with non-zero status N" may come first
    if words and words[-1].isdigit():
        run.rss_kib = int(words[-1])


def _tool_pid(timer):
    """The tool's pid: the child of the GNU time process that runs it."""
    children = _read(f"/proc/{timer.pid}/task/{timer.pid}/children").split()
    return int(children[0]) if children else None


def _watch(proc, deadline, run=None, timer=None):
    """Waits for proc, sampling the maps of the tool under timer; False on timeout."""
    while proc.poll() is None:
        if time.monotonic() > deadline:
            return False
        pid = _tool_pid(timer) if timer else None
        if pid:
            _sample_maps(run, pid)
        time.sleep(SAMPLE_S)
    return True


def _wait_ready(tool):
    """A tool that attaches by itself is ready once its set of links stops growing."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    last, stable_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        pid = _tool_pid(tool)
        if tool.poll() is not None:
            return False
        n = _attach_fds(pid) if pid else 0
        if n != last:
            last, stable_since = n, time.monotonic()
        elif n > 0 and time.monotonic() - stable_since >= 0.5:
            return True
        time.sleep(SAMPLE_S)
    return False


def _wait_stopped(pid):
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        stat = _read(f"/proc/{pid}/stat")
        if not stat or stat[stat.rindex(")") + 2] in "TZ":
            return True
        time.sleep(0.01)
    return False


def _kill(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def _popen(cmd, stdout, stderr, env=None):
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                            env=env, start_new_session=True)


def _parse_wload(run, text):
    m = WLOAD_LINE.search(text)
    if not m:
        if run.status == "ok":
            run.status = "error: no result line from the workload"
        return
    run.wpid, run.ops, run.ns_per_op = int(m.group(1)), int(m.group(2)), float(m.group(4))


def run_wrapped(cmd, err_path, timeout_s, env=None, is_tool=True):
    """The tool runs the workload as its child (or cmd is the bare workload)."""
    run = Run()
    rss_path = err_path + ".rss"
    with open(err_path, "wb") as err:
        proc = _popen(_timed(cmd, rss_path) if is_tool else cmd, subprocess.DEVNULL, err, env)
    try:
        finished = _watch(proc, time.monotonic() + timeout_s, run, proc if is_tool else None)
    finally:
        _kill(proc)  # its own session: an interrupted harness must not leave it running
    if not finished:
        run.status = "timeout"
    elif proc.returncode != 0:
        run.status = f"error: exit status {proc.returncode}"
    _read_rss(run, rss_path)
    _parse_wload(run, _read(err_path))
    return run


def run_attached(tool_cmd, wload_cmd, out_path, err_path, timeout_s, by_pid):
    """The tool attaches to a workload it does not start: by pid or system-wide."""
    run = Run()
    wload_err, rss_path = err_path + ".wload", err_path + ".rss"
    env = dict(os.environ, WLOAD_STOP="1") if by_pid else None
    tool = wload = None
    with open(out_path, "wb") as out, open(err_path, "wb") as err, \
            open(wload_err, "wb") as werr:
        try:
            if by_pid:
                wload = _popen(wload_cmd, subprocess.DEVNULL, werr, env)
                if not _wait_stopped(wload.pid):
                    run.status = "error: workload did not stop before its loop"
                    return run
                tool_cmd = [a.replace("{pid}", str(wload.pid)) for a in tool_cmd]
            tool = _popen(_timed(tool_cmd, rss_path), out, err)
            if not _wait_ready(tool):
                run.status = "error: tool did not attach"
                return run
            if by_pid:
                os.kill(wload.pid, signal.SIGCONT)
            else:
                wload = _popen(wload_cmd, subprocess.DEVNULL, werr)
            if not _watch(wload, time.monotonic() + timeout_s, run, tool):
                run.status = "timeout"
                return run
            if wload.returncode != 0:
                run.status = f"error: workload exit status {wload.returncode}"
            time.sleep(DRAIN_S)
            # GNU time ignores SIGINT while it waits: the tool alone gets it.
            os.killpg(tool.pid, signal.SIGINT)
            if not _watch(tool, time.monotonic() + READY_TIMEOUT_S, run, tool):
                run.status = "error: tool did not stop on SIGINT"
        finally:
            for p in (wload, tool):
                if p:
                    _kill(p)
            _read_rss(run, rss_path)
            _parse_wload(run, _read(wload_err))
    return run
