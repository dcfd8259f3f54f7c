"""typegen.py import: the tables it prints for tracefs format files (fixtures/tracefs, as
this kernel describes them), exactly; ids; what it skips and the reason it gives; and that
its output appended to the events file passes the validator and compiles for BPF."""
import subprocess
import sys

import pytest

from typegen_support import FIXTURES, ROOT, TRACEFS, TYPEGEN, VMLINUX, compile_bpf, generate

sys.path.insert(0, str(TYPEGEN.parent))
import validate  # noqa: E402
from tracefs import Tracefs  # noqa: E402
from vmlinux_index import VmlinuxIndex  # noqa: E402

EVENTS = FIXTURES / 'import_events.toml'
FIRST_ID = 1031  # one above the highest id of import_events.toml


def run_import(*specs, events=EVENTS):
    cmd = [sys.executable, str(TYPEGEN), 'import', '--events', str(events), '--tracefs', str(TRACEFS),
           '--vmlinux', str(VMLINUX), *specs]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)


def imported(*specs):
    """The tables printed for `specs`, asserting nothing was skipped."""
    proc = run_import(*specs)
    assert (proc.returncode, proc.stderr) == (0, '')
    return proc.stdout


# What each expected output in fixtures/imported/ (CATEGORY.NAME.toml, each imported alone,
# so with the first id) shows.
CASES = {
    'syscalls/sys_enter_readlinkat': 'syscall string by name, output buffer as its address',
    'syscalls/sys_exit_readlinkat': 'sys_exit ret',
    'syscalls/sys_enter_execveat': 'string arrays',
    'syscalls/sys_enter_mkdirat': 'typedef umode_t resolved',
    'sched/sched_switch': 'char arrays, s32, s64',
    'sched/sched_wakeup': 'class struct',
    'alarmtimer/alarmtimer_fired': 'u8, pointer, class struct of another name',
    'memcg/mod_memcg_state': 'class struct told apart by field types (rstat_events has a long val)',
    'xfs/xfs_agfl_free_deferred': 'packed enum left out',
    'oom/oom_score_adj_update': 's16',
    'kmem/kmem_cache_alloc': '__data_loc string, bool',
    'sock/inet_sock_set_state': 'u16, byte arrays left out',
    'ipi/ipi_send_cpumask': '__data_loc bitmask left out',
    'signal/signal_deliver': 'keyword and macro field names renamed',
}


def expected(spec):
    return (FIXTURES / 'imported' / (spec.replace('/', '.') + '.toml')).read_text()


@pytest.mark.parametrize('spec', CASES, ids=CASES.values())
def test_table(spec):
    assert imported(spec) == expected(spec)


def test_ids_follow_the_highest_in_the_order_given_and_globs_expand_once():
    lines = imported('syscalls/sys_exit_readlinkat', 'sched/*', 'sched/sched_switch').splitlines()
    assert [line for line in lines if line.startswith('[')] == [
        '[syscalls.sys_exit_readlinkat]', '[sched.sched_switch]', '[sched.sched_wakeup]']
    assert [line for line in lines if line.startswith('id = ')] == [
        f'id = {FIRST_ID}', f'id = {FIRST_ID + 1}', f'id = {FIRST_ID + 2}']


def test_skips_say_why_and_the_rest_is_imported():
    proc = run_import('syscalls/sys_enter_openat', 'nosuch/thing', 'ftrace/print', 'syscalls/sys_exit_readlinkat')
    assert proc.returncode == 0
    assert proc.stdout == expected('syscalls/sys_exit_readlinkat')
    assert proc.stderr.splitlines() == [
        f'typegen import: syscalls/sys_enter_openat: skipped: [syscalls.sys_enter_openat] is already in {EVENTS}',
        f'typegen import: nosuch/thing: skipped: no such tracepoint in {TRACEFS}/events (CATEGORY/NAME, globs allowed)',
        f'typegen import: ftrace/print: skipped: no context struct in {VMLINUX} has this format\'s fields',
    ]


def test_nothing_imported_is_an_error():
    proc = run_import('syscalls/sys_enter_openat', 'nosuch/*')
    assert (proc.returncode, proc.stdout) == (1, '')
    assert len(proc.stderr.splitlines()) == 2


def test_a_table_the_validator_rejects_is_skipped_with_its_reason(tmp_path):
    events = tmp_path / 'events.toml'
    events.write_text('version = 1\n\n[sched.sched_process_exec]\nid = 4294967295\n')
    proc = run_import('sched/sched_switch', events=events)
    assert (proc.returncode, proc.stdout) == (1, '')
    assert proc.stderr == ('typegen import: sched/sched_switch: skipped: the schema rejects it: '
                           '[sched.sched_switch]: id 4294967296 is not valid (a unique integer 0..4294967295)\n')


def test_output_appended_validates_generates_and_compiles_for_bpf(tmp_path):
    proc = run_import('*/*')
    assert proc.returncode == 0
    events = tmp_path / 'events.toml'
    events.write_text(EVENTS.read_text() + proc.stdout)
    schema = validate.load(str(events), VmlinuxIndex(str(VMLINUX)), Tracefs(str(TRACEFS)))
    # the two of the events file, and every fixture but the existing one and ftrace/print
    assert len(schema.events) == 2 + len(CASES)
    gen = generate(events, tmp_path / 'gen')
    compile_bpf(gen, tmp_path / 'bootstrap.bpf.o')
