"""Shared by the aggregation tests (root): a tracer built on the side from
tests/aggregate/events.toml (in pytest's temporary directory, the tree's own untouched),
the tree's ./example (whose events.toml ships net/packets), the aggwork fixture, network
namespaces of the tests' own, and reading NDJSON output."""
import json
import pathlib
import subprocess
import time
import uuid

import jsonschema
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = ROOT / 'tests' / 'aggregate' / 'events.toml'
AGGWORK = ROOT / 'build' / 'tests' / 'fixtures' / 'aggwork'
EXAMPLE = ROOT / 'example'
HANG_TIMEOUT = 300  # only a hang fails on this


@pytest.fixture(scope='session')
def agg_build(tmp_path_factory):
    """BUILD directory of the test schema's tracer: its example, gen/events.schema.json."""
    build = tmp_path_factory.mktemp('aggbuild')
    subprocess.run(['make', '-s', '-j2', f'BUILD={build}', f'EVENTS={SCHEMA}'], cwd=ROOT, check=True,
                   timeout=HANG_TIMEOUT)
    return build


def validator(gen_dir):
    schema = json.loads((gen_dir / 'events.schema.json').read_text())
    return jsonschema.Draft202012Validator(schema)


def read_lines(path, check=None):
    """Every line of an NDJSON file, parsed; each one valid against `check` if given."""
    lines = [json.loads(line) for line in pathlib.Path(path).read_text().splitlines()]
    for line in lines:
        if check is not None:
            errors = [e.message for e in check.iter_errors(line)]
            assert errors == [], line
    return lines


def aggregate_rows(lines, name):
    """The rows of aggregation `name` in the last snapshot (the one printed at exit)."""
    rows = [line for line in lines if line.get('aggregate') == name]
    if not rows:
        return []
    last = rows[-1]['timestamp_ns']
    return [r for r in rows if r['timestamp_ns'] == last]


def stats_rows(stderr):
    """--stats as {event_type: {counter: value}} (plus 'total')."""
    lines = stderr.splitlines()
    head = next(i for i, line in enumerate(lines) if line.strip().startswith('event '))
    names = lines[head].split()[1:]
    out = {}
    for line in lines[head + 1:]:
        parts = line.split()
        if len(parts) != len(names) + 1:
            break
        out[parts[0]] = dict(zip(names, map(int, parts[1:])))
    return out


class Netns:
    """A network namespace of the test's own, its loopback up: traffic stays inside."""

    def __init__(self):
        self.name = f'bs-agg-{uuid.uuid4().hex[:8]}'
        subprocess.run(['ip', 'netns', 'add', self.name], check=True)
        self.run('ip', 'link', 'set', 'lo', 'up')

    def cmd(self, *argv):
        return ['ip', 'netns', 'exec', self.name, *map(str, argv)]

    def run(self, *argv, **kw):
        kw.setdefault('check', True)
        kw.setdefault('timeout', HANG_TIMEOUT)
        return subprocess.run(self.cmd(*argv), capture_output=True, text=True, **kw)

    def xdp_attached(self):
        return 'xdp' in self.run('ip', 'link', 'show', 'lo').stdout

    def wait_xdp(self, attached, proc=None):
        deadline = time.monotonic() + 60
        while self.xdp_attached() != attached:
            assert proc is None or proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f'xdp never {"attached" if attached else "detached"}'
            time.sleep(0.05)

    def delete(self):
        subprocess.run(['ip', 'netns', 'del', self.name], check=False)


@pytest.fixture
def netns():
    ns = Netns()
    yield ns
    ns.delete()
