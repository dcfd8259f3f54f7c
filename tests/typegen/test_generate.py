"""Good schemas: the repository's events.toml, events.toml with one syscall tracepoint
added, and one event per kind of probe (fixtures/kinds.toml) generate every output with
the expected code; output is deterministic and unchanged files are left untouched; the
generated code compiles for user space and for the BPF target."""
import json
import os
import re
import sys
import textwrap
import tomllib

import pytest

from typegen_support import CFLAGS, EVENTS, GEN_FILES, TYPEGEN, compile_bpf, compile_c, generate, run_typegen

sys.path.insert(0, str(TYPEGEN.parent))
from kinds import ENTRY_DEPTH  # noqa: E402


def schema_tables():
    """("category/name", table) of every event of events.toml, in schema order."""
    with open(EVENTS, 'rb') as f:
        doc = tomllib.load(f)
    return [(f'{cat}/{name}', ev) for cat, table in doc.items()
            if cat not in ('version', 'defaults') for name, ev in table.items()]


def schema_events():
    """(id, "category/name") of every event of events.toml, in schema order."""
    return [(ev['id'], t) for t, ev in schema_tables()]


def handler_section(type_name, table):
    """The SEC() of an event's handler: its tracepoint, "tp" for a tracepoint given at
    run time, the kind for a kprobe or uprobe (the target is given at attach time)."""
    kind = table.get('kind', 'tracepoint')
    if kind != 'tracepoint':
        return kind
    return 'tp' if table.get('runtime') else f'tp/{type_name}'


def test_real_schema_has_a_handler_struct_table_entry_and_json_branch_per_event(real_gen):
    events = schema_events()
    idents = [t.replace('/', '_') for _, t in events]
    header = (real_gen / 'events.gen.h').read_text()
    fill = (real_gen / 'fill.gen.bpf.h').read_text()
    table = (real_gen / 'json.gen.c').read_text().split('bootstrap_events[BOOTSTRAP_N_EVENTS] = {')[1]
    branches = json.loads((real_gen / 'events.schema.json').read_text())['oneOf']

    assert f'#define BOOTSTRAP_N_EVENTS {len(events)}\n' in header
    assert re.findall(r'^struct bootstrap_payload_(\w+) \{$', header, re.M) == idents
    # Each event's handler at its own attach point (companions have a __suffix).
    handlers = re.findall(r'^SEC\("([\w/]+)"\)\nint (\w+)\(', fill, re.M)
    assert [h for h in handlers if not h[1].endswith(('__retry', '__entry'))] == [
        (handler_section(t, ev), f"{ev.get('kind', 'tracepoint')}__{t.replace('/', '__')}")
        for t, ev in schema_tables()]
    assert [(int(i), t) for i, t in re.findall(r'^\t\{ (\d+), "([\w/]+)", ', table, re.M)] == events
    assert [(b['properties']['event_id']['const'], b['title']) for b in branches
            if 'event_id' in b['properties']] == events


def test_exit_status_is_split_with_shift_and_mask(real_gen):
    assert ('\tp->exit_code = (__s32)((((__u64)(task->exit_code) >> 8) & 0xff));\n'
            '\tp->signal = (__s32)(((__u64)(task->exit_code) & 0x7f));\n'
            ) in (real_gen / 'fill.gen.bpf.h').read_text()


def test_write_content_is_bounded_by_count_and_kept_for_stdout_and_stderr(real_gen):
    assert ('\tif (p->fd == 1 || p->fd == 2)\n'
            '\t\tbs_var_bytes(e, &p->content, 2, (const void *)(args[1]), p->count, 32768, true);\n'
            '\telse\n'
            '\t\tbs_var_none(e, &p->content);\n'
            ) in (real_gen / 'fill.gen.bpf.h').read_text()


def test_template_tracepoint_reads_its_ctx_type(real_gen):
    fill = (real_gen / 'fill.gen.bpf.h').read_text()
    assert ('int tracepoint__vmscan__mm_vmscan_direct_reclaim_begin('
            'struct trace_event_raw_mm_vmscan_direct_reclaim_begin_template *ctx)\n') in fill
    assert '\tp->order = (__s32)(ctx->order);\n' in fill


def test_added_syscall_event_gets_a_payload_struct(added_gen):
    assert textwrap.dedent('''\
        /* syscalls/sys_enter_mkdirat (tracepoint): Directory creation, syscall entry */
        struct bootstrap_payload_syscalls_sys_enter_mkdirat {
        \t__s32 dfd;
        \tstruct bootstrap_var pathname; /* char[], max 4096 bytes */
        \t__u32 mode;
        };
        BOOTSTRAP_STATIC_ASSERT(sizeof(struct bootstrap_payload_syscalls_sys_enter_mkdirat) == 16, "syscalls_sys_enter_mkdirat payload size");
        BOOTSTRAP_STATIC_ASSERT(__builtin_offsetof(struct bootstrap_payload_syscalls_sys_enter_mkdirat, dfd) == 0, "syscalls_sys_enter_mkdirat.dfd offset");
        BOOTSTRAP_STATIC_ASSERT(__builtin_offsetof(struct bootstrap_payload_syscalls_sys_enter_mkdirat, pathname) == 4, "syscalls_sys_enter_mkdirat.pathname offset");
        BOOTSTRAP_STATIC_ASSERT(__builtin_offsetof(struct bootstrap_payload_syscalls_sys_enter_mkdirat, mode) == 12, "syscalls_sys_enter_mkdirat.mode offset");
        ''') in (added_gen / 'events.gen.h').read_text()


def test_added_syscall_event_gets_a_handler(added_gen):
    """Its fill, its handler (which copies the arguments it uses), and the exit program
    that completes it when a user read faulted at the entry."""
    fill = (added_gen / 'fill.gen.bpf.h').read_text()
    assert textwrap.dedent('''\
        /* syscalls/sys_enter_mkdirat (tracepoint): Directory creation, syscall entry */
        static __always_inline void bs_fill__syscalls_sys_enter_mkdirat(struct bs_emit *e, struct bootstrap_payload_syscalls_sys_enter_mkdirat *p, void *ctx,
        \tstruct task_struct *task, const void *entry, const __u64 *args)
        {
        \tp->dfd = (__s32)(args[0]);
        \tbs_var_str(e, &p->pathname, 1, (const void *)(args[1]), 4096, true);
        \tp->mode = (__u32)(args[2]);
        }

        SEC("tp/syscalls/sys_enter_mkdirat")
        int tracepoint__syscalls__sys_enter_mkdirat(struct syscall_trace_enter *ctx)
        {
        ''') in fill
    assert '\t__u64 args[6] = { [0] = ctx->args[0], [1] = ctx->args[1], [2] = ctx->args[2] };\n' in fill
    assert ('\tbs_fill__syscalls_sys_enter_mkdirat(&e, p, ctx, task, entry, args);\n'
            '\tif (bs_retry_stash(&e, task, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_MKDIRAT, args))\n'
            '\t\treturn 0;\n'
            '\tbs_commit(&e, sizeof(*p));\n') in fill
    assert ('SEC("tp/syscalls/sys_exit_mkdirat")\n'
            'int tracepoint__syscalls__sys_enter_mkdirat__retry(void *ctx)\n') in fill
    assert '\tbs_fill__syscalls_sys_enter_mkdirat(&e, p, ctx, task, NULL, st->args);\n' in fill


def test_added_syscall_event_gets_a_reflection_entry(added_gen):
    source = (added_gen / 'json.gen.c').read_text()
    assert textwrap.dedent('''\
        static const struct bootstrap_field_info fields_syscalls_sys_enter_mkdirat[] = {
        \t{ "dfd", BOOTSTRAP_T_S32, "s32", 0, -1, false, 0 },
        \t{ "pathname", BOOTSTRAP_T_BYTES, "char[]", 4, 0, false, 4096 },
        \t{ "mode", BOOTSTRAP_T_U32, "u32", 12, -1, false, 0 },
        };
        ''') in source
    assert ('\t{ 1031, "syscalls/sys_enter_mkdirat", "Directory creation, syscall entry", '
            '16, 3, fields_syscalls_sys_enter_mkdirat, 1, BOOTSTRAP_KIND_TRACEPOINT, 0, "syscalls/sys_enter_mkdirat", false, 0x2 },\n') in source
    assert '\tpayload_syscalls_sys_enter_mkdirat,\n' in source


def test_added_syscall_event_gets_a_json_schema_branch(added_gen):
    branches = json.loads((added_gen / 'events.schema.json').read_text())['oneOf']
    (branch,) = [b for b in branches if b['title'] == 'syscalls/sys_enter_mkdirat']
    flagged = {'type': 'array', 'items': {'enum': ['pathname']}, 'minItems': 1, 'uniqueItems': True}
    assert branch['required'] == ['event_id', 'event_type', 'timestamp_ns', 'pid', 'tid', 'ppid', 'upid',
                                  'uppid', 'uid', 'cgroup_id', 'comm', 'payload']
    own = {k: v for k, v in branch['properties'].items() if k not in branch['required'][2:-1]}
    assert own == {
        'event_id': {'const': 1031},
        'event_type': {'const': 'syscalls/sys_enter_mkdirat'},
        'payload': {
            'type': 'object',
            'properties': {
                'dfd': {'type': 'integer', 'minimum': -2**31, 'maximum': 2**31 - 1},
                'pathname': {'type': ['string', 'null'], 'description': 'null when the field was lost'},
                'mode': {'type': 'integer', 'minimum': 0, 'maximum': 2**32 - 1},
            },
            'required': ['dfd', 'pathname', 'mode'],
            'additionalProperties': False,
        },
        'truncated': flagged,
        'lost': flagged,
        'reread': flagged,
    }


def test_comment_with_comment_markers_and_non_ascii_compiles(tmp_path):
    (tmp_path / 'events.toml').write_text(textwrap.dedent('''\
        [syscalls.sys_enter_openat]
        id = 1024
        comment = "Opens under /proc/*/fd \u2014 na\u00efve \\"quoted\\" \U0001F680\\u0001"
        payload = [{ name = "dfd", type = "s32", from = "args[0]" }]
        '''))
    gen = generate(tmp_path / 'events.toml', tmp_path / 'out')
    assert ('\t{ 1024, "syscalls/sys_enter_openat", "Opens under /proc/*/fd \\342\\200\\224 '
            'na\\303\\257ve \\042quoted\\042 \\360\\237\\232\\200\\001", 4, 1, fields_syscalls_sys_enter_openat, 0, '
            'BOOTSTRAP_KIND_TRACEPOINT, 0, "syscalls/sys_enter_openat", false, 0 },\n') in (gen / 'json.gen.c').read_text()
    assert '/* syscalls/sys_enter_openat (tracepoint): Opens under /proc/ * /fd' in (gen / 'events.gen.h').read_text()
    compile_c(['cc', *CFLAGS, '-Iinclude', '-Ic', f'-I{gen}', '-c', str(gen / 'json.gen.c'), '-o', str(tmp_path / 'json.o')])
    compile_bpf(gen, tmp_path / 'bootstrap.bpf.o')


def test_two_runs_write_identical_bytes(tmp_path):
    first = generate(EVENTS, tmp_path / 'first')
    second = generate(EVENTS, tmp_path / 'second')
    for name in GEN_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_only_changed_outputs_are_rewritten(tmp_path):
    schema = tmp_path / 'events.toml'
    openat = '[syscalls.sys_enter_openat]\nid = 1024\npayload = [{{ name = "filename", ' \
        'type = "char[]", from = "args[1]", max = {} }}]\n'
    schema.write_text(openat.format(4096))
    out = generate(schema, tmp_path / 'out')
    old = 1_000_000_000
    for name in GEN_FILES:
        os.utime(out / name, (old, old))

    generate(schema, out)
    assert [(out / name).stat().st_mtime for name in GEN_FILES] == [old] * len(GEN_FILES)

    # A field's max appears in the payload struct comments (C and Rust), in the handler and
    # in the reflection table (the bound of its length in user space) only.
    schema.write_text(openat.format(2048))
    generate(schema, out)
    assert [name for name in GEN_FILES if (out / name).stat().st_mtime != old] == [
        'events.gen.h', 'fill.gen.bpf.h', 'json.gen.c', 'types.gen.rs']


def test_events_header_compiles_for_user_space(gen):
    compile_c(['cc', *CFLAGS, '-Iinclude', '-Ic', f'-I{gen}', '-fsyntax-only', '-x', 'c', str(gen / 'events.gen.h')])


@pytest.mark.parametrize('source', ['json.gen.c', 'attach.gen.c'])
def test_generated_library_sources_compile_with_the_library_headers(gen, tmp_path, source):
    compile_c(['cc', *CFLAGS, '-Iinclude', '-Ic', f'-I{gen}', '-c', str(gen / source), '-o', str(tmp_path / 'out.o')])


def test_bpf_program_compiles(gen, tmp_path):
    compile_bpf(gen, tmp_path / 'bootstrap.bpf.o')
    assert (tmp_path / 'bootstrap.bpf.o').stat().st_size > 0


def generated_fill(tmp_path, toml):
    """fill.gen.bpf.h of the schema `toml`."""
    (tmp_path / 'events.toml').write_text(toml)
    return (generate(tmp_path / 'events.toml', tmp_path / 'out') / 'fill.gen.bpf.h').read_text()


def test_bool_with_shift_and_mask_is_normalised_not_truncated(tmp_path):
    fill = generated_fill(tmp_path, '[syscalls.sys_enter_openat]\nid = 1024\n'
                          'payload = [{ name = "creat", type = "bool", from = "args[2]", shift = 6, mask = 1 }]\n')
    assert '\tp->creat = !!((((__u64)(ctx->args[2]) >> 6) & 0x1));\n' in fill


@pytest.mark.parametrize('field, read', [
    pytest.param('{ name = "parent_comm", type = "char[]", from = "task.real_parent.comm", max = 15 }',
                 'bs_var_str(e, &p->parent_comm, 0, (const void *)(task->real_parent->comm), 15, false);',
                 id='array-in-the-task-is-kernel-memory'),
    pytest.param('{ name = "argv", type = "char[][]", from = "task.mm.arg_start", end = "task.mm.arg_end" }',
                 'bs_var_block(e, &p->argv, 0, (__u64)(task->mm->arg_start), (__u64)(task->mm->arg_end), 4096, true);',
                 id='address-held-as-an-integer-is-user-memory'),
])
def test_task_chain_is_read_where_its_bytes_are(tmp_path, field, read):
    fill = generated_fill(tmp_path, f'[sched.sched_process_exec]\nid = 0\npayload = [{field}]\n')
    assert f'\t{read}\n' in fill


@pytest.mark.parametrize('fields, need', [
    pytest.param('', 0, id='no-variable-field-reserves-nothing'),
    pytest.param('{ name = "s", type = "char[]", from = "args[1]", max = 100 }', 104,
                 id='a-string-and-its-nul-rounded-to-the-alignment'),
    pytest.param('{ name = "n", type = "u64", from = "args[2]" },'
                 '{ name = "b", type = "char[]", from = "args[1]", len = "n", max = 64 },'
                 '{ name = "v", type = "char*[]", from = "args[3]", max_items = 4, max = 32768 },'
                 '{ name = "k", type = "stack", from = "kstack", max = 10 }', 64 + 32769 + 87,
                 id='bytes-an-array-and-a-stack-with-its-alignment'),
])
def test_begin_reserves_what_the_variable_fields_may_write(tmp_path, fields, need):
    """bs_begin's arena reservation: the most the event's bs_var_* calls can take."""
    fill = generated_fill(tmp_path, f'[syscalls.sys_enter_openat]\nid = 1024\npayload = [{fields}]\n')
    assert (f'\tp = bs_begin(&e, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, BOOTSTRAP_ID_SYSCALLS_SYS_ENTER_OPENAT, '
            f'sizeof(*p), {need});\n') in fill


def test_syscall_entry_reading_only_through_a_pointer_is_retried_at_the_exit(tmp_path):
    """A *args[N] integer in user memory faults like a string does: held for the exit too."""
    fill = generated_fill(tmp_path, '[syscalls.sys_enter_clock_nanosleep]\nid = 1\n'
                          'payload = [{ name = "tv_sec", type = "s64", from = "*args[2]" }]\n')
    assert '\tp->tv_sec = (__s64)(bs_deref(e, 0, (const void *)(args[2]), sizeof(__s64), true));\n' in fill
    assert '\tif (bs_retry_stash(&e, task, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_CLOCK_NANOSLEEP, args))\n' in fill
    assert ('SEC("tp/syscalls/sys_exit_clock_nanosleep")\n'
            'int tracepoint__syscalls__sys_enter_clock_nanosleep__retry(void *ctx)\n') in fill


# One event per kind of probe (fixtures/kinds.toml): the code generated for each.

# The return points that read their entry, and the lost mask of the fields read from it.
ENTRY_LOST_MASKS = {'files_open_done': '0x6', 'ssl_read': '0x2', 'ssl_read_ex': '0x2',
                    'syscalls_sys_exit_read': '0x6'}


def test_each_kind_has_its_section_and_handler_and_return_points_their_entry_program(kinds_gen):
    """Every program of the fixture, in order: SEC(), name (kind__category__name, the
    entry program of a return point with __entry) and context type."""
    fill = (kinds_gen / 'fill.gen.bpf.h').read_text()
    regs, sys_enter, sys_exit = 'struct pt_regs', 'struct syscall_trace_enter', 'struct syscall_trace_exit'
    assert re.findall(r'^SEC\("([^"]+)"\)\nint (\w+)\((.+) \*ctx\)$', fill, re.M) == [
        ('kprobe', 'kprobe__files__open', regs),
        ('kprobe', 'kretprobe__files__open_done__entry', regs),
        ('kretprobe', 'kretprobe__files__open_done', regs),
        ('uprobe', 'uprobe__bash__shell_execve', regs),
        ('uprobe', 'uretprobe__ssl__read__entry', regs),
        ('uretprobe', 'uretprobe__ssl__read', regs),
        ('uprobe', 'uretprobe__ssl__read_ex__entry', regs),
        ('uretprobe', 'uretprobe__ssl__read_ex', regs),
        ('kprobe', 'kprobe__any__kfunc', regs),
        ('tp/syscalls/sys_enter_read', 'tracepoint__syscalls__sys_exit_read__entry', sys_enter),
        ('tp/syscalls/sys_exit_read', 'tracepoint__syscalls__sys_exit_read', sys_exit),
    ]


@pytest.mark.parametrize('ident, ctx, body', [
    pytest.param('files_open', 'struct pt_regs',
                 '\tp->dfd = (__s32)(PT_REGS_PARM1(ctx));\n'
                 '\tbs_var_str(e, &p->filename, 1, (const void *)(PT_REGS_PARM2(ctx)), 256, true);\n',
                 id='kprobe-arguments'),
    pytest.param('files_open_done', 'struct pt_regs',
                 '\tp->ret = (__s64)(PT_REGS_RC(ctx));\n'
                 '\tif (entry)\n'
                 '\t\tbs_var_str(e, &p->filename, 1, (const void *)(entry->arg1), 256, true);\n'
                 '\telse\n'
                 '\t\tbs_var_none(e, &p->filename);\n'
                 '\tp->elapsed_ns = !entry ? 0 : (__u64)((bpf_ktime_get_ns() - entry->call.ts));\n',
                 id='kretprobe-return-value-entry-argument-and-duration'),
    pytest.param('bash_shell_execve', 'struct pt_regs',
                 '\tbs_var_str(e, &p->command, 0, (const void *)(PT_REGS_PARM1(ctx)), 4096, true);\n'
                 '\tbs_var_str_array(e, &p->argv, 1, (const void *)(PT_REGS_PARM2(ctx)), 16, 4096);\n',
                 id='uprobe-arguments-in-user-memory'),
    pytest.param('ssl_read', 'struct pt_regs',
                 '\tp->ret = (__s32)(PT_REGS_RC(ctx));\n'
                 '\tif ((entry) && (p->ret > 0))\n'
                 '\t\tbs_var_bytes(e, &p->plaintext, 1, (const void *)(entry->arg1), p->ret, 16384, true);\n'
                 '\telse\n'
                 '\t\tbs_var_none(e, &p->plaintext);\n',
                 id='uretprobe-buffer-of-the-entry-sized-by-the-return-value'),
    pytest.param('ssl_read_ex', 'struct pt_regs',
                 '\tp->ok = (__s32)(PT_REGS_RC(ctx));\n'
                 '\tp->readbytes = !entry ? 0 : (__u64)(bs_deref(e, 1, (const void *)(entry->arg3), sizeof(__u64), true));\n',
                 id='uretprobe-integer-read-through-an-entry-pointer'),
    pytest.param('any_kfunc', 'struct pt_regs',
                 '\tbs_var_str(e, &p->function, 0, (const void *)(bs_target_name(ctx)), 64, false);\n'
                 '\tp->arg0 = (__u64)(PT_REGS_PARM1(ctx));\n'
                 '\tbs_var_str(e, &p->arg1_str, 2, (const void *)(PT_REGS_PARM2(ctx)), 64, false);\n',
                 id='run-time-kprobe-target-name-and-kernel-memory-argument'),
    pytest.param('syscalls_sys_exit_read', 'struct syscall_trace_exit',
                 '\tp->ret = (__s64)(ctx->ret);\n'
                 '\tp->fd = !entry ? 0 : (__u32)(entry->arg0);\n'
                 '\tp->elapsed_ns = !entry ? 0 : (__u64)((bpf_ktime_get_ns() - entry->call.ts));\n',
                 id='sys-exit-entry-argument-and-duration'),
])
def test_each_kind_reads_its_sources(kinds_gen, ident, ctx, body):
    entry = f'struct bs_entry__{ident}' if ident in ENTRY_LOST_MASKS else 'void'
    assert (f'static __always_inline void bs_fill__{ident}(struct bs_emit *e, struct bootstrap_payload_{ident} *p, '
            f'{ctx} *ctx,\n\tstruct task_struct *task, const {entry} *entry, const __u64 *args)\n'
            '{\n' + body + '}\n') in (kinds_gen / 'fill.gen.bpf.h').read_text()


@pytest.mark.parametrize('ident, prog, section, ctx, stash, depth, call', [
    pytest.param('files_open_done', 'kretprobe__files__open_done', 'kprobe', 'pt_regs',
                 {1: 'PT_REGS_PARM2(ctx)'}, ENTRY_DEPTH, 'PT_REGS_SP(ctx)', id='kretprobe'),
    pytest.param('ssl_read', 'uretprobe__ssl__read', 'uprobe', 'pt_regs', {1: 'PT_REGS_PARM2(ctx)'},
                 ENTRY_DEPTH, 'PT_REGS_SP(ctx)', id='uretprobe'),
    pytest.param('ssl_read_ex', 'uretprobe__ssl__read_ex', 'uprobe', 'pt_regs', {3: 'PT_REGS_PARM4(ctx)'},
                 ENTRY_DEPTH, 'PT_REGS_SP(ctx)', id='uretprobe-pointer-argument'),
    # A task is in one syscall at a time: one entry, and no stack pointer needed.
    pytest.param('syscalls_sys_exit_read', 'tracepoint__syscalls__sys_exit_read', 'tp/syscalls/sys_enter_read',
                 'syscall_trace_enter', {0: 'ctx->args[0]'}, 1, '0', id='sys-exit'),
])
def test_return_point_stashes_only_the_arguments_it_reads_at_its_entry(kinds_gen, ident, prog, section, ctx, stash,
                                                                        depth, call):
    members = ''.join(f'\t__u64 arg{n};\n' for n in stash)
    stores = ''.join(f'\tentry->arg{n} = (__u64)({read});\n' for n, read in stash.items())
    upper = ident.upper()
    assert (f'struct bs_entry__{ident} {{\n'
            '\tstruct bs_entry_call call;\n'
            f'{members}}};\n\n'
            '/* Per task, the entries of its calls in progress (bpf/entry.bpf.h). */\n'
            f'struct bs_entries__{ident} {{\n'
            '\tstruct bs_entry_stack stack;\n'
            f'\tstruct bs_entry__{ident} slot[{depth}];\n'
            '};\n'
            f'_Static_assert(__builtin_offsetof(struct bs_entries__{ident}, slot) == sizeof(struct bs_entry_stack),\n'
            '\t       "bs_entry_slot() finds the slots right after the stack\'s header");\n\n'
            'struct {\n'
            '\t__uint(type, BPF_MAP_TYPE_TASK_STORAGE);\n'
            '\t__uint(map_flags, BPF_F_NO_PREALLOC);\n'
            '\t__type(key, int);\n'
            f'\t__type(value, struct bs_entries__{ident});\n'
            f'}} bs_entries__{ident} SEC(".maps");\n\n'
            f'SEC("{section}")\n'
            f'int {prog}__entry(struct {ctx} *ctx)\n'
            '{\n'
            f'\tstruct bs_entry__{ident} *entry;\n\n'
            f'\tentry = bs_entry_push(&bs_entries__{ident}, sizeof(*entry), {depth}, {call},\n'
            f'\t\t\t      bs_wanted(BOOTSTRAP_EV_{upper}, bpf_get_current_pid_tgid() >> 32));\n'
            '\tif (!entry)\n'
            '\t\treturn 0;\n'
            f'{stores}'
            '\treturn 0;\n'
            '}\n') in (kinds_gen / 'fill.gen.bpf.h').read_text()


def test_return_point_without_its_entry_marks_the_entry_fields_lost(kinds_gen):
    """Events without an entry program have no such line. A function's return finds its
    call by the stack pointer at the entry; a syscall's has one entry per task."""
    fill = (kinds_gen / 'fill.gen.bpf.h').read_text()
    handlers = re.findall(r'^\tentry = bs_entry_pop\(&e, &bs_entries__(\w+), sizeof\(\*entry\), (\d+), (.+), task\);\n'
                          r'\tbs_fill__\1\(&e, p, ctx, task, entry, NULL\);\n'
                          r'\tif \(!entry\)\n'
                          r'\t\te\.hdr->lost_mask \|= (0x\w+);\n', fill, re.M)
    function_return = (str(ENTRY_DEPTH), 'bs_entry_sp_at_return(ctx)')
    assert handlers == [(ident, *(('1', '0') if 'sys_exit' in ident else function_return), mask)
                        for ident, mask in ENTRY_LOST_MASKS.items()]
    assert fill.count('lost_mask |=') == len(handlers)


def test_attach_table_names_each_kind_its_companion_and_where_it_attaches(kinds_gen):
    table = (kinds_gen / 'attach.gen.c').read_text().split('bs_event_progs[BOOTSTRAP_N_EVENTS] = {\n')[1]
    assert table == textwrap.dedent('''\
        \t[BOOTSTRAP_EV_FILES_OPEN] = {
        \t\t.prog = "kprobe__files__open",
        \t},
        \t[BOOTSTRAP_EV_FILES_OPEN_DONE] = {
        \t\t.prog = "kretprobe__files__open_done",
        \t\t.companion = "kretprobe__files__open_done__entry",
        \t\t.companion_kind = BOOTSTRAP_KIND_KPROBE,
        \t},
        \t[BOOTSTRAP_EV_BASH_SHELL_EXECVE] = {
        \t\t.prog = "uprobe__bash__shell_execve",
        \t},
        \t[BOOTSTRAP_EV_SSL_READ] = {
        \t\t.prog = "uretprobe__ssl__read",
        \t\t.companion = "uretprobe__ssl__read__entry",
        \t\t.companion_kind = BOOTSTRAP_KIND_UPROBE,
        \t},
        \t[BOOTSTRAP_EV_SSL_READ_EX] = {
        \t\t.prog = "uretprobe__ssl__read_ex",
        \t\t.companion = "uretprobe__ssl__read_ex__entry",
        \t\t.companion_kind = BOOTSTRAP_KIND_UPROBE,
        \t},
        \t[BOOTSTRAP_EV_ANY_KFUNC] = {
        \t\t.prog = "kprobe__any__kfunc",
        \t},
        \t[BOOTSTRAP_EV_SYSCALLS_SYS_EXIT_READ] = {
        \t\t.prog = "tracepoint__syscalls__sys_exit_read",
        \t\t.companion = "tracepoint__syscalls__sys_exit_read__entry",
        \t\t.companion_kind = BOOTSTRAP_KIND_TRACEPOINT,
        \t\t.companion_target = "syscalls/sys_enter_read",
        \t},
        };
        ''')


def test_reflection_entry_has_the_kind_the_lossy_integers_and_the_declared_target(kinds_gen):
    table = (kinds_gen / 'json.gen.c').read_text().split('bootstrap_events[BOOTSTRAP_N_EVENTS] = {\n')[1]
    entries = re.findall(r'^\t\{ (\d+), "([\w/]+)", "[^"]*", (\d+), (\d+), fields_\w+, (\d+), (\w+), (\w+), (.+), false, 0 \},$',
                         table, re.M)
    # id, event_type, payload size, fields, variable fields, kind, lossy_fields, target (none opt-in)
    assert entries == [
        ('4096', 'files/open', '12', '2', '1', 'BOOTSTRAP_KIND_KPROBE', '0', '"do_sys_openat2"'),
        ('4097', 'files/open_done', '24', '3', '1', 'BOOTSTRAP_KIND_KRETPROBE', '0x4', '"do_sys_openat2"'),
        ('4098', 'bash/shell_execve', '16', '2', '2', 'BOOTSTRAP_KIND_UPROBE', '0', '"/bin/bash:shell_execve"'),
        ('4099', 'ssl/read', '12', '2', '1', 'BOOTSTRAP_KIND_URETPROBE', '0', '"libssl.so.3:SSL_read"'),
        ('4100', 'ssl/read_ex', '16', '2', '0', 'BOOTSTRAP_KIND_URETPROBE', '0x2', '"libssl.so.3:SSL_read_ex"'),
        ('4101', 'any/kfunc', '24', '3', '2', 'BOOTSTRAP_KIND_KPROBE', '0', 'NULL'),
        ('4102', 'syscalls/sys_exit_read', '24', '3', '0', 'BOOTSTRAP_KIND_TRACEPOINT', '0x6', '"syscalls/sys_exit_read"'),
    ]


def json_int(bits, signed=False, nullable=False):
    """The JSON Schema of an integer field; `nullable` for one that can be lost."""
    shape = ({'type': 'integer', 'minimum': -2**(bits - 1), 'maximum': 2**(bits - 1) - 1} if signed else
             {'type': 'integer', 'minimum': 0, 'maximum': 2**bits - 1})
    return {'anyOf': [shape, {'type': 'null'}], 'description': 'null when the field was lost'} if nullable else shape


STRING = {'type': ['string', 'null'], 'description': 'null when the field was lost'}


@pytest.mark.parametrize('title, properties, lost', [
    pytest.param('files/open_done', {'ret': json_int(64, signed=True), 'filename': STRING,
                                     'elapsed_ns': json_int(64, nullable=True)},
                 ['filename', 'elapsed_ns'], id='kretprobe'),
    pytest.param('ssl/read', {'ret': json_int(32, signed=True), 'plaintext': STRING}, ['plaintext'],
                 id='uretprobe'),
    pytest.param('ssl/read_ex', {'ok': json_int(32, signed=True), 'readbytes': json_int(64, nullable=True)},
                 ['readbytes'], id='uretprobe-through-a-pointer'),
    pytest.param('syscalls/sys_exit_read', {'ret': json_int(64, signed=True), 'fd': json_int(32, nullable=True),
                                            'elapsed_ns': json_int(64, nullable=True)},
                 ['fd', 'elapsed_ns'], id='sys-exit'),
    pytest.param('any/kfunc', {'function': STRING, 'arg0': json_int(64), 'arg1_str': STRING},
                 ['function', 'arg1_str'], id='kprobe'),
])
def test_json_schema_lets_entry_and_pointer_integers_be_null_and_lost(kinds_gen, title, properties, lost):
    branches = json.loads((kinds_gen / 'events.schema.json').read_text())['oneOf']
    (branch,) = [b for b in branches if b['title'] == title]
    assert branch['properties']['payload']['properties'] == properties
    assert branch['properties']['lost'] == {'type': 'array', 'items': {'enum': lost}, 'minItems': 1,
                                            'uniqueItems': True}


def test_same_name_in_two_categories_is_two_events(tmp_path):
    fill = generated_fill(tmp_path, ''.join(
        f'[{category}.read]\nid = {i}\nkind = "kprobe"\nfunction = "vfs_read"\n'
        'payload = [{ name = "count", type = "u64", from = "args[2]" }]\n'
        for i, category in enumerate(('vfs', 'ksys'))))
    assert re.findall(r'^int (\w+)\(struct pt_regs \*ctx\)$', fill, re.M) == ['kprobe__vfs__read', 'kprobe__ksys__read']
    assert re.findall(r'^static __always_inline void bs_fill__(\w+)\(', fill, re.M) == ['vfs_read', 'ksys_read']


def test_reflection_bounds_each_field_by_what_its_emit_helper_can_write(tmp_path):
    # max_len is the longest len user space accepts (longer is a corrupt record): a char*[]
    # block may end with the NUL of a last string cut at max, a stack's max is in frames.
    (tmp_path / 'events.toml').write_text(textwrap.dedent('''\
        [syscalls.sys_enter_execve]
        id = 1
        payload = [
          { name = "filename", type = "char[]", from = "args[0]", max = 100 },
          { name = "argv", type = "char*[]", from = "args[1]", max = 200 },
          { name = "ustack", type = "stack", from = "ustack", max = 3 },
        ]
        '''))
    gen = generate(tmp_path / 'events.toml', tmp_path / 'out')
    assert ('\t{ "filename", BOOTSTRAP_T_BYTES, "char[]", 0, 0, false, 100 },\n'
            '\t{ "argv", BOOTSTRAP_T_STR_ARRAY, "char*[]", 8, 1, false, 201 },\n'
            '\t{ "ustack", BOOTSTRAP_T_STACK, "stack", 16, 2, false, 24 },\n') in (gen / 'json.gen.c').read_text()
    fill = (gen / 'fill.gen.bpf.h').read_text()
    assert 'bs_var_str_array(e, &p->argv, 1, (const void *)(args[1]), 64, 200)' in fill
    assert 'bs_var_stack(e, &p->ustack, 2, ctx, 24, BPF_F_USER_STACK)' in fill
