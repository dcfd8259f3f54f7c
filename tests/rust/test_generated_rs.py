"""The Rust crate on a schema with every special case of the Rust generator
(fixtures/edge_events.toml: a keyword as a field name, lossy integers, a bool, a pointer
array, an event without payload, a kprobe, no aggregation): it builds, its unit tests
hold its layouts and reflection table against the C ones of that schema's own build, and
its documentation builds without a warning."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EDGE = Path(__file__).resolve().parent / 'fixtures' / 'edge_events.toml'
HANG_TIMEOUT = 600


def test_crate_on_the_edge_schema(tmp_path):
    build = tmp_path / 'build'
    # a make of its own, not a part of the caller's jobserver
    env = {k: v for k, v in os.environ.items() if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL')}
    made = subprocess.run(['make', '-C', str(ROOT), f'-j{os.cpu_count()}', f'BUILD={build}', f'EVENTS={EDGE}',
                           f'PYTHON={sys.executable}', 'CARGO_TEST_ARGS=--lib', 'test-rust-crate', 'test-rust-docs'],
                          env=env, capture_output=True, text=True, timeout=HANG_TIMEOUT, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    assert 'test result: ok.' in made.stdout, made.stdout
    generated = (build / 'gen' / 'types.gen.rs').read_text()
    assert 'pub r#type: crate::VarField<\'a>,' in generated
    assert 'creat: if ev.header().lost_mask & 0x4 == 0 { Some(p.creat != 0) } else { None },' in generated
