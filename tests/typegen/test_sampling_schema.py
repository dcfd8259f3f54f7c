"""The perf_event kind and the stack type in events.toml: what builds (a sampling event,
stacks at tracepoints and probes, the handler that skips the idle task) and what is
rejected, one line per error."""
import textwrap

import pytest

from typegen_support import generate, run_typegen

PROFILE = '''
[profile.cpu]
id = 9
kind = "perf_event"
frequency = {frequency}
payload = [
  {{ name = "kstack", type = "stack", from = "kstack" }},
  {{ name = "ustack", type = "stack", from = "ustack", max = 64 }},
]
'''


def errors(tmp_path, toml):
    (tmp_path / 'events.toml').write_text(textwrap.dedent(toml))
    proc = run_typegen(tmp_path, 'events.toml', 'out')
    assert proc.returncode == 1 and not (tmp_path / 'out').exists()
    return proc.stderr.splitlines()


def test_sampling_event_generates_a_perf_event_handler(tmp_path):
    (tmp_path / 'events.toml').write_text(PROFILE.format(frequency=99) + '''
[syscalls.sys_enter_getppid]
id = 10
payload = [ { name = "ustack", type = "stack", from = "ustack", when = "1" } ]
''')
    gen = generate(tmp_path / 'events.toml', tmp_path / 'out')
    fill = (gen / 'fill.gen.bpf.h').read_text()
    assert 'SEC("perf_event")\nint perf_event__profile__cpu(struct bpf_perf_event_data *ctx)\n' in fill
    assert '\tif (!bpf_get_current_pid_tgid())\n\t\treturn 0;\n' in fill
    assert '\tbs_var_stack(e, &p->kstack, 0, ctx, 1016, 0);\n' in fill
    assert '\tbs_var_stack(e, &p->ustack, 1, ctx, 512, BPF_F_USER_STACK);\n' in fill
    # A tracepoint's stack, taken where the tracepoint fires.
    assert '\t\tbs_var_stack(e, &p->ustack, 0, ctx, 1016, BPF_F_USER_STACK);\n' in fill
    json_c = (gen / 'json.gen.c').read_text()
    assert '"cpu-clock@99Hz"' in json_c and 'BOOTSTRAP_KIND_PERF_EVENT' in json_c
    assert '{ "kstack", BOOTSTRAP_T_STACK, "stack", 0, 0, true, 1016 },' in json_c
    assert '{ "ustack", BOOTSTRAP_T_STACK, "stack", 8, 1, false, 512 },' in json_c
    assert '\tbs_json_stack(w, ev, &ev->vars[1], false);\n' in json_c


@pytest.mark.parametrize('frequency, problem', [('0', '0 is out of range'), ('"49Hz"', "'49Hz' is not an integer"),
                                                ('100001', '100001 is out of range')])
def test_bad_frequency(tmp_path, frequency, problem):
    assert errors(tmp_path, PROFILE.format(frequency=frequency)) == [
        f'events.toml: [profile.cpu]: frequency {problem} (samples per second per CPU, 1..100000)']


def test_missing_frequency(tmp_path):
    assert errors(tmp_path, '[profile.cpu]\nid = 9\nkind = "perf_event"\n') == [
        "events.toml: [profile.cpu]: kind perf_event needs 'frequency' (samples per second per CPU, 1..100000; "
        "or runtime = true to name targets at run time)"]


def test_stack_misuse_is_reported_together(tmp_path):
    assert errors(tmp_path, '''
[profile.cpu]
id = 9
kind = "perf_event"
frequency = 49
payload = [
  { name = "a", type = "stack", from = "task.pid" },
  { name = "b", type = "u64",   from = "kstack" },
  { name = "c", type = "stack", from = "ustack", max = 4097 },
  { name = "d", type = "stack", from = "kstack", mem = "user" },
  { name = "e", type = "u32",   from = "args[0]" },
]
''') == [
        "events.toml: [profile.cpu] field 'a': type stack takes from = \"kstack\" or \"ustack\", not 'task.pid' "
        "(kstack: the kernel stack, ustack: the user stack)",
        "events.toml: [profile.cpu] field 'b': source kstack is a stack (use type = \"stack\")",
        "events.toml: [profile.cpu] field 'c': max 4097 frames is out of range "
        "(1..4096 frames (8 bytes each within the arena field cap))",
        "events.toml: [profile.cpu] field 'd': key 'mem' is not for stacks "
        "(a stack takes max (frames), when, and for ustack unwind and copy)",
        "events.toml: [profile.cpu] field 'e': source args[N] does not exist for kind perf_event "
        "(allowed here: task.A.B, auxv.AT_NAME, target, kstack, ustack)",
    ]


def test_dwarf_stack_copies_registers_and_stack(tmp_path):
    (tmp_path / 'events.toml').write_text('''
[profile.cpu]
id = 9
kind = "perf_event"
frequency = 49
payload = [
  { name = "kstack", type = "stack", from = "kstack" },
  { name = "ustack", type = "stack", from = "ustack", unwind = "dwarf", copy = 8192, max = 64 },
]
[syscalls.sys_enter_getppid]
id = 10
payload = [ { name = "ustack", type = "stack", from = "ustack", unwind = "dwarf" } ]
''')
    gen = generate(tmp_path / 'events.toml', tmp_path / 'out')
    fill = (gen / 'fill.gen.bpf.h').read_text()
    # The saved registers (24 bytes) and the stack copied: `copy` bytes, 16 KiB by default.
    assert '\tbs_var_ustack_copy(e, &p->ustack, 1, 8192);\n' in fill
    assert '\tbs_var_ustack_copy(e, &p->ustack, 0, 16384);\n' in fill
    json_c = (gen / 'json.gen.c').read_text()
    assert '{ "ustack", BOOTSTRAP_T_STACK, "stack", 8, 1, false, 8216 },' in json_c
    # Which field user space unwinds, and to how many frames (127 by default).
    assert ('const struct bs_unwind_field bs_unwind_fields[BOOTSTRAP_N_EVENTS] = {\n'
            '\t{ 1, 64 },\n\t{ 0, 127 },\n};') in json_c


def test_unwind_misuse_is_reported_together(tmp_path):
    assert errors(tmp_path, '''
[profile.cpu]
id = 9
kind = "perf_event"
frequency = 49
payload = [
  { name = "a", type = "stack", from = "kstack", unwind = "dwarf" },
  { name = "b", type = "stack", from = "ustack", unwind = "orc" },
  { name = "c", type = "stack", from = "ustack", copy = 4096 },
  { name = "d", type = "stack", from = "ustack", unwind = "dwarf", copy = 1000 },
  { name = "e", type = "stack", from = "ustack", unwind = "dwarf", copy = 32768 },
  { name = "f", type = "u64", from = "task.pid", unwind = "dwarf" },
]
''') == [
        "events.toml: [profile.cpu] field 'a': unwind = \"dwarf\" walks user stacks only "
        "(from = \"ustack\"; a kernel stack is walked by the kernel (unwind = \"fp\"))",
        "events.toml: [profile.cpu] field 'b': unwind 'orc' is not a way to walk a stack "
        "(unwind = \"fp\" (frame pointers) or \"dwarf\" (unwind tables, user stacks))",
        "events.toml: [profile.cpu] field 'c': key 'copy' applies only with unwind = \"dwarf\" "
        "(the bytes of user stack copied per event for unwinding)",
        "events.toml: [profile.cpu] field 'd': copy 1000 bytes is out of range "
        "(a multiple of 512 in 512..32256 (the arena field cap less the saved registers))",
        "events.toml: [profile.cpu] field 'e': copy 32768 bytes is out of range "
        "(a multiple of 512 in 512..32256 (the arena field cap less the saved registers))",
        "events.toml: [profile.cpu] field 'f': key 'unwind' is only for stack fields "
        "(type = \"stack\", from = \"ustack\")",
        "events.toml: [profile.cpu] field 'e': a second stack with unwind = \"dwarf\" "
        "(one per event: it is the user stack)",
    ]
