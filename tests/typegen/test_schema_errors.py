"""Bad schemas: typegen exits with status 1, writes nothing, and prints one line per
error, `PATH: [cat.name] field 'x': <what> (<allowed>)`, every error at once."""
import sys
import textwrap

import pytest

from typegen_support import TRACEFS, TYPEGEN, VMLINUX, run_typegen

sys.path.insert(0, str(TYPEGEN.parent))
import validate  # noqa: E402
import validate_aggregate  # noqa: E402
from tracefs import Tracefs  # noqa: E402
from vmlinux_index import VmlinuxIndex  # noqa: E402

READ = '[syscalls.sys_enter_read]\nid = 1026\n'
WRITE_PREFIX = '''
[syscalls.sys_enter_write]
id = 1028
payload = [
  { name = "fd",      type = "u32", from = "args[0]" },
  { name = "count",   type = "u64", from = "args[2]" },
'''
TYPES = 'u8, u16, u32, u64, s8, s16, s32, s64, bool, char[], char[][], char*[], stack, ip'
# The sources each kind of event may read, as messages list them.
SYS_ENTER_SOURCES = 'allowed here: args[N], ctx.FIELD, task.A.B, auxv.AT_NAME, target, kstack, ustack'
SYS_EXIT_SOURCES = 'allowed here: ret, ctx.FIELD, task.A.B, auxv.AT_NAME, entry.args[N], elapsed_ns, target, kstack, ustack'
TRACEPOINT_SOURCES = 'allowed here: ctx.FIELD, dataloc(FIELD), task.A.B, auxv.AT_NAME, target, kstack, ustack'
ENTRY_PROBE_SOURCES = 'allowed here: args[N], task.A.B, auxv.AT_NAME, target, kstack, ustack'
RETURN_PROBE_SOURCES = 'allowed here: ret, task.A.B, auxv.AT_NAME, entry.args[N], elapsed_ns, target, kstack, ustack'
RETURN_POINTS = 'syscalls/sys_exit_*, kretprobe, uretprobe'
IDENT_FIELD = 'letters, digits, _; not starting with a digit; not a C keyword or macro'
EVENT_KEYS = 'id, comment, payload, ctx_type, kind, runtime, opt_in, binary, frequency, function, interface, emit, aggregate'
FIELD_KEYS = 'name, type, from, max, mem, len, end, when, shift, mask, max_items, after_exec, unwind, copy'
KINDS = 'tracepoint, kprobe, kretprobe, uprobe, uretprobe, xdp, perf_event'
# What each attach key's value must be, as messages say.
ATTACH_VALUES = {'function': "the function's symbol, without white space or colons",
                 'binary': 'a path, or a library name such as libssl.so.3, without colons'}
# The attach keys of each kind of probe, as the probe() events declare them.
ATTACH = {'kprobe': {'function': 'do_sys_openat2'}, 'kretprobe': {'function': 'do_sys_openat2'},
          'uprobe': {'binary': 'libc.so.6', 'function': 'open'},
          'uretprobe': {'binary': 'libc.so.6', 'function': 'open'}}


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


def probe(kind, *fields, extra='', **attach):
    """[probes.open], a probe of `kind` with the attach keys of ATTACH changed by `attach`
    (None leaves one out), then the TOML lines `extra`, and `fields` as its payload."""
    keys = ''.join(f'{k} = "{v}"\n' for k, v in {**ATTACH[kind], **attach}.items() if v is not None)
    payload = f'payload = [{", ".join(fields)}]\n' if fields else ''
    return f'[probes.open]\nid = 4096\nkind = "{kind}"\n{keys}{extra}{payload}'


CASES = [
    pytest.param(
        READ + 'payload = [{ name = "fd", type = "int", from = "args[0]" }]',
        f"[syscalls.sys_enter_read] field 'fd': unknown type 'int' (allowed: {TYPES})",
        id='unknown-type'),
    pytest.param(
        READ + 'payload = [{ name = "fd", type = "u32", from = "arg[0]" }]',
        f"[syscalls.sys_enter_read] field 'fd': unknown source from = 'arg[0]' ({SYS_ENTER_SOURCES})",
        id='unknown-source'),
    pytest.param(
        '[sched.sched_process_exec]\nid = 0\npayload = [{ name = "argv", type = "char[][]", '
        'from = "task.mm.arg_start", end = "mm.arg_end" }]',
        f"[sched.sched_process_exec] field 'argv': unknown source end = 'mm.arg_end' ({TRACEPOINT_SOURCES})",
        id='unknown-end-source'),
    pytest.param(
        READ + '[syscalls.sys_exit_read]\nid = 1026\n',
        '[syscalls.sys_exit_read]: duplicate id 1026 '
        '(already used by [syscalls.sys_enter_read]; ids are unique and never reused)',
        id='duplicate-id'),
    pytest.param(
        '[a_b.c]\nid = 1\n[a.b_c]\nid = 2\n',
        "[a.b_c]: generated name 'a_b_c' collides with [a_b.c] "
        "(category_name must differ from every other event's, ignoring case)",
        id='generated-names-collide'),
    pytest.param(
        '[oom.mark_victim]\nid = 1\n[OOM.mark_victim]\nid = 2\n',
        "[OOM.mark_victim]: generated name 'OOM_mark_victim' collides with [oom.mark_victim] "
        "(category_name must differ from every other event's, ignoring case)",
        id='generated-names-differ-only-in-case'),
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
        "[syscalls.sys_exit_read] field 'fd': source args[N] does not exist at a return point: "
        f"read the entry's arguments as entry.args[N] ({SYS_EXIT_SOURCES})",
        id='args-on-sys-exit'),
    pytest.param(
        '[sched.sched_process_fork]\nid = 2\npayload = [{ name = "pid", type = "s32", from = "args[0]" }]',
        "[sched.sched_process_fork] field 'pid': source args[N] does not exist for tracepoint "
        'sched/sched_process_fork: of tracepoints, only syscalls/sys_enter_* have arguments '
        f'({TRACEPOINT_SOURCES})',
        id='args-on-non-syscall'),
    pytest.param(
        READ + 'payload = [{ name = "x", type = "u64", from = "args[6]" }]',
        "[syscalls.sys_enter_read] field 'x': args[6] does not exist: syscalls take at most 6 "
        'arguments (args[0]..args[5])',
        id='args-beyond-six-without-format-file'),
    pytest.param(
        READ + 'payload = [{ name = "ret", type = "s64", from = "ret" }]',
        f"[syscalls.sys_enter_read] field 'ret': source ret is only at return points: {RETURN_POINTS} "
        f'({SYS_ENTER_SOURCES})',
        id='ret-on-sys-enter'),
    pytest.param(
        '[oom.mark_victim]\nid = 3072\npayload = [{ name = "ret", type = "s64", from = "ret" }]',
        f"[oom.mark_victim] field 'ret': source ret is only at return points: {RETURN_POINTS} "
        f'({TRACEPOINT_SOURCES})',
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

# Errors of the kinds of probe and of the sources they add (entry.args, elapsed_ns, *ptr, target).
PROBE_CASES = [
    pytest.param(
        READ + 'function = "ksys_read"\n',
        "[syscalls.sys_enter_read]: key 'function' is not for kind tracepoint "
        '(a tracepoint is named by [category.name])',
        id='function-on-tracepoint'),
    pytest.param(
        READ + 'binary = "/bin/cat"\n',
        "[syscalls.sys_enter_read]: key 'binary' is not for kind tracepoint "
        '(a tracepoint is named by [category.name])',
        id='binary-on-tracepoint'),
    pytest.param(
        probe('kprobe', binary='vmlinux'),
        "[probes.open]: key 'binary' is not for kind kprobe (kind kprobe takes function)",
        id='binary-on-kprobe'),
    *(pytest.param(
        probe(kind, **{key: value}),
        f"[probes.open]: {key} {value!r} {problem} ({ATTACH_VALUES[key]})",
        id=f'{key}-{case}')
      for kind, key, value, problem, case in (
          ('kprobe', 'function', 'vmlinux:do_sys_openat2', 'contains a colon', 'with-colon'),
          ('uprobe', 'function', 'open at', 'contains white space', 'with-space'),
          ('uretprobe', 'function', '', 'is empty', 'empty'),
          ('uprobe', 'binary', '/opt/app:v2/bin/app', 'contains a colon', 'with-colon'))),
    pytest.param(
        probe('kprobe', function='f' * 240),
        f"[probes.open]: target '{'f' * 240}' is 240 bytes long "
        "(at most 239, the size of the loader's target names)",
        id='target-longer-than-the-loader-takes'),
    pytest.param(
        probe('kprobe', extra='runtime = "yes"\n'),
        "[probes.open]: runtime 'yes' is not true or false "
        '(runtime = true: attached only to targets given at run time)',
        id='runtime-not-a-bool'),
    pytest.param(
        probe('kprobe', extra='runtime = true\n'),
        "[probes.open]: key 'function' would be ignored with runtime = true "
        '(such an event attaches only to targets given at run time: drop one of the two)',
        id='attach-key-with-runtime'),
    pytest.param(
        '[sched.sched_process_fork]\nid = 2\nctx_type = 5\n'
        'payload = [{ name = "pid", type = "s32", from = "ctx.parent_pid" }]',
        "[sched.sched_process_fork]: ctx_type 5 is not a struct name "
        '(the name after `struct`, e.g. trace_event_raw_sched_wakeup_template)',
        id='ctx-type-not-a-name'),
    pytest.param(
        probe('kprobe', extra='ctx_type = "pt_regs"\n'),
        "[probes.open]: key 'ctx_type' is not for kind kprobe "
        '(only a tracepoint named by [category.name] has a context struct to choose)',
        id='ctx-type-on-kprobe'),
    *(pytest.param(
        probe(kind, '{ name = "ret", type = "s64", from = "ret" }'),
        f"[probes.open] field 'ret': source ret is only at return points: {RETURN_POINTS} "
        f'({ENTRY_PROBE_SOURCES})',
        id=f'ret-on-{kind}') for kind in ('kprobe', 'uprobe')),
    *(pytest.param(
        head + f'payload = [{{ name = "x", type = "u64", from = "{source}" }}]\n',
        f"{label} field 'x': source {source.replace('[0]', '[N]')} is only at return points: "
        f'{RETURN_POINTS} ({allowed})',
        id=f'{source}-on-{name}')
      for source in ('entry.args[0]', 'elapsed_ns')
      for name, head, label, allowed in (
          ('kprobe', probe('kprobe'), '[probes.open]', ENTRY_PROBE_SOURCES),
          ('uprobe', probe('uprobe'), '[probes.open]', ENTRY_PROBE_SOURCES),
          ('sys-enter', READ, '[syscalls.sys_enter_read]', SYS_ENTER_SOURCES),
          ('non-syscall-tracepoint', '[sched.sched_process_fork]\nid = 2\n', '[sched.sched_process_fork]',
           TRACEPOINT_SOURCES))),
    pytest.param(
        probe('kretprobe', '{ name = "dfd", type = "s32", from = "args[0]" }'),
        "[probes.open] field 'dfd': source args[N] does not exist at a return point: "
        f"read the entry's arguments as entry.args[N] ({RETURN_PROBE_SOURCES})",
        id='args-on-kretprobe'),
    pytest.param(
        probe('kprobe', '{ name = "x", type = "u64", from = "args[6]" }'),
        "[probes.open] field 'x': args[6] does not exist: kind kprobe reads at most 6 arguments "
        '(args[0]..args[5])',
        id='args-beyond-six-on-kprobe'),
    pytest.param(
        probe('uretprobe', '{ name = "x", type = "u64", from = "entry.args[6]" }'),
        "[probes.open] field 'x': entry.args[6] does not exist: kind uretprobe reads at most 6 arguments "
        '(entry.args[0]..entry.args[5])',
        id='entry-args-beyond-six-on-uretprobe'),
    pytest.param(
        '[syscalls.sys_exit_openat]\nid = 1025\npayload = [{ name = "x", type = "u64", from = "entry.args[4]" }]',
        "[syscalls.sys_exit_openat] field 'x': entry.args[4] does not exist: sys_enter_openat has 4 "
        "arguments (per the kernel's tracefs format) (entry.args[0]..entry.args[3])",
        id='entry-args-beyond-the-entry-tracefs-count'),
    pytest.param(
        probe('uprobe', '{ name = "x", type = "u64", from = "ctx.di" }'),
        f"[probes.open] field 'x': source ctx.FIELD does not exist for kind uprobe ({ENTRY_PROBE_SOURCES})",
        id='ctx-on-uprobe'),
    pytest.param(
        '[sched.sched_process_fork]\nid = 2\npayload = [{ name = "pid", type = "s32", from = "*ctx.parent_pid" }]',
        "[sched.sched_process_fork] field 'pid': '*ctx.parent_pid': only an argument or a return value "
        'can be dereferenced (*args[N], *entry.args[N], *ret)',
        id='deref-of-ctx'),
    pytest.param(
        '[syscalls.sys_enter_openat]\nid = 1024\npayload = [{ name = "f", type = "char[]", from = "*args[1]" }]',
        "[syscalls.sys_enter_openat] field 'f': source *args[1] reads an integer through a pointer "
        '(char[] reads what its source points to: from = "args[1]")',
        id='deref-on-char-array'),
    pytest.param(
        READ + 'payload = [{ name = "fd", type = "u32", from = "args[0]", mem = "user" }]',
        "[syscalls.sys_enter_read] field 'fd': key 'mem' is for variable fields and integers read "
        'through a pointer (from = "*args[N]", "*entry.args[N]" or "*ret")',
        id='mem-on-integer-without-deref'),
    pytest.param(
        probe('kprobe', '{ name = "fn", type = "u64", from = "target" }'),
        "[probes.open] field 'fn': source target is a string (use type = \"char[]\")",
        id='target-on-integer'),
    pytest.param(
        '[sched.sched_process_exec]\nid = 0\npayload = [{ name = "f", type = "char*[]", from = "dataloc(filename)" }]',
        "[sched.sched_process_exec] field 'f': source dataloc(FIELD) is a string (use type = \"char[]\")",
        id='dataloc-on-string-array'),
    pytest.param(
        '[syscalls.sys_enter_execve]\nid = 1\n'
        'payload = [{ name = "argv", type = "char*[]", from = "args[1]", mem = "kernel" }]',
        "[syscalls.sys_enter_execve] field 'argv': char*[] reads an array of string pointers in user "
        'memory (mem = "user", or no mem)',
        id='string-array-in-kernel-memory'),
    pytest.param(
        probe('kprobe', *(f'{{ name = "f{i}", type = "u64", from = "args[0]" }}' for i in range(33))),
        "[probes.open]: 33 fields are too many (at most 32: each is a bit of the header's truncated "
        'and lost masks)',
        id='more-than-32-fields'),
    pytest.param(
        '[a.b__c]\nid = 1\n[a__b.c]\nid = 2\n',
        "[a__b.c]: BPF program name 'tracepoint__a__b__c' collides with [a.b__c]'s (programs are named "
        'kind__category__name, a companion with __entry or __retry after it: rename one of the two events)',
        id='program-names-collide'),
    pytest.param(
        probe('kretprobe', '{ name = "ns", type = "u64", from = "elapsed_ns" }') +
        '[probes.open__entry]\nid = 4097\nkind = "kretprobe"\nfunction = "do_sys_openat2"\n',
        "[probes.open__entry]: BPF program name 'kretprobe__probes__open__entry' collides with "
        "[probes.open]'s (programs are named kind__category__name, a companion with __entry or "
        '__retry after it: rename one of the two events)',
        id='program-name-collides-with-a-companion'),
]


@pytest.mark.parametrize('toml, error', CASES + PROBE_CASES)
def test_schema_error_is_reported(tmp_path, toml, error):
    assert reject(tmp_path, toml) == ['events.toml: ' + error]


@pytest.mark.parametrize('kind, key', [(kind, key) for kind, keys in ATTACH.items() for key in keys])
def test_probe_without_an_attach_key(tmp_path, kind, key):
    what = {'function': "the function's symbol", 'binary': 'a path, or a library name such as libssl.so.3'}[key]
    assert reject(tmp_path, probe(kind, **{key: None})) == [
        f"events.toml: [probes.open]: kind {kind} needs '{key}' ({what}; or runtime = true to name "
        'targets at run time)']


@pytest.mark.parametrize('kind, what', [
    ('raw_tracepoint', 'is unknown'),
    ('kprobes', 'is unknown'),
])
def test_kind_not_built_is_rejected(tmp_path, kind, what):
    assert reject(tmp_path, f'[probes.open]\nid = 4096\nkind = "{kind}"\n') == [
        f"events.toml: [probes.open]: kind '{kind}' {what} (allowed: {KINDS})"]


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


def test_args_of_a_syscall_without_arguments(tmp_path):
    """A tracefs where sys_enter_getpid, as on the kernel, has no field after __syscall_nr."""
    fmt = tmp_path / 'tracefs' / 'events' / 'syscalls' / 'sys_enter_getpid' / 'format'
    fmt.parent.mkdir(parents=True)
    fmt.write_text('name: sys_enter_getpid\nformat:\n'
                   '\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n'
                   '\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n')
    toml = '[syscalls.sys_enter_getpid]\nid = 1\npayload = [{ name = "x", type = "u64", from = "args[0]" }]\n'
    assert reject(tmp_path, toml, '--tracefs', 'tracefs') == [
        "events.toml: [syscalls.sys_enter_getpid] field 'x': args[0] does not exist: "
        "sys_enter_getpid has 0 arguments (per the kernel's tracefs format) (none)"]


def test_a_misplaced_ctx_type_does_not_hide_the_payload_errors(tmp_path):
    toml = probe('kprobe', '{ name = "x", type = "u23", from = "args[0]" }', extra='ctx_type = "pt_regs"\n')
    assert reject(tmp_path, toml) == [
        "events.toml: [probes.open]: key 'ctx_type' is not for kind kprobe "
        '(only a tracepoint named by [category.name] has a context struct to choose)',
        f"events.toml: [probes.open] field 'x': unknown type 'u23' (allowed: {TYPES})"]


def test_fill_is_not_a_key(tmp_path):
    """An event's fields come from their sources: there is no hand-written fill."""
    toml = '[sched.sched_process_free]\nid = 7\nfill = "custom"\n'
    assert reject(tmp_path, toml) == [
        f"events.toml: [sched.sched_process_free]: unknown key 'fill' (allowed: {EVENT_KEYS})"]


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
        f'({SYS_EXIT_SOURCES})',
        'events.toml: [syscalls.sys_enter_write]: duplicate id 1026 '
        '(already used by [syscalls.sys_enter_read]; ids are unique and never reused)',
    ]


# One value of each TOML type (and an integer too large for any field).
ODD_VALUES = [[], {}, {'a': 1}, 1, -1, 2**64, 'x', '', True, 1.5, [1], ['a'], [{}]]
# Declarations each key is tried in: a tracepoint, a uprobe, a sampler, an XDP program;
# fields of each shape; an aggregation.
EVENT_BASES = [{'id': 1026}, {'id': 5000, 'kind': 'uprobe', 'binary': 'libc.so.6', 'function': 'open'},
               {'id': 5000, 'kind': 'perf_event'}, {'id': 5000, 'kind': 'xdp'}]
FIELD_BASES = [{'name': 'a', 'type': 'u32', 'from': 'args[0]'}, {'name': 'a', 'type': 'char[]', 'from': 'args[1]'},
               {'name': 's', 'type': 'stack', 'from': 'ustack'}, {'name': 'b', 'type': 'char*[]', 'from': 'args[1]'}]


def odd_documents():
    """Documents with one key of an event, a field or an aggregation set to a value of
    each type: (the key, its value, the document)."""
    for base in EVENT_BASES:
        for key in validate.EVENT_KEYS:
            for value in ODD_VALUES:
                yield key, value, {'syscalls': {'sys_enter_read': {**base, key: value}}}
    for base in FIELD_BASES:
        for key in validate.FIELD_KEYS:
            for value in ODD_VALUES:
                yield key, value, {'syscalls': {'sys_enter_read': {'id': 1026, 'payload': [{**base, key: value}]}}}
    for key in validate_aggregate.AGG_KEYS:
        for value in ODD_VALUES:
            agg = {'name': 'n', 'by': ['a'], key: value}
            yield key, value, {'syscalls': {'sys_enter_read': {
                'id': 1026, 'payload': [FIELD_BASES[0]], 'aggregate': [agg]}}}


def test_a_value_of_the_wrong_type_is_an_error_naming_the_event():
    """Whatever a key holds, typegen reports it as a schema error naming the event (a
    list as a kind, a table as a type or a field name raised TypeError)."""
    vmlinux, tracefs = VmlinuxIndex(str(VMLINUX)), Tracefs(str(TRACEFS))
    for key, value, doc in odd_documents():
        try:
            validate.check('events.toml', doc, vmlinux, tracefs)
        except validate.SchemaError as e:
            assert all(line.startswith('events.toml: [syscalls.sys_enter_read]') for line in e.errors), (key, value)
