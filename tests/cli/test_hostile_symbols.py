"""Files other users control, opened by the tracer as root.

The symbolizer: an unprivileged user (nobody) runs a stripped program without a
build-id whose .gnu_debuglink names a FIFO beside it, or a relative path to /dev/zero.
A symbolizer that followed the debuglink would block in open() on the FIFO (SIGINT
blocked, only SIGKILL ends it) or read /dev/zero forever. The tracer must end on its
own, with that process's samples named from the program's own .dynsym.

The same program with MiniDebugInfo that decompresses to 1 GiB of zeros (an xz bomb of
150 KiB): the symbolizer gives the stream up at its cap, counts it, and names the
samples from .dynsym, its memory far from what the stream would take.

The uprobe target resolver: a library found by name in a directory of nobody's, who
holds a write lease on it. A blocking open() waits until the kernel breaks the lease
(fs.lease-break-time, 45 s by default); the resolver's open does not wait, and skips it.
"""
import os
import pathlib
import pwd
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import pytest

from conftest import EXAMPLE, PROBE_TARGET, ROOT, read_ndjson, run_example

# The resolver looks a library up by name and checks its function: any ELF file with
# that function will do (probe_target defines add_numbers).
LEASED = "libbs_leased.so"
LEASE_HOLDER = """
import fcntl, os, signal, sys
signal.signal(signal.SIGIO, signal.SIG_IGN)  # the lease break's notice: not killed, not giving in
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
print("leased", flush=True)
sys.stdin.read()
"""

COMM = "bs-symvictim"  # the attacker's program: its comm, unique on the machine
BURN_SOURCE = ROOT / "tests" / "fixtures" / "burn.c"
# Enough '..' to reach / from any directory the test may run in.
DEV_ZERO = "../" * 32 + "dev/zero"


# The VM image (tests/vm) has no compiler, binutils or runuser; the symbolizer and the
# resolver are user-space code that the host run covers. The set-up line installs all.
pytestmark = pytest.mark.skipif(not all(map(shutil.which, ("cc", "strip", "objcopy", "runuser"))),
                                reason="needs cc, strip, objcopy and runuser (not in the VM image)")


def run_as_nobody(*args, **kwargs):
    return subprocess.run(["runuser", "-u", "nobody", "--", *map(str, args)], check=True, **kwargs)


def debuglink_section(name):
    """The contents of a .gnu_debuglink section naming `name`, with a CRC to check (a
    symbolizer that follows the link reads the whole file it names to compare it)."""
    raw = name.encode() + b"\0"
    raw += b"\0" * (-len(raw) % 4)
    return raw + struct.pack("<I", zlib.crc32(name.encode()))


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    """burn.c without a build-id, its functions exported to .dynsym, stripped."""
    work = tmp_path_factory.mktemp("hostile-symbols")
    built = work / COMM
    subprocess.run(["cc", "-O2", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls", "-rdynamic",
                    "-Wl,--build-id=none", BURN_SOURCE, "-o", built], check=True)
    subprocess.run(["strip", "--strip-all", built], check=True)
    return built


@pytest.fixture
def attacker_dir():
    """A directory of nobody's own, outside the test's (root-only) temporary tree."""
    top = pathlib.Path(tempfile.mkdtemp(prefix="bs-hostile-sym-"))
    nobody = pwd.getpwnam("nobody")
    os.chown(top, nobody.pw_uid, nobody.pw_gid)
    yield top
    shutil.rmtree(top)


def plant(program, directory, section_name, contents, work):
    """nobody's copy of the program, with a section section_name holding contents."""
    section = work / "section"
    section.write_bytes(contents)
    linked = work / (COMM + ".linked")
    subprocess.run(["objcopy", "--add-section", f"{section_name}={section}", program, linked], check=True)
    target = directory / COMM
    with open(linked, "rb") as data:  # nobody cannot read the test's own directory
        run_as_nobody("sh", "-c", 'cat > "$1" && chmod 755 "$1"', "sh", target, stdin=data)
    return target


def start_burning(binary):
    """The attacker's program, burning CPU as nobody until killed, once it runs."""
    proc = subprocess.Popen(["runuser", "-u", "nobody", "--", str(binary), "user", "3600"],
                            stdout=subprocess.DEVNULL)
    # runuser forks the program: wait for a process of that comm, running that file.
    for _ in range(1000):
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and comm_of(p) == COMM]
        if pids:
            return proc, pids[0]
        time.sleep(0.01)
    proc.kill()
    raise AssertionError("the attacker's program did not start")


def comm_of(pid):
    try:
        return pathlib.Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def stop_burning(proc, pid):
    os.kill(pid, 9)
    proc.wait()


@pytest.mark.parametrize("link", ["fifo", "dev_zero"])
@pytest.mark.parametrize("folded", [False, True], ids=["ndjson", "folded"])
def test_debuglink_is_never_followed(program, attacker_dir, tmp_path, link, folded):
    if link == "fifo":
        binary = plant(program, attacker_dir, ".gnu_debuglink", debuglink_section(COMM + ".debug"), tmp_path)
        run_as_nobody("mkfifo", attacker_dir / (COMM + ".debug"))
    else:
        binary = plant(program, attacker_dir, ".gnu_debuglink", debuglink_section(DEV_ZERO), tmp_path)
    proc, pid = start_burning(binary)
    try:
        out = tmp_path / "out"
        result = run_example("-e", "profile/cpu", "-d", "2", *(["--folded"] if folded else []), "-o", out)
    finally:
        stop_burning(proc, pid)
    assert result.returncode == 0, result.stderr
    if folded:
        mine = [line for line in out.read_text().splitlines() if line.startswith(COMM + ";")]
        assert mine, out.read_text()
        assert any(";burn_caller;burn_cpu " in line for line in mine), mine
    else:
        samples = [ev for ev in read_ndjson(out) if ev["pid"] == pid]
        assert samples
        assert all(ev["comm"] == COMM for ev in samples)
        frames = [f for ev in samples for f in ev["payload"]["ustack"]]
        assert any(f.startswith("burn_cpu+0x") and f.endswith(f" ({COMM})") for f in frames), frames


def run_example_measured(tmp_path, *args):
    """./example's exit code, stderr and peak resident memory in bytes (its own rusage)."""
    err = tmp_path / "stderr"
    with open(err, "wb") as stderr:
        proc = subprocess.Popen([str(EXAMPLE), *map(str, args)], stdout=subprocess.DEVNULL, stderr=stderr)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, err.read_bytes(), usage.ru_maxrss * 1024


XZBOMB = ROOT / "tests" / "fixtures" / "symbolize" / "xzbomb.py"
XZBOMB_BYTES = 1 << 30  # what it decompresses to


def test_minidebuginfo_bomb_is_given_up(program, attacker_dir, tmp_path):
    bomb = tmp_path / "bomb.xz"
    subprocess.run([sys.executable, XZBOMB, bomb, str(XZBOMB_BYTES >> 30)], check=True)
    binary = plant(program, attacker_dir, ".gnu_debugdata", bomb.read_bytes(), tmp_path)
    proc, pid = start_burning(binary)
    try:
        out = tmp_path / "out"
        code, stderr, peak = run_example_measured(tmp_path, "-e", "profile/cpu", "-p", pid, "-d", "2", "--folded",
                                                  "--stats", "-o", out)
    finally:
        stop_burning(proc, pid)
    assert code == 0, stderr
    mine = [line for line in out.read_text().splitlines() if line.startswith(COMM + ";")]
    assert any(";burn_caller;burn_cpu " in line for line in mine), mine
    # The program's stream, given up once; its libraries and vDSO are named.
    assert re.search(rb"\bsym_files_skipped 1\b", stderr), stderr
    assert peak < XZBOMB_BYTES, peak


def test_library_under_a_lease_is_skipped_without_waiting(attacker_dir):
    lib = attacker_dir / LEASED
    with open(PROBE_TARGET, "rb") as data:
        run_as_nobody("sh", "-c", 'cat > "$1"', "sh", lib, stdin=data)
    holder = subprocess.Popen(["runuser", "-u", "nobody", "--", sys.executable, "-c", LEASE_HOLDER, str(lib)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"leased\n"
        result = run_example("--uprobe", f"{LEASED}:add_numbers", "-d", "0.1", "-o", "/dev/null",
                             env={**os.environ, "LD_LIBRARY_PATH": str(attacker_dir)})
    finally:
        holder.stdin.close()
        holder.wait()
    assert result.returncode == 1, result.stderr
    assert f"library {LEASED} not found where the dynamic loader looks; skipped" in result.stderr.decode()
