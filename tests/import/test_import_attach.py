"""`typegen.py import` on this kernel, end to end (root): tracepoints chosen across
categories are imported, appended to a copy of events.toml and built in a BUILD directory
of their own (the tree's ./example and ./libbootstrap.a untouched); ./example from that
build attaches every one of them with --strict while tracing a known workload, and the
events the workload causes arrive with the values it passed."""
import json
import pathlib
import signal
import subprocess
import sys

import pytest

from conftest import HANG_TIMEOUT, ROOT, build_tracer

TRACEFS = pathlib.Path('/sys/kernel/tracing')

# Imported when this kernel has them; at least MIN_IMPORTED must be.
WANTED = [
    'sched/sched_switch', 'sched/sched_wakeup', 'sched/sched_wakeup_new', 'sched/sched_waking',
    'sched/sched_migrate_task', 'sched/sched_process_free', 'sched/sched_process_wait',
    'syscalls/sys_enter_mkdirat', 'syscalls/sys_exit_mkdirat', 'syscalls/sys_enter_unlinkat',
    'syscalls/sys_exit_unlinkat', 'syscalls/sys_enter_renameat2', 'syscalls/sys_enter_mount',
    'syscalls/sys_enter_kill', 'syscalls/sys_exit_kill',
    'syscalls/sys_enter_clock_nanosleep', 'syscalls/sys_exit_clock_nanosleep',
    'irq/irq_handler_entry', 'irq/irq_handler_exit', 'irq/softirq_entry', 'irq/softirq_exit',
    'timer/timer_start', 'timer/timer_expire_entry', 'timer/hrtimer_start', 'timer/hrtimer_expire_entry',
    'signal/signal_generate', 'signal/signal_deliver',
    'block/block_rq_issue', 'block/block_rq_complete', 'block/block_bio_queue',
    'net/net_dev_xmit', 'net/netif_receive_skb', 'net/net_dev_queue',
    'skb/kfree_skb', 'skb/consume_skb',
    'writeback/writeback_dirty_inode', 'writeback/writeback_start', 'writeback/writeback_written',
    'kmem/kmalloc', 'kmem/kfree', 'kmem/mm_page_alloc',
    'workqueue/workqueue_queue_work', 'workqueue/workqueue_execute_start', 'workqueue/workqueue_execute_end',
    'task/task_newtask', 'task/task_rename', 'sock/inet_sock_set_state', 'oom/oom_score_adj_update',
]
MIN_IMPORTED = 30

# Known work in a directory given as argv[1], each step a syscall with known arguments.
WORKLOAD = '''
import os, signal, sys, time
d = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
os.mkdir('made', 0o750, dir_fd=d)
try:
    os.mkdir('made', 0o750, dir_fd=d)
except FileExistsError:
    pass
os.rmdir('made', dir_fd=d)
signal.signal(signal.SIGUSR1, lambda *_: None)
os.kill(os.getpid(), signal.SIGUSR1)
time.sleep(0.05)
'''
AT_REMOVEDIR = 0x200
EEXIST = 17


@pytest.fixture(scope='module')
def trace(tmp_path_factory):
    """(names of the imported events, the workload's events, its pid) after one run."""
    if not (TRACEFS / 'events').is_dir():
        subprocess.run(['mount', '-t', 'tracefs', 'nodev', str(TRACEFS)], check=True)
    tmp = tmp_path_factory.mktemp('import')
    present = [t for t in WANTED if (TRACEFS / 'events' / t / 'format').is_file()]
    proc = subprocess.run([sys.executable, str(ROOT / 'typegen' / 'typegen.py'), 'import', *present],
                          cwd=ROOT, capture_output=True, text=True, timeout=HANG_TIMEOUT, check=False)
    assert (proc.returncode, proc.stderr) == (0, '')
    imported = [line[1:-1].replace('.', '/') for line in proc.stdout.splitlines() if line.startswith('[')]
    assert imported == present
    assert len(imported) >= MIN_IMPORTED, f'only {len(imported)} of the wanted tracepoints are on this kernel'

    example = build_tracer(tmp, proc.stdout)

    work = tmp / 'work'
    work.mkdir()
    out = tmp / 'out.ndjson'
    run = subprocess.run([str(example), '--strict', '-e', ','.join(imported), '-o', str(out),
                          '--', sys.executable, '-I', '-S', '-c', WORKLOAD, str(work)],
                         capture_output=True, timeout=HANG_TIMEOUT, check=False)
    assert (run.returncode, run.stdout, run.stderr) == (0, b'', b'')
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    (pid,) = {e['pid'] for e in lines if e['event_type'] == 'syscalls/sys_enter_kill'}
    return imported, lines, pid


def of(lines, event_type):
    return [e['payload'] for e in lines if e['event_type'] == event_type]


def test_every_event_is_one_imported(trace):
    imported, lines, _ = trace
    assert {e['event_type'] for e in lines} <= set(imported)


def test_string_arguments_and_return_values(trace):
    _, lines, _ = trace
    mkdirs = [(p['pathname'], p['mode']) for p in of(lines, 'syscalls/sys_enter_mkdirat')]
    assert mkdirs == [('made', 0o750), ('made', 0o750)]
    assert [p['ret'] for p in of(lines, 'syscalls/sys_exit_mkdirat')] == [0, -EEXIST]
    assert [(p['pathname'], p['flag']) for p in of(lines, 'syscalls/sys_enter_unlinkat')] == [('made', AT_REMOVEDIR)]


def test_signal_sent_generated_and_delivered(trace):
    _, lines, pid = trace
    assert [(p['pid'], p['sig']) for p in of(lines, 'syscalls/sys_enter_kill')] == [(pid, signal.SIGUSR1)]
    # the workload's SIGCHLDs to ./example are there too
    generated = [p for p in of(lines, 'signal/signal_generate') if p['sig'] == signal.SIGUSR1]
    assert [(p['pid'], p['errno_'], p['result']) for p in generated] == [(pid, 0, 0)]
    assert len([p for p in of(lines, 'signal/signal_deliver') if p['sig'] == signal.SIGUSR1]) == 1


def test_sleep_switches_out_with_the_task_comm(trace):
    _, lines, _ = trace
    assert [p for p in of(lines, 'syscalls/sys_enter_clock_nanosleep') if p['rqtp'] != 0]
    switches = [e for e in lines if e['event_type'] == 'sched/sched_switch']
    assert any(e['payload']['prev_pid'] == e['tid'] and e['payload']['prev_comm'] == e['comm'] for e in switches)
