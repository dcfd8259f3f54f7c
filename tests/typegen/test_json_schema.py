"""events.schema.json against real output: NDJSON lines made by the generated serializers
(fixtures/ndjson_lines.c, built with the library's JSON code and each schema's
json.gen.c) are accepted; lines with a wrong payload type, an unknown payload key, or
flags an event cannot have are rejected."""
import json
import subprocess

import jsonschema
import pytest

from typegen_support import CFLAGS, FIXTURES, compile_c


def validator(gen):
    schema = json.loads((gen / 'events.schema.json').read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def serialized_lines(gen, tmp_path):
    """Three lines per event of `gen`'s reflection table (see ndjson_lines.c)."""
    exe = tmp_path / 'ndjson_lines'
    compile_c(['cc', *CFLAGS, '-Iinclude', '-Ic', f'-I{gen}', str(FIXTURES / 'ndjson_lines.c'),
               'c/event_json.c', 'c/json_writer.c', 'c/stack_json.c', 'c/symbolize.c', 'c/symfile.c', 'c/minidebug.c',
               'c/vdso.c', 'c/unwind.c', 'c/open_safe.c', 'c/kallsyms.c', str(gen / 'kinds.gen.c'),
               str(gen / 'json.gen.c'),
               '-ldw', '-lelf', '-llzma', '-o', str(exe)])
    proc = subprocess.run([exe], capture_output=True, text=True, check=True)
    return proc.stdout.splitlines()


@pytest.fixture(scope='module')
def real_lines(real_gen, tmp_path_factory):
    return serialized_lines(real_gen, tmp_path_factory.mktemp('ndjson'))


@pytest.fixture(scope='module')
def real_validator(real_gen):
    return validator(real_gen)


@pytest.fixture
def openat_line(real_lines):
    """The first sys_enter_openat line (fields zero, filename present), parsed."""
    return json.loads(next(line for line in real_lines if '"event_id":1024,' in line))


def test_schema_accepts_every_serialized_line(gen, tmp_path):
    check = validator(gen)
    titles = [b['title'] for b in check.schema['oneOf'] if 'aggregate' not in b['properties']]
    lines = serialized_lines(gen, tmp_path)

    assert [json.loads(line)['event_type'] for line in lines] == [t for t in titles for _ in range(3)]
    for line in lines:
        errors = [e.message for e in check.iter_errors(json.loads(line))]
        assert errors == [], line


def test_serialized_write_line_is_the_documented_shape(real_lines):
    truncated = next(line for line in real_lines if '"event_id":1028,' in line and '"truncated"' in line)
    max64, max32 = 2**64 - 1, 2**32 - 1
    assert truncated == (
        f'{{"event_id":1028,"event_type":"syscalls/sys_enter_write","timestamp_ns":{max64},'
        f'"pid":{max32},"tid":{max32},"ppid":{max32},"upid":{max64},"uppid":{max64},"uid":{max32},'
        f'"cgroup_id":{max64},"comm":"ndjson_lines","payload":{{"fd":{max32},"count":{max64},'
        '"content":"a \\"quoted\\"\\tline\\n\ufffd\ufffd end"},"truncated":["content"],"reread":["content"]}')


def set_payload(key, value):
    def mutate(line):
        line['payload'][key] = value
    return mutate


def set_key(key, value):
    def mutate(line):
        line[key] = value
    return mutate


def drop_payload(key):
    def mutate(line):
        del line['payload'][key]
    return mutate


MUTATIONS = [
    pytest.param(set_payload('flags', '0'), id='string-for-integer'),
    pytest.param(set_payload('flags', 1.5), id='float-for-integer'),
    pytest.param(set_payload('flags', -1), id='negative-unsigned'),
    pytest.param(set_payload('dfd', 2**31), id='s32-out-of-range'),
    pytest.param(set_payload('filename', 3), id='integer-for-string'),
    pytest.param(set_payload('filename', ['a']), id='list-for-string'),
    pytest.param(set_payload('owner', 0), id='extra-payload-key'),
    pytest.param(drop_payload('mode'), id='missing-payload-key'),
    pytest.param(set_key('event_type', 'syscalls/sys_enter_read'), id='event-type-of-another-id'),
    pytest.param(set_key('truncated', ['flags']), id='integer-field-truncated'),
    pytest.param(set_key('lost', []), id='empty-lost-list'),
    pytest.param(set_key('extra', 1), id='extra-top-level-key'),
]


def test_unmodified_openat_line_is_accepted(real_validator, openat_line):
    assert real_validator.is_valid(openat_line)


@pytest.mark.parametrize('mutate', MUTATIONS)
def test_schema_rejects_modified_openat_line(real_validator, openat_line, mutate):
    mutate(openat_line)
    assert not real_validator.is_valid(openat_line)


def test_flags_are_rejected_on_an_event_without_variable_fields(real_validator, real_lines):
    line = json.loads(next(line for line in real_lines if '"event_id":1025,' in line))
    assert real_validator.is_valid(line)
    line['truncated'] = ['ret']
    assert not real_validator.is_valid(line)
