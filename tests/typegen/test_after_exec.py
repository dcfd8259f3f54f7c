"""after_exec and auxv.AT_*: a sys_enter_* field says where a successful exec's new image
keeps its value, and the exit that completes a faulted entry reads it there; the fields
that exit reads are named by the reflection table and the JSON Schema ("reread"). Bad
uses are rejected with one line each."""
import json
import textwrap

import pytest

from typegen_support import compile_bpf, generate, run_typegen

EXECVE = '''\
    [syscalls.sys_enter_execve]
    id = 1030
    payload = [
      { name = "filename", type = "char[]",  from = "args[0]", after_exec = { from = "auxv.AT_EXECFN" } },
      { name = "argv",     type = "char*[]", from = "args[1]", max_items = 8, max = 1024, after_exec = { from = "task.mm.arg_start", end = "task.mm.arg_end" } },
    ]
    '''


def reject(tmp_path, toml):
    (tmp_path / 'events.toml').write_text(textwrap.dedent(toml))
    proc = run_typegen(tmp_path)
    assert proc.returncode == 1 and not (tmp_path / 'out').exists()
    return proc.stderr.splitlines()


def test_exit_reads_the_new_image_and_marks_what_it_read(tmp_path):
    (tmp_path / 'events.toml').write_text(textwrap.dedent(EXECVE))
    gen = generate(tmp_path / 'events.toml', tmp_path / 'out')
    fill = (gen / 'fill.gen.bpf.h').read_text()
    assert ('\tif (new_image)\n'
            '\t\tbs_var_str(e, &p->filename, 0, (const void *)(bs_auxv(task, 31)), 4096, true);\n'
            '\telse\n'
            '\t\tbs_var_str(e, &p->filename, 0, (const void *)(args[0]), 4096, true);\n'
            '\tif (new_image)\n'
            '\t\tbs_var_block(e, &p->argv, 1, (__u64)(task->mm->arg_start), (__u64)(task->mm->arg_end), 1024, true);\n'
            '\telse\n'
            '\t\tbs_var_str_array(e, &p->argv, 1, (const void *)(args[1]), 8, 1024);\n') in fill
    # The entry never reads the new image; the exit does after a successful exec.
    assert 'bs_fill__syscalls_sys_enter_execve(&e, p, ctx, task, entry, args, false);\n' in fill
    assert ('bs_fill__syscalls_sys_enter_execve(&e, p, ctx, task, NULL, st->args, '
            'bs_retry_new_image(&e, ctx));\n') in fill
    assert '\te.hdr->reread_mask = (0x3) & ~e.hdr->lost_mask;\n' in fill
    assert ', false, 0x3 },\n' in (gen / 'json.gen.c').read_text()
    assert 'reread_fields: 0x3,' in (gen / 'types.gen.rs').read_text()
    branch = json.loads((gen / 'events.schema.json').read_text())['oneOf'][0]
    assert branch['properties']['reread']['items'] == {'enum': ['filename', 'argv']}
    compile_bpf(gen, tmp_path / 'bootstrap.bpf.o')


def test_reread_mask_counts_a_when_field_only_when_it_held(tmp_path):
    (tmp_path / 'events.toml').write_text(textwrap.dedent('''\
        [syscalls.sys_enter_openat]
        id = 1024
        payload = [
          { name = "dfd",      type = "s32",    from = "args[0]" },
          { name = "filename", type = "char[]", from = "args[1]", when = "dfd != 7" },
          { name = "flags",    type = "u32",    from = "args[2]" },
        ]
        '''))
    gen = generate(tmp_path / 'events.toml', tmp_path / 'out')
    assert ('\te.hdr->reread_mask = (((p->dfd != 7) ? 0x2 : 0)) & ~e.hdr->lost_mask;\n'
            in (gen / 'fill.gen.bpf.h').read_text())


def test_auxv_source_reads_the_auxiliary_vector_anywhere_with_a_task(tmp_path):
    (tmp_path / 'events.toml').write_text(textwrap.dedent('''\
        [sched.sched_process_exec]
        id = 0
        payload = [
          { name = "execfn", type = "char[]", from = "auxv.AT_EXECFN" },
          { name = "entry",  type = "u64",    from = "auxv.AT_ENTRY" },
        ]
        '''))
    gen = generate(tmp_path / 'events.toml', tmp_path / 'out')
    fill = (gen / 'fill.gen.bpf.h').read_text()
    assert '\tbs_var_str(e, &p->execfn, 0, (const void *)(bs_auxv(task, 31)), 4096, true);\n' in fill
    assert '\tp->entry = (__u64)(bs_auxv(task, 9));\n' in fill
    assert '\ttask = bpf_get_current_task_btf();\n' in fill
    compile_bpf(gen, tmp_path / 'bootstrap.bpf.o')


ARGV = '{ name = "argv", type = "char*[]", from = "args[1]"'
WHERE = 'events.toml: [syscalls.sys_enter_execve]'


@pytest.mark.parametrize('payload, error', [
    pytest.param(f'{ARGV}, after_exec = {{ from = "task.mm.arg_start" }} }}',
                 f"{WHERE} field 'argv': after_exec {{'from': 'task.mm.arg_start'}} is not valid for char*[] "
                 '(a table such as { from = "task.mm.arg_start", end = "task.mm.arg_end" }: a NUL-separated block)',
                 id='block-without-end'),
    pytest.param('{ name = "filename", type = "char[]", from = "args[0]", after_exec = "auxv.AT_EXECFN" }',
                 f"{WHERE} field 'filename': after_exec 'auxv.AT_EXECFN' is not valid for char[] "
                 '(a table such as { from = "auxv.AT_EXECFN" })', id='not-a-table'),
    pytest.param(f'{ARGV}, after_exec = {{ from = "args[1]", end = "task.mm.arg_end" }} }}',
                 f"{WHERE} field 'argv': after_exec.from = 'args[1]' does not read the new image "
                 '(task.A.B or auxv.AT_NAME: the arguments point into the memory the exec replaced)',
                 id='argument-source'),
    pytest.param('{ name = "filename", type = "char[]", from = "args[0]", after_exec = { from = "auxv.AT_NOPE" } }',
                 f"{WHERE} field 'filename': 'auxv.AT_NOPE': auxv.AT_NOPE is not an auxiliary vector entry typegen "
                 'knows (auxv.AT_PHDR, auxv.AT_BASE, auxv.AT_ENTRY, auxv.AT_PLATFORM, auxv.AT_RANDOM, auxv.AT_EXECFN)',
                 id='unknown-auxv-entry'),
    pytest.param('{ name = "fd", type = "u64", from = "args[0]", after_exec = { from = "auxv.AT_ENTRY" } }',
                 f"{WHERE} field 'fd': key 'after_exec' is only for variable fields (char[], char[][], char*[])",
                 id='integer-field'),
    pytest.param('{ name = "filename", type = "char[]", from = "args[0]", after_exec = { from = "auxv.AT_EXECFN" } }, '
                 f'{ARGV} }}',
                 f"{WHERE} field 'argv': reads user memory that a successful exec replaces (give it after_exec too, "
                 "as the event's other fields that read user memory)", id='another-user-field-without-it'),
    pytest.param('{ name = "filename", type = "char[]", from = "args[0]", after_exec = { from = "auxv.AT_EXECFN" } }, '
                 '{ name = "k", type = "stack", from = "kstack" }',
                 f"{WHERE}: key 'after_exec' applies only where a faulted entry is completed at the exit (a "
                 'syscalls/sys_enter_* event without ctx. or kstack sources or emit = false)',
                 id='event-not-completed-at-exit'),
])
def test_bad_after_exec_is_rejected(tmp_path, payload, error):
    toml = f'[syscalls.sys_enter_execve]\nid = 1030\npayload = [{payload}]\n'
    assert reject(tmp_path, toml) == [error]


def test_after_exec_outside_sys_enter_is_rejected(tmp_path):
    toml = ('[sched.sched_process_exec]\nid = 0\npayload = [{ name = "argv", type = "char[][]", '
            'from = "task.mm.arg_start", end = "task.mm.arg_end", after_exec = { from = "task.mm.arg_start", '
            'end = "task.mm.arg_end" } }]\n')
    assert reject(tmp_path, toml) == [
        "events.toml: [sched.sched_process_exec]: key 'after_exec' applies only where a faulted entry is "
        'completed at the exit (a syscalls/sys_enter_* event without ctx. or kstack sources or emit = false)']
