"""example-rs (the Rust crate's example) against ./example: the same fixture traced by
both prints the same lines once what differs from run to run (times, pids, tids, ppids,
upid/uppid, the tracer's own comm) is normalized, for each feature: events (-e), a
run-time uprobe and uretprobe, the aggregations (on the aggregation tests' schema, built
on the side), the --stats table, and folded stacks of the frame-pointer fixture; -p
traces one process until a signal stops the trace.

Needs root (make test-rust runs it through tests/require_bpf.sh).
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests' / 'cli'))

from conftest import EXAMPLE, FIXTURES, HANG_TIMEOUT, HOSTILE, PROBE_TARGET, read_ndjson, run_example  # noqa: E402

EXAMPLE_RS = ROOT / 'build' / 'examples' / 'example-rs'
HOSTILE_STATUS = 3
BURN = FIXTURES / 'burn'
AGGWORK = FIXTURES / 'aggwork'
AGG_SCHEMA = ROOT / 'tests' / 'aggregate' / 'events.toml'
# Header keys that differ between two runs of the same program.
RUN_KEYS = ('timestamp_ns', 'pid', 'tid', 'ppid', 'upid', 'uppid')
# Payload fields that hold pids or times.
RUN_FIELDS = ('parent_pid', 'child_pid', 'elapsed_ns')
# probe_target's add_numbers(int, long) and what main() passes it: (a, b, a + b).
ADD_CALLS = [(2, 40, 42), (-7, 1000, 993), (100000, 5000000000, 5000100000)]
FOLDED_LINE = re.compile(r'^(\S[^;]*)((?:;[^;]+)*) (\d+)$')
STATS_AFTER = re.compile(r'^example(-rs)?: stats after \d+\.\ds$')


def run_example_rs(*args, **kwargs):
    kwargs.setdefault('capture_output', True)
    kwargs.setdefault('timeout', HANG_TIMEOUT)
    return subprocess.run([str(EXAMPLE_RS), *map(str, args)], **kwargs)


def normalized(events, tracer, payload_keys=RUN_FIELDS):
    """Each line with its run-dependent values zeroed, sorted: the fixture's threads and
    processes interleave differently from run to run. The command's first exec still
    carries the comm of the tracer that forked it."""
    lines = []
    for ev in events:
        ev.update((k, 0) for k in RUN_KEYS if k in ev)
        ev.get('payload', {}).update((k, 0) for k in payload_keys if k in ev.get('payload', {}))
        key = ev.get('key', {})
        key.update((k, 0) for k in ('pid', 'tid') if k in key)
        for d in (ev, key):
            if d.get('comm') == tracer:
                d['comm'] = 'TRACER'
        lines.append(json.dumps(ev))
    return sorted(lines)


def run_both(tmp_path, options, command, status=0, binaries=(EXAMPLE, EXAMPLE_RS)):
    """`command` traced by ./example and by example-rs (or the given pair), each in an
    empty directory with -o FILE: per tracer, (process, events of its output)."""
    runs = []
    for binary in binaries:
        name = Path(binary).name
        workdir = tmp_path / name
        workdir.mkdir()
        out = workdir / 'trace.out'
        proc = subprocess.run([str(binary), *map(str, options), '-o', out, '--', *map(str, command)], cwd=workdir,
                              capture_output=True, timeout=HANG_TIMEOUT)
        assert proc.returncode == status, proc.stderr.decode(errors='replace')
        runs.append((name, proc, out))
    return runs


def trace_both(tmp_path, *options):
    """The hostile fixture traced by both: (process, normalized lines) of each."""
    return [(proc, normalized(read_ndjson(out), name))
            for name, proc, out in run_both(tmp_path, options, [HOSTILE], HOSTILE_STATUS)]


def stats_table(stderr):
    """The --stats table, the line naming the tracer and the times normalized (the
    kernel's time per program run is shown when kernel.bpf_stats_enabled is 1)."""
    lines = stderr.decode(errors='replace').splitlines()
    start = next(i for i, line in enumerate(lines) if STATS_AFTER.match(line))
    return ['STATS AFTER'] + [re.sub(r'\d+ ns/run', 'N ns/run', line) for line in lines[start + 1:]]


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


def test_runtime_uprobes_same_lines(tmp_path):
    """--uprobe and --uretprobe on probe_target's add_numbers: the calls main() makes,
    with their arguments and results, alike from both. The argument registers past the
    two the function takes hold addresses that differ from run to run."""
    target = f'{PROBE_TARGET}:add_numbers'
    runs = run_both(tmp_path, ['--uprobe', target, '--uretprobe', target], [PROBE_TARGET])
    (c_name, _, c_out), (rs_name, _, rs_out) = runs
    junk = RUN_FIELDS + ('arg2', 'arg3', 'arg4', 'arg5')
    c_lines, rs_lines = normalized(read_ndjson(c_out), c_name, junk), normalized(read_ndjson(rs_out), rs_name, junk)
    assert rs_lines == c_lines
    calls = [json.loads(line)['payload'] for line in rs_lines]
    entries = sorted((p['arg0'], p['arg1']) for p in calls if 'ret' not in p)
    returns = sorted(p['ret'] for p in calls if 'ret' in p)
    # The int argument is its register's low 32 bits, zero-extended.
    assert (entries, returns) == (sorted((a % 2**32, b) for a, b, _ in ADD_CALLS), sorted(r for _, _, r in ADD_CALLS))


def test_stats_table_same(tmp_path):
    """--stats of a known workload: the same table, every counter, from both."""
    target = f'{PROBE_TARGET}:add_numbers'
    (_, c_proc, _), (_, rs_proc, _) = run_both(tmp_path, ['--uprobe', target, '--stats'], [PROBE_TARGET])
    c_table, rs_table = stats_table(c_proc.stderr), stats_table(rs_proc.stderr)
    assert rs_table == c_table
    row = next(line for line in rs_table if line.split()[:1] == ['probe/uprobe'])
    assert row.split()[1:3] == [str(len(ADD_CALLS))] * 2  # delivered, emitted


@pytest.fixture(scope='module')
def agg_build(tmp_path_factory):
    """./example and example-rs of the aggregation tests' schema, built on the side."""
    build = tmp_path_factory.mktemp('rsaggbuild')
    env = {k: v for k, v in os.environ.items() if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL')}
    made = subprocess.run(['make', '-C', str(ROOT), '-s', '-j2', f'BUILD={build}', f'EVENTS={AGG_SCHEMA}',
                           f'PYTHON={sys.executable}', str(build / 'example'), str(build / 'examples' / 'example-rs')],
                          env=env, capture_output=True, text=True, timeout=HANG_TIMEOUT)
    assert made.returncode == 0, made.stdout + made.stderr
    return build


def test_aggregations_same_lines(agg_build, tmp_path):
    """aggwork's writes (and the opens around them): the events and every aggregate line
    (counts, sums, histograms) alike from both. Not the reads, whose aggregation is keyed
    by CPU too: where the scheduler runs a task differs from run to run."""
    runs = run_both(tmp_path, ['-e', 'syscalls/sys_enter_*'], [AGGWORK, 'writes'],
                    binaries=(agg_build / 'example', agg_build / 'examples' / 'example-rs'))
    (c_name, _, c_out), (rs_name, _, rs_out) = runs
    # Events and aggregate lines: objects of two kinds (read_ndjson knows events only).
    c_lines, rs_lines = (normalized([json.loads(line) for line in out.read_text().splitlines()], name)
                         for name, out in ((c_name, c_out), (rs_name, rs_out)))
    assert rs_lines == c_lines
    (row,) = [json.loads(line) for line in rs_lines if '"bytes_by_comm"' in line and '"agg-write"' in line]
    assert (row['count'], row['sum']) == (18, {'count': 3 * 1 + 5 * 100 + 7 * 4096 + 2 * 70000})


def folded_counts(out):
    lines = out.read_text().splitlines()
    counts = {}
    for line in lines:
        m = FOLDED_LINE.match(line)
        assert m, f'not a folded stack: {line!r}'
        counts[m.group(1) + m.group(2)] = int(m.group(3))
    assert lines == sorted(lines) and len(counts) == len(lines)
    return counts


def delivered(stderr, event):
    table = stats_table(stderr)
    return int(next(line for line in table if line.split()[:1] == [event]).split()[1])


def test_folded_stacks_same_form(tmp_path):
    """--folded of the frame-pointer fixture: samples differ from run to run, so each
    run is held against its own count (every sample delivered is in one line), and the
    stack where the fixture spends its time is the same line in both."""
    busiest = set()
    for name, proc, out in run_both(tmp_path, ['--folded', '--stats'], [BURN, 'user', '1']):
        counts = folded_counts(out)
        assert sum(counts.values()) == delivered(proc.stderr, 'profile/cpu') > 0, name
        busiest.add(max(counts, key=counts.get))
    (stack,) = busiest
    assert stack.startswith('burn;') and stack.endswith(';main;burn_caller;burn_cpu')
