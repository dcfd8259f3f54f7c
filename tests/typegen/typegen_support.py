"""Paths and runners shared by the typegen tests: typegen itself, and the C compilers
that check its outputs for user space and for the BPF target."""
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TYPEGEN = ROOT / 'typegen' / 'typegen.py'
VMLINUX = ROOT / 'vendor' / 'vmlinux.h'
EVENTS = ROOT / 'events.toml'
FIXTURES = Path(__file__).resolve().parent / 'fixtures'
# A tracefs with format files as this kernel describes them (syscall argument counts, and
# the tracepoints that the import tests turn into tables).
TRACEFS = FIXTURES / 'tracefs'
GEN_FILES = ('events.gen.h', 'fill.gen.bpf.h', 'json.gen.c', 'attach.gen.c', 'types.gen.rs', 'events.schema.json')

CFLAGS = ['-std=gnu11', '-Wall', '-Wextra', '-Werror']
BPF_ARCH = {'x86_64': 'x86', 'aarch64': 'arm64'}.get(platform.machine(), platform.machine())
BPF_CFLAGS = ['-g', '-O2', '-target', 'bpf', '-mcpu=v3', f'-D__TARGET_ARCH_{BPF_ARCH}',
              '-Wall', '-Wextra', '-Werror', '-Wno-unused-function', '-Wno-unused-parameter']


def run_typegen(cwd, events='events.toml', outdir='out', *extra):
    """typegen.py EVENTS OUTDIR run from `cwd`, against the vendored vmlinux.h and the
    fixture tracefs (so results do not depend on the machine); returns the process."""
    cmd = [sys.executable, str(TYPEGEN), str(events), str(outdir),
           '--vmlinux', str(VMLINUX), '--tracefs', str(TRACEFS), *extra]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)


def generate(events, outdir):
    """Generates `events` into `outdir`, failing the test on any error."""
    proc = run_typegen(ROOT, events, outdir)
    assert (proc.returncode, proc.stderr) == (0, '')
    return outdir


def compile_c(args):
    """Runs a compiler from the repository root; asserts it succeeds without output."""
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, ''), ' '.join(map(str, args))


def compile_bpf(gendir, obj):
    """Compiles bpf/bootstrap.bpf.c for the BPF target against the outputs in `gendir`."""
    compile_c(['clang', *BPF_CFLAGS, '-Ivendor', f'-I{gendir}', '-Iinclude', '-Ibpf',
               '-c', 'bpf/bootstrap.bpf.c', '-o', str(obj)])
