"""typegen's layers: each module imports only its own layer and those below it, the
imports form no cycle, each module imports alone, and validation reads the TOML without
writing into it (what a table leaves out is set in the model)."""
import ast
import copy
import subprocess
import sys
import tomllib

import pytest

from typegen_support import EVENTS, FIXTURES, ROOT, TRACEFS, TYPEGEN, VMLINUX

sys.path.insert(0, str(TYPEGEN.parent))
import validate  # noqa: E402
from tracefs import Tracefs  # noqa: E402
from vmlinux_index import VmlinuxIndex  # noqa: E402

# Lowest first. A module may import those of its own layer and of the layers before it.
LAYERS = (
    ('inputs: C headers, vmlinux.h, tracefs', ('cstructs', 'vmlinux_index', 'tracefs')),
    ('kinds of probe', ('kinds',)),
    ('model', ('model',)),
    ('validation', ('validate_aggregate', 'validate')),
    ('generation', ('cgen', 'rsgen', 'json_schema')),
    ('commands', ('tracefs_import', 'typegen')),
)
LAYER = {module: i for i, (_, modules) in enumerate(LAYERS) for module in modules}
MODULES = sorted(p.stem for p in TYPEGEN.parent.glob('*.py'))


def imports(module):
    """The typegen modules `module` imports, anywhere in it (functions included)."""
    tree = ast.parse((TYPEGEN.parent / f'{module}.py').read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split('.')[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split('.')[0])
    return sorted(names & set(MODULES))


def test_every_module_has_a_layer():
    assert [m for m in MODULES if m not in LAYER] == []


@pytest.mark.parametrize('module', MODULES)
def test_imports_only_its_layer_and_below(module):
    above = [f'{m} ({LAYERS[LAYER[m]][0]})' for m in imports(module) if LAYER[m] > LAYER[module]]
    assert above == []


def test_no_import_cycle():
    graph = {m: imports(m) for m in MODULES}
    acyclic = set()  # modules from which no cycle is reached

    def cycle_from(m, path):
        if m in path:
            return path[path.index(m):] + [m]
        if m in acyclic:
            return None
        for n in graph[m]:
            found = cycle_from(n, path + [m])
            if found:
                return found
        acyclic.add(m)
        return None

    assert [c for c in [cycle_from(m, []) for m in MODULES] if c] == []


@pytest.mark.parametrize('module', MODULES)
def test_imports_alone(module):
    """First in a fresh interpreter: a cycle through a `from X import` fails there."""
    proc = subprocess.run([sys.executable, '-c', f'import sys; sys.path.insert(0, {str(TYPEGEN.parent)!r}); '
                           f'import {module}'], cwd=ROOT, capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stderr) == (0, '')


@pytest.mark.parametrize('schema', [EVENTS, FIXTURES / 'kinds.toml', ROOT / 'tests' / 'aggregate' / 'events.toml'],
                         ids=['events', 'kinds', 'aggregate'])
def test_validation_reads_the_toml_without_writing_into_it(schema):
    doc = tomllib.loads(schema.read_text())
    before = copy.deepcopy(doc)
    parsed = validate.check(str(schema), doc, VmlinuxIndex(str(VMLINUX)), Tracefs(str(TRACEFS)))
    assert doc == before
    # the defaults are in the model: every variable field has its max, a char*[] its max_items
    var = [f for ev in parsed.events for f in ev.var_fields]
    assert var and all(isinstance(f.max, int) for f in var)
    assert all(isinstance(f.max_items, int) for f in var if f.type == 'char*[]')
