"""Good schemas: the repository's events.toml, and events.toml with one syscall
tracepoint added, generate every output with the expected code; output is
deterministic and unchanged files are left untouched; the generated code compiles for
user space and for the BPF target."""
import json
import os
import re
import textwrap
import tomllib

from typegen_support import CFLAGS, EVENTS, GEN_FILES, compile_bpf, compile_c, generate, run_typegen


def schema_events(with_kind=False):
    """(id, "category/name") of every event of events.toml, in schema order; with_kind
    adds the event's kind."""
    with open(EVENTS, 'rb') as f:
        doc = tomllib.load(f)
    return [(ev['id'], f'{cat}/{name}', *((ev.get('kind', 'tracepoint'),) if with_kind else ()))
            for cat, table in doc.items() if cat not in ('version', 'defaults') for name, ev in table.items()]


def test_real_schema_has_a_handler_struct_table_entry_and_json_branch_per_event(real_gen):
    events = schema_events()
    idents = [t.replace('/', '_') for _, t in events]
    header = (real_gen / 'events.gen.h').read_text()
    fill = (real_gen / 'fill.gen.bpf.h').read_text()
    table = (real_gen / 'json.gen.c').read_text().split('bootstrap_events[BOOTSTRAP_N_EVENTS] = {')[1]
    branches = json.loads((real_gen / 'events.schema.json').read_text())['oneOf']

    assert f'#define BOOTSTRAP_N_EVENTS {len(events)}\n' in header
    assert re.findall(r'^struct bootstrap_payload_(\w+) \{$', header, re.M) == idents
    # Each event's handler, named KIND__CATEGORY__NAME, in its kind's section: a
    # tracepoint's names it, a probe's target is given at attach time (companions, the
    # entry stashes and syscall retries, have a __suffix).
    handlers = re.findall(r'^SEC\("([\w/]+)"\)\nint (\w+)\(', fill, re.M)
    assert [h for h in handlers if not h[1].endswith(('__retry', '__entry'))] == [
        (f'tp/{t}' if kind == 'tracepoint' else kind, f'{kind}__{t.replace("/", "__")}')
        for _, t, kind in schema_events(with_kind=True)]
    assert [(int(i), t) for i, t in re.findall(r'^\t\{ (\d+), "([\w/]+)", ', table, re.M)] == events
    assert [(b['properties']['event_id']['const'], b['title']) for b in branches] == events


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
        _Static_assert(sizeof(struct bootstrap_payload_syscalls_sys_enter_mkdirat) == 16, "syscalls_sys_enter_mkdirat payload size");
        _Static_assert(__builtin_offsetof(struct bootstrap_payload_syscalls_sys_enter_mkdirat, dfd) == 0, "syscalls_sys_enter_mkdirat.dfd offset");
        _Static_assert(__builtin_offsetof(struct bootstrap_payload_syscalls_sys_enter_mkdirat, pathname) == 4, "syscalls_sys_enter_mkdirat.pathname offset");
        _Static_assert(__builtin_offsetof(struct bootstrap_payload_syscalls_sys_enter_mkdirat, mode) == 12, "syscalls_sys_enter_mkdirat.mode offset");
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
        int tracepoint__syscalls__sys_enter_mkdirat(struct trace_event_raw_sys_enter *ctx)
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
        \t{ "dfd", BOOTSTRAP_T_S32, "s32", 0, -1 },
        \t{ "pathname", BOOTSTRAP_T_BYTES, "char[]", 4, 0 },
        \t{ "mode", BOOTSTRAP_T_U32, "u32", 12, -1 },
        };
        ''') in source
    assert ('\t{ 1031, "syscalls/sys_enter_mkdirat", "Directory creation, syscall entry", '
            '16, 3, fields_syscalls_sys_enter_mkdirat, 1, BOOTSTRAP_KIND_TRACEPOINT, 0, "syscalls/sys_enter_mkdirat", false },\n') in source
    assert '\tpayload_syscalls_sys_enter_mkdirat,\n' in source


def test_added_syscall_event_gets_a_json_schema_branch(added_gen):
    branches = json.loads((added_gen / 'events.schema.json').read_text())['oneOf']
    (branch,) = [b for b in branches if b['title'] == 'syscalls/sys_enter_mkdirat']
    flagged = {'type': 'array', 'items': {'enum': ['pathname']}, 'minItems': 1, 'uniqueItems': True}
    assert branch['properties'] == {
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
    }


def test_custom_fill_event_declares_and_includes_its_fill(tmp_path):
    (tmp_path / 'fill').mkdir()
    (tmp_path / 'fill' / 'sched_sched_process_free.bpf.c').write_text('')
    (tmp_path / 'events.toml').write_text(
        '[sched.sched_process_free]\nid = 7\nfill = "custom"\n'
        'ctx_type = "trace_event_raw_sched_process_template"\n'
        'payload = [{ name = "pid", type = "s32" }]\n')
    proc = run_typegen(tmp_path, 'events.toml', 'out', '--fill-dir', 'fill')
    assert (proc.returncode, proc.stderr) == (0, '')
    fill = (tmp_path / 'out' / 'fill.gen.bpf.h').read_text()
    assert ('static __always_inline void fill_sched_sched_process_free('
            'struct trace_event_raw_sched_process_template *ctx, struct bs_emit *e, '
            'struct bootstrap_payload_sched_sched_process_free *p);\n'
            '#include "fill/sched_sched_process_free.bpf.c"\n') in fill
    assert 'int tracepoint__sched__sched_process_free(struct trace_event_raw_sched_process_template *ctx)\n' in fill
    assert '\tfill_sched_sched_process_free(ctx, e, p);\n' in fill


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
            'BOOTSTRAP_KIND_TRACEPOINT, 0, "syscalls/sys_enter_openat", false },\n') in (gen / 'json.gen.c').read_text()
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

    # A field's max appears in the payload struct comment and in the handler only.
    schema.write_text(openat.format(2048))
    generate(schema, out)
    assert [name for name in GEN_FILES if (out / name).stat().st_mtime != old] == [
        'events.gen.h', 'fill.gen.bpf.h']


def test_events_header_compiles_for_user_space(gen):
    compile_c(['cc', *CFLAGS, '-Iinclude', '-Ic', f'-I{gen}', '-fsyntax-only', '-x', 'c', str(gen / 'events.gen.h')])


def test_json_serializers_compile_with_the_library_headers(gen, tmp_path):
    compile_c(['cc', *CFLAGS, '-Iinclude', '-Ic', f'-I{gen}', '-c', str(gen / 'json.gen.c'), '-o', str(tmp_path / 'json.o')])


def test_bpf_program_compiles(gen, tmp_path):
    compile_bpf(gen, tmp_path / 'bootstrap.bpf.o')
    assert (tmp_path / 'bootstrap.bpf.o').stat().st_size > 0



def test_bool_with_shift_and_mask_is_normalised_not_truncated(tmp_path):
    (tmp_path / 'events.toml').write_text(
        '[syscalls.sys_enter_openat]\nid = 1024\n'
        'payload = [{ name = "creat", type = "bool", from = "args[2]", shift = 6, mask = 1 }]\n')
    fill = (generate(tmp_path / 'events.toml', tmp_path / 'out') / 'fill.gen.bpf.h').read_text()
    assert '\tp->creat = !!((((__u64)(ctx->args[2]) >> 6) & 0x1));\n' in fill
