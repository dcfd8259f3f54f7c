"""Bad schemas: typegen exits with status 1, writes nothing, and prints one line per
error, `PATH: [cat.name] field 'x': <what> (<allowed>)`, every error at once."""
import textwrap

import pytest

from typegen_support import VMLINUX, run_typegen

READ = '[syscalls.sys_enter_read]\nid = 1026\n'
WRITE_PREFIX = '''
[syscalls.sys_enter_write]
id = 1028
payload = [
  { name = "fd",      type = "u32", from = "args[0]" },
  { name = "count",   type = "u64", from = "args[2]" },
'''
TYPES = 'u8, u16, u32, u64, s8, s16, s32, s64, bool, char[], char[][], char*[]'
SOURCES = 'args[N], ret, ctx.FIELD, dataloc(FIELD), task.A.B'
IDENT_FIELD = 'letters, digits, _; not starting with a digit; not a C keyword or macro'
EVENT_KEYS = 'id, comment, payload, ctx_type, fill, kind'
FIELD_KEYS = 'name, type, from, max, mem, len, end, when, shift, mask, max_items'


def reject(tmp_path, toml, *extra):
    """Runs typegen on `toml`; asserts it fails and writes nothing; returns stderr lines."""
    (tmp_path / 'events.toml').write_text(textwrap.dedent(toml))
    proc = run_typegen(tmp_path, 'events.toml', 'out', *extra)
    assert proc.returncode == 1
    assert proc.stdout == ''
    assert not (tmp_path / 'out').exists()
    return proc.stderr.splitlines()


def write_event(content_field):
    """sys_enter_write with fd and count, then `content_field` as its third field."""
    return WRITE_PREFIX + '  ' + content_field + '\n]\n'


CASES = [
    pytest.param(
        READ + 'payload = [{ name = "fd", type = "int", from = "args[0]" }]',
        f"[syscalls.sys_enter_read] field 'fd': unknown type 'int' (allowed: {TYPES})",
        id='unknown-type'),
    pytest.param(
        READ + 'payload = [{ name = "fd", type = "u32", from = "arg[0]" }]',
        f"[syscalls.sys_enter_read] field 'fd': unknown source from = 'arg[0]' (allowed: {SOURCES})",
        id='unknown-source'),
    pytest.param(
        '[sched.sched_process_exec]\nid = 0\npayload = [{ name = "argv", type = "char[][]", '
        'from = "task.mm.arg_start", end = "mm.arg_end" }]',
        f"[sched.sched_process_exec] field 'argv': unknown source end = 'mm.arg_end' (allowed: {SOURCES})",
        id='unknown-end-source'),
    pytest.param(
        READ + '[syscalls.sys_exit_read]\nid = 1026\n',
        '[syscalls.sys_exit_read]: duplicate id 1026 '
        '(already used by [syscalls.sys_enter_read]; ids are unique and never reused)',
        id='duplicate-id'),
    pytest.param(
        READ + '[raw_syscalls.sys_enter_read]\nid = 1\n',
        "[raw_syscalls.sys_enter_read]: duplicate event name 'sys_enter_read' (already used by "
        '[syscalls.sys_enter_read]; names are unique across categories, ignoring case)',
        id='duplicate-event-name-across-categories'),
    pytest.param(
        '[a.mark_victim]\nid = 1\n[b.MARK_VICTIM]\nid = 2\n',
        "[b.MARK_VICTIM]: duplicate event name 'MARK_VICTIM' (already used by "
        '[a.mark_victim]; names are unique across categories, ignoring case)',
        id='duplicate-event-name-differing-in-case'),
    pytest.param(
        '[sched.sched-process-exec]\nid = 0\n',
        "[sched.sched-process-exec]: 'sched-process-exec' is not an identifier "
        '(letters, digits, _; not starting with a digit)',
        id='event-name-not-identifier'),
    pytest.param(
        '[9p.p9_client_req]\nid = 5\n',
        "[9p.p9_client_req]: '9p' is not an identifier (letters, digits, _; not starting with a digit)",
        id='category-not-identifier'),
    pytest.param(
        READ + 'payload = [{ name = "1fd", type = "u32", from = "args[0]" }]',
        f"[syscalls.sys_enter_read] field '1fd': name '1fd' is not a valid identifier ({IDENT_FIELD})",
        id='field-name-starts-with-digit'),
    pytest.param(
        READ + 'payload = [{ name = "file-descriptor", type = "u32", from = "args[0]" }]',
        "[syscalls.sys_enter_read] field 'file-descriptor': name 'file-descriptor' "
        f'is not a valid identifier ({IDENT_FIELD})',
        id='field-name-with-dash'),
    pytest.param(
        READ + 'payload = [{ name = "restrict", type = "u32", from = "args[0]" }]',
        f"[syscalls.sys_enter_read] field 'restrict': name 'restrict' is not a valid identifier ({IDENT_FIELD})",
        id='field-name-c-keyword'),
    pytest.param(
        '[syscalls.sys_exit_read]\nid = 1027\npayload = [{ name = "errno", type = "s64", from = "ret" }]',
        f"[syscalls.sys_exit_read] field 'errno': name 'errno' is not a valid identifier ({IDENT_FIELD})",
        id='field-name-libc-macro'),
    pytest.param(
        READ + 'payload = [{ name = "fd", type = "u32", from = "args[0]" },'
        ' { name = "fd", type = "u64", from = "args[2]" }]',
        "[syscalls.sys_enter_read] field 'fd': duplicate field name (names are unique within an event)",
        id='duplicate-field-name'),
    pytest.param(
        write_event('{ name = "content", type = "char[]", from = "args[1]", len = "size" },'),
        "[syscalls.sys_enter_write] field 'content': len names 'size', which is not an earlier "
        'integer field (earlier integer fields: fd, count)',
        id='len-names-unknown-field'),
    pytest.param(
        READ + 'payload = [{ name = "buf", type = "char[]", from = "args[1]", len = "count" },'
        ' { name = "count", type = "u64", from = "args[2]" }]',
        "[syscalls.sys_enter_read] field 'buf': len names 'count', which is not an earlier "
        'integer field (earlier integer fields: none)',
        id='len-names-later-field'),
    pytest.param(
        write_event('{ name = "content", type = "char[]", from = "args[1]", when = "fdd == 1" },'),
        "[syscalls.sys_enter_write] field 'content': when names 'fdd', which is not an earlier "
        'integer field (earlier integer fields: fd, count)',
        id='when-names-unknown-field'),
    pytest.param(
        READ + 'payload = [{ name = "fd", type = "u32", from = "args[0]" },'
        ' { name = "buf", type = "char[]", from = "args[1]", when = "fd == 0 && count > 0" },'
        ' { name = "count", type = "u64", from = "args[2]" }]',
        "[syscalls.sys_enter_read] field 'buf': when names 'count', which is not an earlier "
        'integer field (earlier integer fields: fd)',
        id='when-names-later-field'),
    pytest.param(
        write_event('{ name = "content", type = "char[]", from = "args[1]", max = 32769 },'),
        "[syscalls.sys_enter_write] field 'content': max 32769 is over the arena field cap "
        '(at most 32768 bytes)',
        id='max-over-arena-cap'),
    pytest.param(
        '[syscalls.sys_enter_read]\ncomment = "Read"\n',
        '[syscalls.sys_enter_read]: missing id (a unique integer 0..4294967295)',
        id='missing-id'),
    pytest.param(
        READ + 'commment = "Read"\n',
        f"[syscalls.sys_enter_read]: unknown key 'commment' (allowed: {EVENT_KEYS})",
        id='unknown-event-key'),
    pytest.param(
        READ + 'payload = [{ name = "fd", type = "u32", from = "args[0]", size = 4 }]',
        f"[syscalls.sys_enter_read] field 'fd': unknown key 'size' (allowed: {FIELD_KEYS})",
        id='unknown-field-key'),
    pytest.param(
        '[syscalls.sys_exit_read]\nid = 1027\npayload = [{ name = "fd", type = "u32", from = "args[0]" }]',
        "[syscalls.sys_exit_read] field 'fd': source args[N] is only for syscalls/sys_enter_* "
        'tracepoints (use ctx.FIELD for other tracepoints)',
        id='args-on-sys-exit'),
    pytest.param(
        '[sched.sched_process_fork]\nid = 2\npayload = [{ name = "pid", type = "s32", from = "args[0]" }]',
        "[sched.sched_process_fork] field 'pid': source args[N] is only for syscalls/sys_enter_* "
        'tracepoints (use ctx.FIELD for other tracepoints)',
        id='args-on-non-syscall'),
    pytest.param(
        READ + 'payload = [{ name = "x", type = "u64", from = "args[6]" }]',
        "[syscalls.sys_enter_read] field 'x': args[6] does not exist: sys_enter_read has 6 "
        'arguments (syscalls take at most 6) (args[0]..args[5])',
        id='args-beyond-six-without-format-file'),
    pytest.param(
        READ + 'payload = [{ name = "ret", type = "s64", from = "ret" }]',
        "[syscalls.sys_enter_read] field 'ret': source ret is only for sys_exit_* tracepoints "
        '(use args[N] on sys_enter_*, ctx.FIELD elsewhere)',
        id='ret-on-sys-enter'),
    pytest.param(
        '[oom.mark_victim]\nid = 3072\npayload = [{ name = "ret", type = "s64", from = "ret" }]',
        "[oom.mark_victim] field 'ret': source ret is only for sys_exit_* tracepoints "
        '(use args[N] on sys_enter_*, ctx.FIELD elsewhere)',
        id='ret-on-non-syscall'),
    pytest.param(
        '[sched.sched_process_fork]\nid = 2\npayload = [{ name = "pid", type = "s32", from = "ctx.parent" }]',
        "[sched.sched_process_fork] field 'pid': 'ctx.parent': struct trace_event_raw_sched_process_fork "
        'has no member parent (candidates: parent_pid, ent)',
        id='ctx-field-not-in-struct'),
    pytest.param(
        '[sched.sched_process_exec]\nid = 0\npayload = [{ name = "f", type = "char[]", from = "dataloc(file)" }]',
        "[sched.sched_process_exec] field 'f': 'dataloc(file)': struct trace_event_raw_sched_process_exec "
        'has no member __data_loc_file (candidates: __data_loc_filename, __data)',
        id='dataloc-field-not-in-struct'),
    pytest.param(
        '[vmscan.mm_vmscan_direct_reclaim_begin]\nid = 2048\n'
        'payload = [{ name = "order", type = "s32", from = "ctx.order" }]',
        '[vmscan.mm_vmscan_direct_reclaim_begin]: context struct '
        f'trace_event_raw_mm_vmscan_direct_reclaim_begin is not in {VMLINUX} '
        "(set ctx_type to the tracepoint's context struct; candidates: "
        'trace_event_raw_mm_vmscan_node_reclaim_begin, '
        'trace_event_raw_mm_vmscan_direct_reclaim_begin_template, '
        'trace_event_raw_mm_vmscan_direct_reclaim_end_template)',
        id='template-tracepoint-without-ctx-type'),
    pytest.param(
        '[sched.sched_process_exit]\nid = 1\npayload = [{ name = "code", type = "s32", from = "task.exit_cod" }]',
        "[sched.sched_process_exit] field 'code': 'task.exit_cod': struct task_struct has no member "
        'exit_cod (candidates: exit_code, exit_state, exit_signal)',
        id='task-chain-unknown-member'),
    pytest.param(
        '[sched.sched_process_exec]\nid = 0\npayload = [{ name = "argv", type = "char[][]", '
        'from = "task.mm.arg_begin", end = "task.mm.arg_end" }]',
        "[sched.sched_process_exec] field 'argv': 'task.mm.arg_begin': struct mm_struct has no "
        'member arg_begin (candidates: arg_end)',
        id='task-chain-unknown-nested-member'),
    pytest.param(
        '[sched.sched_process_exit]\nid = 1\npayload = [{ name = "code", type = "s32", from = "task.pid.nr" }]',
        "[sched.sched_process_exit] field 'code': 'task.pid.nr': task_struct.pid is not a pointer "
        'to a struct (each step but the last must be a struct pointer)',
        id='task-chain-through-non-pointer'),
    pytest.param(
        write_event('{ name = "content", type = "char[]", from = "args[1]", shift = 8 },'),
        "[syscalls.sys_enter_write] field 'content': key 'shift' is only for integer fields "
        '(u8..u64, s8..s64, bool)',
        id='shift-on-char-array'),
    pytest.param(
        write_event('{ name = "content", type = "char[]", from = "args[1]", mask = 0xff },'),
        "[syscalls.sys_enter_write] field 'content': key 'mask' is only for integer fields "
        '(u8..u64, s8..s64, bool)',
        id='mask-on-char-array'),
    pytest.param(
        READ + 'payload = [{ name = "fd", type = "u32", from = "args[0]", max = 16 }]',
        "[syscalls.sys_enter_read] field 'fd': key 'max' is only for variable fields "
        '(char[], char[][], char*[])',
        id='max-on-integer'),
]


@pytest.mark.parametrize('toml, error', CASES)
def test_schema_error_is_reported(tmp_path, toml, error):
    assert reject(tmp_path, toml) == ['events.toml: ' + error]


@pytest.mark.parametrize('kind', ['uprobe', 'uretprobe', 'kprobe', 'kretprobe', 'raw_tracepoint',
                                  'perf_event'])
def test_planned_kind_is_rejected(tmp_path, kind):
    assert reject(tmp_path, f'[probes.do_sys_openat2]\nid = 4096\nkind = "{kind}"\n') == [
        f"events.toml: [probes.do_sys_openat2]: kind '{kind}' is planned but not built yet "
        '(allowed: tracepoint)']


def test_toml_syntax_error_names_the_line(tmp_path):
    toml = '''\
        [syscalls.sys_enter_read]
        id = 1026
        payload = [
          { name = "fd", type = "u32" from = "args[0]" },
        ]
        '''
    assert reject(tmp_path, toml) == [
        'events.toml: line 4, column 31: TOML syntax error: Unclosed inline table']


def test_args_beyond_tracefs_argument_count(tmp_path):
    toml = '''\
        [syscalls.sys_enter_openat]
        id = 1024
        payload = [
          { name = "dfd",   type = "s32", from = "args[0]" },
          { name = "extra", type = "u64", from = "args[4]" },
        ]
        '''
    assert reject(tmp_path, toml) == [
        "events.toml: [syscalls.sys_enter_openat] field 'extra': args[4] does not exist: "
        "sys_enter_openat has 4 arguments (per the kernel's tracefs format) (args[0]..args[3])"]


def test_custom_fill_without_its_file(tmp_path):
    (tmp_path / 'fill').mkdir()
    toml = '[sched.sched_process_free]\nid = 7\nfill = "custom"\n'
    assert reject(tmp_path, toml, '--fill-dir', 'fill') == [
        'events.toml: [sched.sched_process_free]: fill = "custom" needs the hand-written fill '
        'fill/sched_process_free.bpf.c, which is missing '
        '(write void fill_sched_process_free(ctx, e, p) there)']


def test_all_errors_are_reported_together(tmp_path):
    toml = '''\
        [syscalls.sys_enter_read]
        id = 1026
        payload = [
          { name = "fd",    type = "u23", from = "args[0]" },
          { name = "count", type = "u64", from = "args[2]", max = 8 },
        ]

        [syscalls.sys_exit_read]
        payload = [
          { name = "ret", type = "s64", from = "retval" },
        ]

        [syscalls.sys_enter_write]
        id = 1026
        '''
    assert reject(tmp_path, toml) == [
        f"events.toml: [syscalls.sys_enter_read] field 'fd': unknown type 'u23' (allowed: {TYPES})",
        "events.toml: [syscalls.sys_enter_read] field 'count': key 'max' is only for variable "
        'fields (char[], char[][], char*[])',
        'events.toml: [syscalls.sys_exit_read]: missing id (a unique integer 0..4294967295)',
        "events.toml: [syscalls.sys_exit_read] field 'ret': unknown source from = 'retval' "
        f'(allowed: {SOURCES})',
        'events.toml: [syscalls.sys_enter_write]: duplicate id 1026 '
        '(already used by [syscalls.sys_enter_read]; ids are unique and never reused)',
    ]
