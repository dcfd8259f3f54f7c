"""Session fixtures: typegen outputs of the repository's events.toml, of events.toml
with one syscall tracepoint added (fixtures/added_event.toml), and of one event per kind
of probe (fixtures/kinds.toml), each generated once."""
import pytest

from typegen_support import EVENTS, FIXTURES, generate


@pytest.fixture(scope='session')
def real_gen(tmp_path_factory):
    return generate(EVENTS, tmp_path_factory.mktemp('real'))


@pytest.fixture(scope='session')
def added_schema(tmp_path_factory):
    path = tmp_path_factory.mktemp('added') / 'events.toml'
    path.write_text(EVENTS.read_text() + '\n' + (FIXTURES / 'added_event.toml').read_text())
    return path


@pytest.fixture(scope='session')
def added_gen(added_schema):
    return generate(added_schema, added_schema.parent / 'out')


@pytest.fixture(scope='session')
def kinds_gen(tmp_path_factory):
    return generate(FIXTURES / 'kinds.toml', tmp_path_factory.mktemp('kinds'))


@pytest.fixture(params=['real', 'added', 'kinds'])
def gen(request):
    """Each output directory: tests taking it run for every schema."""
    return request.getfixturevalue(request.param + '_gen')
