"""typegen.py import: the tables it prints for tracefs format files (fixtures/tracefs, as
this kernel describes them), exactly; ids; what it skips and the reason it gives; and that
its output appended to the events file passes the validator and compiles for BPF."""
import subprocess
import sys
import textwrap

import pytest

from typegen_support import FIXTURES, ROOT, TRACEFS, TYPEGEN, VMLINUX, compile_bpf, generate

sys.path.insert(0, str(TYPEGEN.parent))
import schema as schema_mod  # noqa: E402
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


def table(header, *payload, ctx_type=None, event_id=FIRST_ID):
    """The expected text of one table: header `cat.name`, payload lines as printed."""
    category, name = header.split('.')
    lines = ['', f'[{header}]', f'id = {event_id}', f'comment = "Imported from tracefs: {category}/{name}"']
    if ctx_type:
        lines.append(f'ctx_type = "{ctx_type}"')
    return '\n'.join(lines + ['payload = [', *(f'  {p}' for p in payload), ']', ''])


CASES = [
    pytest.param('syscalls/sys_enter_readlinkat', table(
        'syscalls.sys_enter_readlinkat',
        '{ name = "dfd",      type = "s32",    from = "args[0]" },',
        '{ name = "pathname", type = "char[]", from = "args[1]" },',
        '{ name = "buf",      type = "u64",    from = "args[2]" },',
        '{ name = "bufsiz",   type = "s32",    from = "args[3]" },'),
        id='syscall string by name, output buffer as its address'),
    pytest.param('syscalls/sys_exit_readlinkat', table(
        'syscalls.sys_exit_readlinkat',
        '{ name = "ret", type = "s64", from = "ret" },'),
        id='sys_exit ret'),
    pytest.param('syscalls/sys_enter_execveat', table(
        'syscalls.sys_enter_execveat',
        '{ name = "fd",       type = "s32",     from = "args[0]" },',
        '{ name = "filename", type = "char[]",  from = "args[1]" },',
        '{ name = "argv",     type = "char*[]", from = "args[2]" },',
        '{ name = "envp",     type = "char*[]", from = "args[3]" },',
        '{ name = "flags",    type = "s32",     from = "args[4]" },'),
        id='string arrays'),
    pytest.param('syscalls/sys_enter_mkdirat', table(
        'syscalls.sys_enter_mkdirat',
        '{ name = "dfd",      type = "s32",    from = "args[0]" },',
        '{ name = "pathname", type = "char[]", from = "args[1]" },',
        '{ name = "mode",     type = "u16",    from = "args[2]" },'),
        id='typedef umode_t resolved'),
    pytest.param('sched/sched_switch', table(
        'sched.sched_switch',
        '{ name = "prev_comm",  type = "char[]", from = "ctx.prev_comm", max = 15 },',
        '{ name = "prev_pid",   type = "s32",    from = "ctx.prev_pid" },',
        '{ name = "prev_prio",  type = "s32",    from = "ctx.prev_prio" },',
        '{ name = "prev_state", type = "s64",    from = "ctx.prev_state" },',
        '{ name = "next_comm",  type = "char[]", from = "ctx.next_comm", max = 15 },',
        '{ name = "next_pid",   type = "s32",    from = "ctx.next_pid" },',
        '{ name = "next_prio",  type = "s32",    from = "ctx.next_prio" },'),
        id='char arrays'),
    pytest.param('sched/sched_wakeup', table(
        'sched.sched_wakeup',
        '{ name = "comm",       type = "char[]", from = "ctx.comm", max = 15 },',
        '{ name = "pid",        type = "s32",    from = "ctx.pid" },',
        '{ name = "prio",       type = "s32",    from = "ctx.prio" },',
        '{ name = "target_cpu", type = "s32",    from = "ctx.target_cpu" },',
        ctx_type='trace_event_raw_sched_wakeup_template'),
        id='class struct'),
    pytest.param('alarmtimer/alarmtimer_fired', table(
        'alarmtimer.alarmtimer_fired',
        '{ name = "alarm",      type = "u64", from = "ctx.alarm" },',
        '{ name = "alarm_type", type = "u8",  from = "ctx.alarm_type" },',
        '{ name = "expires",    type = "s64", from = "ctx.expires" },',
        '{ name = "now",        type = "s64", from = "ctx.now" },',
        ctx_type='trace_event_raw_alarm_class'),
        id='u8, s64, pointer, class struct of another name'),
    pytest.param('memcg/mod_memcg_state', table(
        'memcg.mod_memcg_state',
        '{ name = "id",   type = "u64", from = "ctx.id" },',
        '{ name = "item", type = "s32", from = "ctx.item" },',
        '{ name = "val",  type = "s32", from = "ctx.val" },',
        ctx_type='trace_event_raw_memcg_rstat_stats'),
        id='class struct matched by field types too (rstat_events has a long val)'),
    pytest.param('xfs/xfs_agfl_free_deferred', table(
        'xfs.xfs_agfl_free_deferred',
        '{ name = "dev",   type = "u32", from = "ctx.dev" },',
        '# enum xfs_group_type type: left out, a packed enum, int-sized in vmlinux.h, so the read cannot be relocated',
        '{ name = "agno",  type = "u32", from = "ctx.agno" },',
        '{ name = "agbno", type = "u32", from = "ctx.agbno" },',
        '{ name = "len",   type = "u32", from = "ctx.len" },',
        '{ name = "flags", type = "u32", from = "ctx.flags" },',
        ctx_type='trace_event_raw_xfs_free_extent_deferred_class'),
        id='packed enum left out'),
    pytest.param('oom/oom_score_adj_update', table(
        'oom.oom_score_adj_update',
        '{ name = "pid",           type = "s32",    from = "ctx.pid" },',
        '{ name = "comm",          type = "char[]", from = "ctx.comm", max = 15 },',
        '{ name = "oom_score_adj", type = "s16",    from = "ctx.oom_score_adj" },'),
        id='s16'),
    pytest.param('kmem/kmem_cache_alloc', table(
        'kmem.kmem_cache_alloc',
        '{ name = "call_site",   type = "u64",    from = "ctx.call_site" },',
        '{ name = "ptr",         type = "u64",    from = "ctx.ptr" },',
        '{ name = "name",        type = "char[]", from = "dataloc(name)" },',
        '{ name = "bytes_req",   type = "u64",    from = "ctx.bytes_req" },',
        '{ name = "bytes_alloc", type = "u64",    from = "ctx.bytes_alloc" },',
        '{ name = "gfp_flags",   type = "u64",    from = "ctx.gfp_flags" },',
        '{ name = "node",        type = "s32",    from = "ctx.node" },',
        '{ name = "accounted",   type = "bool",   from = "ctx.accounted" },'),
        id='__data_loc string, bool'),
    pytest.param('sock/inet_sock_set_state', table(
        'sock.inet_sock_set_state',
        '{ name = "skaddr",   type = "u64", from = "ctx.skaddr" },',
        '{ name = "oldstate", type = "s32", from = "ctx.oldstate" },',
        '{ name = "newstate", type = "s32", from = "ctx.newstate" },',
        '{ name = "sport",    type = "u16", from = "ctx.sport" },',
        '{ name = "dport",    type = "u16", from = "ctx.dport" },',
        '{ name = "family",   type = "u16", from = "ctx.family" },',
        '{ name = "protocol", type = "u16", from = "ctx.protocol" },',
        '# __u8 saddr[4]: left out, fixed-size arrays other than char strings have no field type',
        '# __u8 daddr[4]: left out, fixed-size arrays other than char strings have no field type',
        '# __u8 saddr_v6[16]: left out, fixed-size arrays other than char strings have no field type',
        '# __u8 daddr_v6[16]: left out, fixed-size arrays other than char strings have no field type'),
        id='u16, byte arrays left out'),
    pytest.param('ipi/ipi_send_cpumask', table(
        'ipi.ipi_send_cpumask',
        '# __data_loc cpumask_t cpumask: left out, dataloc() reads strings only',
        '{ name = "callsite", type = "u64", from = "ctx.callsite" },',
        '{ name = "callback", type = "u64", from = "ctx.callback" },'),
        id='__data_loc bitmask left out'),
    pytest.param('signal/signal_deliver', table(
        'signal.signal_deliver',
        '{ name = "sig",         type = "s32", from = "ctx.sig" },',
        '# errno renamed errno_: a C keyword or macro',
        '{ name = "errno_",      type = "s32", from = "ctx.errno" },',
        '{ name = "code",        type = "s32", from = "ctx.code" },',
        '# sa_handler renamed sa_handler_: a C keyword or macro',
        '{ name = "sa_handler_", type = "u64", from = "ctx.sa_handler" },',
        '{ name = "sa_flags",    type = "u64", from = "ctx.sa_flags" },'),
        id='macro field names renamed'),
]


@pytest.mark.parametrize('spec, expected', CASES)
def test_table(spec, expected):
    assert imported(spec) == expected


def test_ids_follow_the_highest_in_the_order_given_and_globs_expand_once():
    out = imported('syscalls/sys_exit_readlinkat', 'sched/*', 'sched/sched_switch')
    headers = [(line, i) for i, line in enumerate(out.splitlines()) if line.startswith('[')]
    ids = [line for line in out.splitlines() if line.startswith('id = ')]
    assert [h for h, _ in headers] == ['[syscalls.sys_exit_readlinkat]', '[sched.sched_switch]', '[sched.sched_wakeup]']
    assert ids == [f'id = {FIRST_ID}', f'id = {FIRST_ID + 1}', f'id = {FIRST_ID + 2}']


def test_skips_say_why_and_the_rest_is_imported():
    proc = run_import('syscalls/sys_enter_openat', 'nosuch/thing', 'ftrace/print', 'syscalls/sys_exit_readlinkat')
    assert proc.returncode == 0
    assert proc.stdout == table('syscalls.sys_exit_readlinkat', '{ name = "ret", type = "s64", from = "ret" },')
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
    schema = schema_mod.load(str(events), VmlinuxIndex(str(VMLINUX)), str(TRACEFS), str(ROOT / 'bpf' / 'fill'))
    assert len(schema.events) == 2 + 14  # every fixture but the existing one and ftrace/print
    gen = generate(events, tmp_path / 'gen')
    compile_bpf(gen, tmp_path / 'bootstrap.bpf.o')
