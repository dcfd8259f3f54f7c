"""Aggregations in events.toml: bad ones fail the build with the event and the
aggregation named (one line each, every error at once); good ones generate a key struct,
a per-CPU hash and its update, a reflection entry and a JSON Schema branch; xdp events
read the packet and nothing of a task."""
import json
import textwrap

import pytest

from typegen_support import ROOT, compile_bpf, generate, run_typegen

WRITE = '''
[syscalls.sys_enter_write]
id = 1028
payload = [
  { name = "fd",      type = "u32",    from = "args[0]" },
  { name = "count",   type = "u64",    from = "args[2]" },
  { name = "content", type = "char[]", from = "args[1]", len = "count" },
  { name = "big",     type = "bool",   from = "args[2]" },
]
'''
PACKETS = '''
[net.packets]
id = 4096
kind = "xdp"
interface = "lo"
'''
KEYABLE = 'fd, count, big, pid, tid, uid, comm, cgroup_id, cpu'
NUMERIC = 'integer fields: fd, count'


def reject(tmp_path, toml):
    (tmp_path / 'events.toml').write_text(textwrap.dedent(toml))
    proc = run_typegen(tmp_path)
    assert proc.returncode == 1 and not (tmp_path / 'out').exists()
    return [line.removeprefix('events.toml: ') for line in proc.stderr.splitlines()]


CASES = [
    pytest.param(WRITE + 'aggregate = [{ name = "a", by = ["comm", "nope"] }]',
                 f"[syscalls.sys_enter_write] aggregate 'a': by names 'nope', which is neither a payload "
                 f"field nor a header value (allowed: {KEYABLE})", id='unknown-by'),
    pytest.param(WRITE + 'aggregate = [{ name = "a", by = ["content"] }]',
                 "[syscalls.sys_enter_write] aggregate 'a': by 'content' is a variable field (char[]): "
                 f"keys are fixed-size (fixed fields and header values: {KEYABLE})", id='variable-by'),
    pytest.param(WRITE + 'aggregate = [{ name = "a", by = ["fd"], sum = ["content"] }]',
                 f"[syscalls.sys_enter_write] aggregate 'a': sum 'content' is not an integer field (char[]) ({NUMERIC})",
                 id='non-integer-sum'),
    pytest.param(WRITE + 'aggregate = [{ name = "a", by = ["fd"], sum = ["big"] }]',
                 f"[syscalls.sys_enter_write] aggregate 'a': sum 'big' is not an integer field (bool) ({NUMERIC})",
                 id='bool-sum'),
    pytest.param(WRITE + 'aggregate = [{ name = "a", by = ["fd"], sum = ["size"] }]',
                 f"[syscalls.sys_enter_write] aggregate 'a': sum names 'size', which is not a payload field ({NUMERIC})",
                 id='unknown-sum'),
    pytest.param(WRITE + 'aggregate = [{ name = "a", by = ["fd"], hist = "content" }]',
                 f"[syscalls.sys_enter_write] aggregate 'a': hist 'content' is not an integer field (char[]) ({NUMERIC})",
                 id='non-integer-hist'),
    pytest.param(WRITE + 'aggregate = [{ name = "a", by = ["fd"], hist = ["count"] }]',
                 "[syscalls.sys_enter_write] aggregate 'a': hist ['count'] is not one field name (hist = \"field\")",
                 id='hist-list'),
    pytest.param(WRITE + 'aggregate = [{ name = "a", by = ["fd", "fd"] }]',
                 "[syscalls.sys_enter_write] aggregate 'a': by names 'fd' twice", id='by-twice'),
    pytest.param(WRITE + 'aggregate = [{ name = "a", by = "comm" }]',
                 "[syscalls.sys_enter_write] aggregate 'a': by is not a list of names (by = [\"name\", ...])",
                 id='by-not-list'),
    pytest.param(WRITE + 'aggregate = [{ name = "a", by = ["fd"] }, { name = "a", by = ["comm"] }]',
                 "[syscalls.sys_enter_write] aggregate 'a': duplicate aggregation name "
                 "(names are unique within an event)", id='duplicate-name'),
    pytest.param(WRITE + 'aggregate = [{ name = "a", by = ["fd"], count = true }]',
                 "[syscalls.sys_enter_write] aggregate 'a': unknown key 'count' (allowed: name, by, sum, hist)",
                 id='unknown-key'),
    pytest.param(WRITE + 'aggregate = [{ name = "2a", by = ["fd"] }]',
                 "[syscalls.sys_enter_write] aggregate '2a': name '2a' is not an identifier "
                 "(letters, digits, _; not starting with a digit)", id='bad-name'),
    pytest.param(WRITE + 'aggregate = { name = "a" }',
                 "[syscalls.sys_enter_write]: aggregate is not a list of tables "
                 "({ name = \"...\", by = [...], sum = [...], hist = \"...\" })", id='not-a-list'),
    pytest.param(WRITE + 'emit = false',
                 "[syscalls.sys_enter_write]: emit = false without an aggregate: the event would count nothing "
                 "(declare aggregate = [ { name = \"...\", by = [...] } ], or drop emit)", id='emit-off-nothing'),
    pytest.param(WRITE + 'emit = "no"\naggregate = [{ name = "a", by = ["fd"] }]',
                 "[syscalls.sys_enter_write]: emit 'no' is not true or false "
                 "(emit = false: counted by its aggregations only, nothing sent)", id='emit-not-bool'),
    pytest.param(PACKETS + 'payload = [{ name = "len", type = "u32", from = "pkt.len" }]\n'
                 'aggregate = [{ name = "a", by = ["comm"] }]',
                 "[net.packets] aggregate 'a': by 'comm': a xdp event has no current task (allowed: len, cpu)",
                 id='xdp-task-key'),
    pytest.param(PACKETS + 'payload = [{ name = "who", type = "u32", from = "task.pid" }]',
                 "[net.packets] field 'who': source task.A.B does not exist for kind xdp (allowed here: pkt.FIELD)",
                 id='xdp-task-source'),
    pytest.param(PACKETS + 'payload = [{ name = "p", type = "u32", from = "pkt.port" }]',
                 "[net.packets] field 'p': 'pkt.port': the packet has no field port (pkt.len, pkt.ifindex, "
                 "pkt.l3_proto, pkt.l4_proto, pkt.proto, pkt.saddr, pkt.daddr, pkt.sport, pkt.dport)",
                 id='xdp-unknown-pkt'),
    pytest.param(PACKETS + 'payload = [{ name = "src", type = "u32", from = "pkt.saddr" }]',
                 "[net.packets] field 'src': pkt.saddr is an address (type = \"ip\")", id='xdp-address-as-int'),
    pytest.param(PACKETS + 'payload = [{ name = "s", type = "char[]", from = "pkt.len" }]',
                 "[net.packets]: kind xdp takes no variable fields (integer and ip fields only: its handler "
                 "may interrupt another's arena write)", id='xdp-variable-field'),
    pytest.param(WRITE.replace('"args[0]" }', '"pkt.len" }', 1),
                 "[syscalls.sys_enter_write] field 'fd': source pkt.FIELD does not exist for tracepoint syscalls/sys_enter_write "
                 "(allowed here: args[N], ctx.FIELD, task.A.B, auxv.AT_NAME, target, kstack, ustack)", id='pkt-outside-xdp'),
]


@pytest.mark.parametrize('toml, message', CASES)
def test_bad_aggregation_is_reported(tmp_path, toml, message):
    assert message in reject(tmp_path, toml)


def test_every_aggregation_error_at_once(tmp_path):
    errors = reject(tmp_path, WRITE + 'aggregate = [{ name = "a", by = ["nope"] }, { name = "b", sum = ["fd", "x"] }]')
    assert [e.split(':')[0] for e in errors] == ["[syscalls.sys_enter_write] aggregate 'a'",
                                                "[syscalls.sys_enter_write] aggregate 'b'"]


@pytest.fixture(scope='module')
def agg_gen(tmp_path_factory):
    return generate(ROOT / 'tests' / 'aggregate' / 'events.toml', tmp_path_factory.mktemp('agg'))


def test_aggregation_key_struct_map_and_update(agg_gen):
    header = (agg_gen / 'events.gen.h').read_text()
    assert ('struct bootstrap_aggkey_syscalls_sys_enter_write__bytes_by_comm {\n'
            '\tchar comm[BOOTSTRAP_COMM_LEN];\n};\n') in header
    bpf = (agg_gen / 'aggregate.gen.bpf.h').read_text()
    assert '\t__type(value, __u64[68]);\n' in bpf  # count, one sum, 66 buckets
    assert '\t\tbpf_get_current_comm(k.comm, sizeof(k.comm));\n' in bpf
    assert '\t\t\tbs_count(&v[1], (__u64)p->count);\n' in bpf
    assert '__u32 b = bs_hist_bucket((__u64)p->ret, true);' in bpf


def test_aggregate_only_event_fills_only_what_it_counts_and_reserves_nothing(agg_gen):
    fill = (agg_gen / 'fill.gen.bpf.h').read_text()
    handler = fill.split('int tracepoint__syscalls__sys_enter_openat(')[1].split('\n}\n')[0]
    assert 'bs_begin_quiet(&e, &h, BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT, true)' in handler
    assert 'bs_begin(' not in handler and 'bs_commit' not in handler
    fill_fn = fill.split('bs_fill__syscalls_sys_enter_openat(')[1].split('\n}\n')[0]
    assert 'p->flags = ' in fill_fn and 'filename' not in fill_fn and 'dfd' not in fill_fn
    # Nothing to redo at the exit: no companion program.
    assert 'tracepoint__syscalls__sys_enter_openat__retry' not in fill


def test_aggregations_compile_for_bpf(agg_gen, tmp_path):
    compile_bpf(agg_gen, tmp_path / 'agg.bpf.o')


def test_aggregation_reflection_and_schema_branch(agg_gen):
    source = (agg_gen / 'aggregate.gen.c').read_text()
    assert '\t{ "comm", BOOTSTRAP_T_BYTES, 0, 16, NULL, 0 },\n\t{ "cpu", BOOTSTRAP_T_U32, 16, 4, NULL, 0 },\n' in source
    branches = json.loads((agg_gen / 'events.schema.json').read_text())['oneOf']
    (branch,) = [b for b in branches if b['title'] == 'aggregate bytes_by_comm of syscalls/sys_enter_write']
    assert branch['required'] == ['aggregate', 'event_type', 'timestamp_ns', 'key', 'count', 'sum', 'hist']
    assert branch['properties']['key']['properties'] == {'comm': {'type': 'string', 'maxLength': 15}}


def test_shipped_packet_event_has_no_task_keys_and_names_its_protocols(real_gen):
    branches = json.loads((real_gen / 'events.schema.json').read_text())['oneOf']
    (event,) = [b for b in branches if b['title'] == 'net/packets']
    assert event['required'] == ['event_id', 'event_type', 'timestamp_ns', 'payload']
    (agg,) = [b for b in branches if b['title'] == 'aggregate packets_by_proto of net/packets']
    assert agg['properties']['key']['properties']['proto']['anyOf'][0] == {'enum': ['other', 'tcp', 'udp', 'icmp']}
    fill = (real_gen / 'fill.gen.bpf.h').read_text()
    handler = fill.split('int xdp__net__packets(struct xdp_md *ctx)')[1].split('\n}\n')[0]
    assert 'bs_begin_quiet(&e, &h, BOOTSTRAP_EV_NET_PACKETS, false)' in handler
    assert handler.count('return XDP_PASS;') == 2
