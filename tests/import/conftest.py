"""Shared by the tests that build a tracer of their own: a copy of events.toml with
tables appended, built under a BUILD directory of its own (the tree's ./example and
./libbootstrap.a untouched), as a user who adds an event and runs make would."""
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
HANG_TIMEOUT = 300  # only a hang fails on this


def stat_or_none(path):
    return path.stat() if path.exists() else None


def build_tracer(tmp, tables):
    """events.toml plus `tables`, built under tmp/build; returns the ./example built."""
    events = tmp / 'events.toml'
    events.write_text((ROOT / 'events.toml').read_text() + tables)
    build = tmp / 'build'
    own = [stat_or_none(ROOT / name) for name in ('example', 'libbootstrap.a')]
    # a make of its own, not a part of the caller's jobserver
    env = {k: v for k, v in os.environ.items() if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL')}
    made = subprocess.run(['make', '-C', str(ROOT), f'-j{os.cpu_count()}', f'BUILD={build}', f'EVENTS={events}',
                           f'PYTHON={sys.executable}', 'all'], env=env, capture_output=True, text=True,
                          timeout=HANG_TIMEOUT, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    assert [stat_or_none(ROOT / name) for name in ('example', 'libbootstrap.a')] == own
    return build / 'example'
