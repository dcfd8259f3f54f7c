#!/usr/bin/python3
"""aggregate.py: `make bench-aggregate`: what counting in the kernel costs.

The openat storm of bench/wload (BENCH_OPS openat calls, default 1M, one thread or
BENCH_THREADS) runs untraced, under the floor (one 64-byte ring record per event), under
./example built from bench/aggregate.toml (sys_enter_openat aggregate-only, counted by
comm: nothing sent), under the tree's ./example sending the same event
(-e syscalls/sys_enter_openat), and under bpftrace's @[comm] = count(); the tools
alternate run by run (BENCH_RUNS, default 5) and the medians of the workload's own
ns/op go to stdout as Markdown, with the count each tool reported for the workload.

  aggregate.py --tools build/bench --agg-example BUILD/example [--example ./example]
"""
import argparse
import json
import os
import re
import statistics
import sys
import tempfile

sys.dont_write_bytecode = True
import runner  # noqa: E402


def tools(args, wload):
    """(label, the command that runs wload with its output at out, how to read its count
    of the workload's opens)."""
    def agg(out, err, wpid):
        rows = [json.loads(line) for line in open(out)]
        return sum(r['count'] for r in rows if r.get('key') == {'comm': 'wload'})

    def emitted(out, err, wpid):
        return sum(1 for line in open(out) if f'"pid":{wpid},' in line)

    def bpftrace(out, err, wpid):
        m = re.search(r'^@\[wload\]: (\d+)$', open(out).read(), re.M)
        return int(m.group(1)) if m else 0

    def floor(out, err, wpid):
        m = re.search(r'openat=(\d+)', err)
        return int(m.group(1)) if m else 0

    return [
        ('untraced', None, None),
        ('floor', lambda out: [os.path.join(args.tools, 'floor'), '--', *wload], floor),
        ('./example, aggregate-only count by comm', lambda out: [args.agg_example, '-o', out, '--', *wload], agg),
        ('./example, the event sent',
         lambda out: [args.example, '-e', 'syscalls/sys_enter_openat', '-o', out, '--', *wload], emitted),
        ('bpftrace @[comm] = count()',
         lambda out: ['bpftrace', '-q', '-o', out, '-e', 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }',
                      '-c', ' '.join(wload)], bpftrace),
    ]


def one(cmd_of, wload, tmp):
    """One run: the bare workload when cmd_of is None."""
    work = tempfile.mkdtemp(dir=tmp)
    out, err = os.path.join(work, 'out'), os.path.join(work, 'err')
    if cmd_of is None:
        return runner.run_wrapped(wload, err, 600, is_tool=False), out, err
    return runner.run_wrapped(cmd_of(out), err, 600), out, err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tools', required=True)
    ap.add_argument('--agg-example', required=True)
    ap.add_argument('--example', default='./example')
    args = ap.parse_args()
    ops = os.environ.get('BENCH_OPS', '1000000')
    threads = os.environ.get('BENCH_THREADS')
    runs = int(os.environ.get('BENCH_RUNS', '5'))
    wload = [os.path.join(args.tools, 'wload')]
    wload += ['threads', threads, ops, '/etc/hostname'] if threads else ['openat', ops, '/etc/hostname']
    table = tools(args, wload)
    results = {label: [] for label, _, _ in table}
    with tempfile.TemporaryDirectory(dir=os.environ.get('BENCH_TMP', '/dev/shm')) as tmp:
        for r in range(runs):
            for label, cmd, count in table:
                run, out, err = one(cmd, wload, tmp)
                got = count(out, runner._read(err), run.wpid) if count and run.status == 'ok' else None
                results[label].append((run.ns_per_op, got))
                print(f'run {r + 1} {label}: {run.status} {run.ns_per_op} ns/op, count {got}', file=sys.stderr)
    base = statistics.median(ns for ns, _ in results['untraced'])
    expected = int(ops) * (int(threads) if threads else 1)
    print(f'openat ×{expected:,} ({threads or 1} thread{"s" if threads else ""}), {runs} runs each, medians\n')
    print('| configuration | ns/op | vs untraced | count reported (of %s) |' % f'{expected:,}')
    print('|---|---:|---:|---|')
    for label, _, _ in table:
        ns = statistics.median(ns for ns, _ in results[label])
        counts = sorted({c for _, c in results[label] if c is not None})
        print(f'| {label} | {ns:,.0f} | {ns / base:.2f}× | {", ".join(f"{c:,}" for c in counts) or "—"} |')


if __name__ == '__main__':
    main()
