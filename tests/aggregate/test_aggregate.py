"""Aggregations end to end (root): a traced child does exactly known work
(tests/fixtures/aggwork.c) and the aggregate lines ./example prints at exit count it
exactly: per pid and per comm, sums, histogram buckets, an aggregate-only event that
sends nothing, keys past a tiny map counted in aggregate_full, and -i lines as totals.
Every line is valid against the build's JSON Schema."""
import subprocess

from conftest import AGGWORK, HANG_TIMEOUT, aggregate_rows, read_lines, stats_rows, validator

OPENS = 37
# aggwork writes: (size, times)
WRITES = [(0, 1), (1, 3), (100, 5), (4096, 7), (70000, 2)]


def trace(build, tmp_path, *args):
    """./example of the test build tracing `aggwork ARGS`; returns (lines, stats, stdout)."""
    out = tmp_path / 'trace.ndjson'
    proc = subprocess.run([build / 'example', '--stats', '-o', out, *args[:-1], '--', AGGWORK, *args[-1]],
                          capture_output=True, text=True, timeout=HANG_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    return read_lines(out, validator(build / 'gen')), stats_rows(proc.stderr), proc.stdout


def test_opens_counted_exactly_per_pid_and_per_comm(agg_build, tmp_path):
    lines, stats, stdout = trace(agg_build, tmp_path, ['opens', str(OPENS)])
    child = int(stdout)
    assert [r for r in aggregate_rows(lines, 'opens_by_pid') if r['key'] == {'pid': child}] == [
        {'aggregate': 'opens_by_pid', 'event_type': 'syscalls/sys_enter_openat',
         'timestamp_ns': lines[-1]['timestamp_ns'], 'key': {'pid': child}, 'count': OPENS}]
    (comm,) = [r for r in aggregate_rows(lines, 'opens_by_comm') if r['key'] == {'comm': 'agg-open'}]
    assert (comm['count'], comm['sum']) == (OPENS, {'flags': 0})  # O_RDONLY
    assert list(comm) == ['aggregate', 'event_type', 'timestamp_ns', 'key', 'count', 'sum']


def test_aggregate_only_event_sends_nothing(agg_build, tmp_path):
    lines, stats, _ = trace(agg_build, tmp_path, ['opens', str(OPENS)])
    assert not [line for line in lines if line.get('event_type') == 'syscalls/sys_enter_openat'
                and 'aggregate' not in line]
    assert stats.get('syscalls/sys_enter_openat', {}).get('emitted', 0) == 0
    # The emitting event next to it still arrives: the write of the child's pid.
    assert stats['syscalls/sys_enter_write']['emitted'] == stats['syscalls/sys_enter_write']['delivered'] > 0


def test_histogram_buckets_exact(agg_build, tmp_path):
    lines, _, _ = trace(agg_build, tmp_path, ['writes'])
    (row,) = [r for r in aggregate_rows(lines, 'bytes_by_comm') if r['key'] == {'comm': 'agg-write'}]
    assert row['count'] == sum(n for _, n in WRITES)
    assert row['sum'] == {'count': sum(size * n for size, n in WRITES)}
    assert row['hist'] == {'field': 'count', 'buckets': [
        {'ge': 0, 'lt': 1, 'count': 1}, {'ge': 1, 'lt': 2, 'count': 3}, {'ge': 64, 'lt': 128, 'count': 5},
        {'ge': 4096, 'lt': 8192, 'count': 7}, {'ge': 65536, 'lt': 131072, 'count': 2}]}
    # The writes were also sent, one line each.
    sent = [line['payload']['count'] for line in lines
            if line.get('event_type') == 'syscalls/sys_enter_write' and line.get('comm') == 'agg-write']
    assert sorted(sent) == sorted(size for size, n in WRITES for _ in range(n))


def test_signed_histogram_has_a_bucket_below_zero(agg_build, tmp_path):
    lines, _, _ = trace(agg_build, tmp_path, ['badread'])
    (row,) = [r for r in aggregate_rows(lines, 'reads_by_comm') if r['key']['comm'] == 'agg-read']
    assert (row['count'], row['hist']['buckets']) == (1, [{'lt': 0, 'count': 1}])  # -EBADF


def test_keys_past_a_tiny_map_are_counted(agg_build, tmp_path):
    children = 6
    lines, stats, _ = trace(agg_build, tmp_path, '--agg-entries', '2', ['forks', str(children)])
    # The parent (the loader's opens) and the first child fit; every other child's open
    # is counted, not dropped silently.
    assert len(aggregate_rows(lines, 'opens_by_pid')) == 2
    assert stats['syscalls/sys_enter_openat']['aggregate_full'] == children - 1
    assert {r['key']['comm'] for r in aggregate_rows(lines, 'opens_by_comm')} == {'aggwork', 'agg-fork'}


def test_interval_lines_are_growing_totals(agg_build, tmp_path):
    lines, _, _ = trace(agg_build, tmp_path, '-i', '0.3', ['busy', '2'])
    counts = [r['count'] for r in lines if r.get('aggregate') == 'opens_by_comm' and r['key'] == {'comm': 'agg-busy'}]
    stamps = sorted({r['timestamp_ns'] for r in lines if 'aggregate' in r})
    assert len(stamps) >= 4 and len(counts) >= 4
    assert counts == sorted(counts) and counts[0] < counts[-1]
