"""Adding a uretprobe on a function of some program to events.toml and running make is
all it takes (root): tables on the probe_target fixture's functions are appended to a
copy of events.toml and built on the side; the ./example built traces the fixture with
the returned string and the arguments exact, --binary moves the tables to a copy of the
fixture elsewhere, and a table whose function the binary lacks is skipped with one
warning (check says why). A sys_exit table reading its entry sees its own syscall's.

The expected values mirror main() of tests/fixtures/probe_target.c."""
import json
import re
import shutil
import subprocess

import pytest

from conftest import HANG_TIMEOUT, ROOT, build_tracer

FIXTURE = ROOT / 'build' / 'tests' / 'fixtures' / 'probe_target'
FIXTURE_STDOUT = b'42\n993\n5000100000\nhello, world!\nhello, tracer!\n'

TABLES = '''
[fixture.greet]
id = 9000
comment = "greet() returned its greeting"
kind = "uretprobe"
binary = "{binary}"
function = "greet"
payload = [
  {{ name = "greeting", type = "char[]", from = "ret",           max = 64 }},
  {{ name = "name",     type = "char[]", from = "entry.args[0]", max = 64 }},
]

[fixture.add_numbers]
id = 9001
comment = "add_numbers() returned: typed arguments, unlike probe/uretprobe's raw ones"
kind = "uretprobe"
binary = "{binary}"
function = "add_numbers"
payload = [
  {{ name = "a",   type = "s32", from = "entry.args[0]" }},
  {{ name = "b",   type = "s64", from = "entry.args[1]" }},
  {{ name = "sum", type = "s64", from = "ret" }},
]

[syscalls.sys_exit_prctl]
id = 9003
comment = "prctl returned: its option as the entry saw it"
payload = [
  {{ name = "ret",        type = "s64", from = "ret" }},
  {{ name = "option",     type = "s32", from = "entry.args[0]" }},
  {{ name = "elapsed_ns", type = "u64", from = "elapsed_ns" }},
]

[fixture.missing]
id = 9002
comment = "A function the fixture does not have"
kind = "uprobe"
binary = "{binary}"
function = "no_such_function"
payload = [
  {{ name = "x", type = "u64", from = "args[0]" }},
]
'''
GREETS = [('hello, world!', 'world'), ('hello, tracer!', 'tracer')]
ADDS = [(2, 40, 42), (-7, 1000, 993), (100000, 5000000000, 5000100000)]


def missing_warning(binary):
    return (f'example: fixture/missing (uprobe {binary}:no_such_function): {binary} has no function symbol '
            f'no_such_function; skipped')


@pytest.fixture(scope='module')
def example(tmp_path_factory):
    assert FIXTURE.is_file(), 'make builds the fixture first'
    return build_tracer(tmp_path_factory.mktemp('uprobe'), TABLES.format(binary=FIXTURE))


def trace(example, tmp_path, *args):
    """(the run, its events as (type, payload)) of ./example -e 'fixture/*' ARGS."""
    out = tmp_path / 'trace.ndjson'
    run = subprocess.run([str(example), '-e', 'fixture/*', '-o', str(out), *map(str, args)],
                         capture_output=True, timeout=HANG_TIMEOUT, check=False)
    events = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return run, [(e['event_type'], e['payload']) for e in events]


def test_declared_uretprobe_reads_the_returned_string_and_the_argument(example, tmp_path):
    run, events = trace(example, tmp_path, '--', FIXTURE)
    assert (run.returncode, run.stdout) == (0, FIXTURE_STDOUT)
    assert run.stderr.decode().splitlines() == [missing_warning(FIXTURE)]
    assert [(p['greeting'], p['name']) for t, p in events if t == 'fixture/greet'] == GREETS
    assert [(p['a'], p['b'], p['sum']) for t, p in events if t == 'fixture/add_numbers'] == ADDS
    assert {t for t, _ in events} == {'fixture/greet', 'fixture/add_numbers'}


def test_strict_fails_on_the_missing_function(example, tmp_path):
    run, events = trace(example, tmp_path, '--strict', '--', FIXTURE)
    assert (run.returncode, run.stdout, events) == (1, b'', [])
    assert run.stderr.decode().splitlines() == [missing_warning(FIXTURE).replace('; skipped', '; failing (strict)')]


def test_binary_moves_the_declared_tables(example, tmp_path):
    copy = tmp_path / 'elsewhere' / 'probe_target_copy'
    copy.parent.mkdir()
    shutil.copy(FIXTURE, copy)
    run, events = trace(example, tmp_path, '--binary', copy, '--', copy)
    assert (run.returncode, run.stdout) == (0, FIXTURE_STDOUT)
    assert run.stderr.decode().splitlines() == [missing_warning(copy)]
    assert [(p['greeting'], p['name']) for t, p in events if t == 'fixture/greet'] == GREETS
    # The declared binary itself is no longer probed.
    run, events = trace(example, tmp_path, '--binary', copy, '--', FIXTURE)
    assert (run.returncode, run.stdout, events) == (0, FIXTURE_STDOUT, [])


def test_check_lists_the_declared_targets(example):
    run = subprocess.run([str(example), 'check'], capture_output=True, text=True, timeout=HANG_TIMEOUT, check=False)
    assert run.returncode == 0
    fixture = re.escape(str(FIXTURE))
    for name in ('greet', 'add_numbers'):
        assert re.search(rf'^  \u2713 fixture/{name} \(uretprobe {fixture}:{name}, id \d+\)$', run.stdout, re.M)
    assert re.search(rf'^  \u2717 fixture/missing \(uprobe {fixture}:no_such_function, id 9002\): '
                     rf'{fixture} has no function symbol no_such_function$', run.stdout, re.M)


PR_SET_NAME = 15


@pytest.mark.parametrize('comm, exits', [
    (None, [(0, PR_SET_NAME, True), (0, PR_SET_NAME, True)]),
    # The first prctl's exit is filtered out (it renamed the task), the second's entry
    # too: the first's entry must not stand in for the second's.
    ('probe_target', [(0, None, False)]),
], ids=['every-exit', 'exit-whose-entry-was-filtered-out'])
def test_sys_exit_reads_its_own_entry(example, tmp_path, comm, exits):
    """probe_target rename: two prctl(PR_SET_NAME) calls, renaming the task away from its
    comm and back, as nobody (setpriv's own prctl calls come before, as setpriv)."""
    out = tmp_path / 'trace.ndjson'
    run = subprocess.run([str(example), '--stats', '-e', 'syscalls/sys_exit_prctl', *(['-c', comm] if comm else []),
                          '-o', str(out), '--', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
                          FIXTURE, 'rename'], capture_output=True, timeout=HANG_TIMEOUT, check=False)
    assert (run.returncode, run.stdout) == (0, b'1\n2\n')
    events = [e for e in map(json.loads, out.read_text().splitlines()) if e['comm'] in ('probe_target', 'renamed')]
    assert [(e['payload']['ret'], e['payload']['option'], bool(e['payload']['elapsed_ns'])) for e in events] == exits
    assert [e.get('lost') for e in events] == [None if entry else ['option', 'elapsed_ns'] for _, _, entry in exits]
    stats = [line.split() for line in run.stderr.decode().splitlines()]
    head = next(row for row in stats if row[:1] == ['event'])
    row = next(row for row in stats if row[:1] == ['syscalls/sys_exit_prctl'])
    assert int(row[head.index('entry_missed')]) == sum(1 for _, _, entry in exits if not entry)
