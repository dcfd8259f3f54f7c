"""example-rs (the Rust crate's example) against ./example: the same fixture traced by
both prints the same lines once what differs from run to run (times, pids, tids, ppids,
upid/uppid, the tracer's own comm) is normalized; -e filters alike; -p traces one
process until a signal stops the trace.

Needs root (make test-rust runs it through tests/require_bpf.sh).
"""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests' / 'example'))

from conftest import HANG_TIMEOUT, HOSTILE, read_ndjson, run_example  # noqa: E402

EXAMPLE_RS = ROOT / 'build' / 'examples' / 'example-rs'
HOSTILE_STATUS = 3
# Header keys that differ between two runs of the same program.
RUN_KEYS = ('timestamp_ns', 'pid', 'tid', 'ppid', 'upid', 'uppid')
# Payload fields that hold pids.
PID_FIELDS = ('parent_pid', 'child_pid')


def run_example_rs(*args, **kwargs):
    kwargs.setdefault('capture_output', True)
    kwargs.setdefault('timeout', HANG_TIMEOUT)
    return subprocess.run([str(EXAMPLE_RS), *map(str, args)], **kwargs)


def normalized(events, tracer):
    """Each line with its run-dependent values zeroed, sorted: the fixture's threads and
    processes interleave differently from run to run. The command's first exec still
    carries the comm of the tracer that forked it."""
    lines = []
    for ev in events:
        ev.update((k, 0) for k in RUN_KEYS)
        ev['payload'].update((k, 0) for k in PID_FIELDS if k in ev['payload'])
        if ev['comm'] == tracer:
            ev['comm'] = 'TRACER'
        lines.append(json.dumps(ev))
    return sorted(lines)


def trace_both(tmp_path, *options):
    """The hostile fixture traced by ./example and by example-rs, each in an empty
    directory: (process, normalized lines) of each."""
    runs = []
    for name, run in (('example', run_example), ('example-rs', run_example_rs)):
        workdir = tmp_path / name
        workdir.mkdir()
        out = workdir / 'trace.ndjson'
        proc = run(*options, '-o', out, '--', HOSTILE, cwd=workdir)
        assert proc.returncode == HOSTILE_STATUS, proc.stderr.decode(errors='replace')
        runs.append((proc, normalized(read_ndjson(out), name)))
    return runs


def test_same_lines_as_example(tmp_path):
    (c_proc, c_lines), (rs_proc, rs_lines) = trace_both(tmp_path)
    assert len(c_lines) > 40
    assert rs_lines == c_lines
    # The command's own output passes through both alike.
    assert rs_proc.stdout == c_proc.stdout and rs_proc.stdout


def test_same_lines_with_an_event_filter(tmp_path):
    (_, c_lines), (_, rs_lines) = trace_both(tmp_path, '-e', 'syscalls/*_openat')
    assert {json.loads(line)['event_type'] for line in rs_lines} == {
        'syscalls/sys_enter_openat', 'syscalls/sys_exit_openat'}
    assert rs_lines == c_lines


def test_one_process_until_a_signal(tmp_path):
    """-p: a process that opens a marker path in a loop is traced, nothing else is; the
    trace runs until SIGINT, after which every line is complete and the exit status 0."""
    marker = '/nonexistent/example-rs-marker'
    loop = ('import time\nwhile True:\n    try:\n        open(%r)\n    except OSError:\n        pass\n'
            '    time.sleep(0.05)\n' % marker)
    target = subprocess.Popen([sys.executable, '-c', loop])
    out = tmp_path / 'trace.ndjson'
    tracer = subprocess.Popen([str(EXAMPLE_RS), '-p', str(target.pid), '-e', 'syscalls/sys_enter_openat', '-o', out],
                              stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + HANG_TIMEOUT
        while marker.encode() not in (out.read_bytes() if out.exists() else b''):
            assert time.monotonic() < deadline and tracer.poll() is None, 'the marker never came'
            time.sleep(0.05)
        tracer.send_signal(signal.SIGINT)
        assert tracer.wait(timeout=HANG_TIMEOUT) == 0, tracer.stderr.read().decode(errors='replace')
    finally:
        target.kill()
        target.wait()
        if tracer.poll() is None:
            tracer.kill()
    events = read_ndjson(out)
    assert events and {ev['pid'] for ev in events} == {target.pid}
    assert all(ev['payload']['filename'] == marker for ev in events)


def test_exit_statuses_are_examples(tmp_path):
    """A command that is not found: 127 from both; a bad option: 2 from both."""
    for args, status in ((['--', '/nonexistent/command'], 127), (['--no-such-option'], 2)):
        c = run_example(*args, cwd=tmp_path)
        rs = run_example_rs(*args, cwd=tmp_path)
        assert (c.returncode, rs.returncode) == (status, status), rs.stderr.decode(errors='replace')
