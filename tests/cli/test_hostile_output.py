"""Hostile processes against ./example's output, the attacker running as nobody.

System-wide, ./example leaves out the processes of its own pipeline that hold its output
(in its session, or there when the trace started), never one that takes the output up
later from elsewhere: anyone may open a FIFO of mode 0666, any process of the reader's
user /proc/<reader>/fd/0, and excluded, its children would vanish from the trace. And
-o FILE, in a directory another user can write to, refuses the names they planted: a
symlink, a file, FIFO or device of theirs, another name of a file of root's.
"""
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest

from conftest import (EXAMPLE, HANG_TIMEOUT, NOBODY, Lines, as_nobody, open_marks, pids_in, read_ndjson, run_example,
                      stats_counts, stop, wait_reading)

MARKS = 50

# The attacker: takes up the output (argv[1]: the FIFO, or /proc/<reader>/fd/0) without
# reading it and forks; the child says its pid and, told to go (a line on stdin), opens
# argv[2] MARKS times.
ATTACKER = f"""
import os, sys
held = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
child = os.fork()
if child == 0:
    print(os.getpid(), flush=True)
    sys.stdin.readline()
    for _ in range({MARKS}):
        try:
            os.close(os.open(sys.argv[2], os.O_RDONLY))
        except OSError:
            pass
    os._exit(0)
os._exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
"""

OPENAT = "syscalls/sys_enter_openat"
VICTIM = b"a file of root's, not to be overwritten\n"


@pytest.fixture
def shared_dir():
    """A directory anyone may write to, sticky as /tmp: where the attacker plants names."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="bootstrap-hostile-output-"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path)


def as_attacker(*args, **kwargs):
    """Python as nobody, in a session of its own (another login, a daemon), as Popen."""
    return subprocess.Popen([sys.executable, "-c", *map(str, args)], preexec_fn=as_nobody, start_new_session=True,
                            cwd="/", **kwargs)


def attack(err, target, mark):
    """Runs the attacker on target once the trace is on; returns the child's pid and the
    tracer's line naming it, which comes before the child opens anything."""
    attacker = as_attacker(ATTACKER, target, mark, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    child = int(attacker.stdout.readline())
    line = err.wait_for(rf"^example: .*\bpid {child} \(.*$")[0]
    attacker.stdin.write(b"go\n")
    attacker.stdin.close()
    assert attacker.wait(HANG_TIMEOUT) == 0
    return child, line


def assert_traced(events, pid, mark, stderr):
    """Every open of mark by pid is in the trace, but for those --stats counts lost."""
    opens = [ev for ev in pids_in(events, pid) if ev["event_type"] == OPENAT]
    marks = [ev for ev in opens if ev["payload"]["filename"] == str(mark)]
    unreadable = [ev for ev in opens if ev.get("lost") == ["filename"]]
    ringbuf_full = stats_counts(stderr)["ringbuf_full"]
    assert 0 < len(marks) <= MARKS, f"{len(marks)} of {MARKS} opens of pid {pid} traced"
    assert len(marks) + len(unreadable) + ringbuf_full >= MARKS, f"{len(marks)} of {MARKS} opens traced"


@pytest.fixture
def start_tracer():
    """Starts ./example as Popen; one a failed test left running is killed."""
    started = []

    def start(*args, **kwargs):
        tracer = subprocess.Popen([EXAMPLE, *map(str, args)], stderr=subprocess.PIPE, **kwargs)
        started.append(tracer)
        return tracer, Lines(tracer.stderr)
    yield start
    for tracer in started:
        if tracer.poll() is None:
            tracer.kill()
            tracer.wait(HANG_TIMEOUT)


def late_holder_line(child, output):
    return (rf"example: pid {child} \(.+\) stays traced: reads the tracer's {output}, a pipe, taken up after the "
            "trace started, outside the session of the tracer")


def test_late_holder_of_a_fifo_is_traced(shared_dir, tmp_path, start_tracer):
    fifo = shared_dir / "trace.fifo"
    os.mkfifo(fifo)
    fifo.chmod(0o666)
    out = tmp_path / "trace.ndjson"
    tracer, err = start_tracer("-v", "--stats", "-e", OPENAT, "-o", fifo)
    with open(out, "wb") as f:
        reader = subprocess.Popen(["cat", fifo], stdout=f)
    excluded = err.wait_for(rf"^example: excluded pid {reader.pid} \(cat\): .*$")[0]
    child, line = attack(err, fifo, shared_dir / "mark")
    stop(tracer, reader)
    # Before, the child was excluded: none of its opens were there.
    assert_traced(read_ndjson(out), child, shared_dir / "mark", err.all())
    assert excluded.endswith(": reads the tracer's output, a pipe, in the session of the tracer")
    assert re.fullmatch(late_holder_line(child, "output"), line)


def users_pipe():
    """A pipe as the user's shell makes it for `sudo ./example | cat`: its inode (mode
    0600) is the user's, here nobody's, so any process of theirs may open it again
    through /proc/<cat>/fd/0."""
    os.seteuid(NOBODY)
    try:
        return os.pipe()
    finally:
        os.seteuid(0)


def test_late_holder_of_the_stdout_pipe_is_traced(shared_dir, tmp_path, start_tracer):
    """As `sudo ./example | cat`, cat being the user's (here nobody's), and another
    process of that user opening /proc/<cat>/fd/0."""
    out = tmp_path / "trace.ndjson"
    r, w = users_pipe()
    with open(out, "wb") as f:
        reader = subprocess.Popen(["cat"], stdin=r, stdout=f, preexec_fn=as_nobody)
    os.close(r)
    wait_reading(reader)
    tracer, err = start_tracer("-v", "--stats", "-e", OPENAT, stdout=w)
    os.close(w)
    excluded = err.wait_for(rf"^example: excluded pid {reader.pid} \(cat\): .*$")[0]
    child, line = attack(err, f"/proc/{reader.pid}/fd/0", shared_dir / "mark")
    stop(tracer, reader)
    assert_traced(read_ndjson(out), child, shared_dir / "mark", err.all())
    assert excluded.endswith(": reads the tracer's stdout, a pipe, in the session of the tracer")
    assert re.fullmatch(late_holder_line(child, "stdout"), line)


@pytest.mark.parametrize("own_session, why", [(False, "in the session of the tracer"),
                                              (True, "since the trace started")],
                         ids=["same session", "another session, there first"])
def test_pipeline_reader_is_excluded_and_named(tmp_path, start_tracer, own_session, why):
    """`sudo ./example | jq` traces nothing of jq, and says so without being asked."""
    out = tmp_path / "trace.ndjson"
    r, w = os.pipe()
    with open(out, "wb") as f:
        jq = subprocess.Popen(["jq", "-c", "."], stdin=r, stdout=f, start_new_session=own_session)
    os.close(r)
    wait_reading(jq)
    tracer, err = start_tracer(stdout=w)
    os.close(w)
    line = err.wait_for(rf"^example: excluded pid {jq.pid} \(jq\): .*$")[0]
    mark = tmp_path / "mark"
    open_marks(mark, MARKS)
    stop(tracer, jq)
    events = read_ndjson(out)
    assert pids_in(events, jq.pid) == []
    # The control: another process's opens are there.
    assert [ev for ev in events if ev["event_type"] == OPENAT and ev["payload"]["filename"] == str(mark)]
    assert line == f"example: excluded pid {jq.pid} (jq): reads the tracer's stdout, a pipe, {why}"


def plant(code, *args):
    """The attacker makes a name: code run as nobody."""
    attacker = as_attacker(f"import os, sys\n{code}", *args)
    assert attacker.wait(HANG_TIMEOUT) == 0


def assert_refused(path, why):
    """-o path: one line naming path and why, exit status 1."""
    proc = run_example("-e", "sched/sched_process_exit", "-o", path, "--", "true")
    assert proc.returncode == 1
    assert proc.stderr.decode(errors="replace").splitlines() == [f"example: will not write to '{path}': {why}"]


@pytest.mark.parametrize("victim_exists", [True, False], ids=["to a file", "dangling"])
def test_planted_symlink_is_refused(shared_dir, tmp_path, victim_exists):
    victim = tmp_path / "victim"
    if victim_exists:
        victim.write_bytes(VICTIM)
    link = shared_dir / "trace.ndjson"
    plant("os.symlink(sys.argv[1], sys.argv[2])", victim, link)
    assert_refused(link, "it is a symbolic link")
    # Before, root's file was truncated and overwritten, or created.
    if victim_exists:
        assert victim.read_bytes() == VICTIM
    else:
        assert not victim.exists()


@pytest.mark.parametrize("kind", ["file", "fifo"])
def test_file_of_another_user_is_refused(shared_dir, kind):
    path = shared_dir / "trace.ndjson"
    make = {"file": "open(sys.argv[1], 'w').write('nobody\\'s\\n')", "fifo": "os.mkfifo(sys.argv[1])"}[kind]
    plant(f"{make}\nos.chmod(sys.argv[1], 0o666)", path)
    before = path.lstat()
    # Before, the file was written as it was (and a FIFO's open waited for its reader).
    assert_refused(path, f"it belongs to uid {NOBODY}, neither root nor the invoking user (uid {os.getuid()})")
    after = path.lstat()
    assert (after.st_mode, after.st_uid, after.st_size, after.st_mtime_ns) == \
           (before.st_mode, NOBODY, before.st_size, before.st_mtime_ns)
    if kind == "file":
        assert path.read_text() == "nobody's\n"


def test_device_of_another_user_is_refused():
    """A terminal is a device, and the user's; only root's devices (/dev/null) are taken."""
    master, slave = os.openpty()
    try:
        os.fchown(slave, NOBODY, -1)
        assert_refused(os.ttyname(slave), "it is neither a regular file, a FIFO nor a device of root's")
    finally:
        os.close(master)
        os.close(slave)


def test_another_name_of_a_file_of_roots_is_refused(shared_dir, tmp_path):
    """Where fs.protected_hardlinks is off anyone may link to root's files; here root
    makes the link."""
    victim = tmp_path / "victim"
    victim.write_bytes(VICTIM)
    link = shared_dir / "trace.ndjson"
    os.link(victim, link)
    assert_refused(link, "it has 2 hard links")
    assert victim.read_bytes() == VICTIM


def without_sudo():
    return {k: v for k, v in os.environ.items() if k not in ("SUDO_UID", "SUDO_GID")}


def as_sudo_of_nobody():
    return dict(without_sudo(), SUDO_UID=str(NOBODY), SUDO_GID=str(NOBODY))


@pytest.mark.parametrize("sudo", [False, True], ids=["root", "sudo"])
def test_new_file_is_owner_only_and_the_invoking_users(shared_dir, sudo):
    path = shared_dir / "trace.ndjson"
    proc = run_example("-e", "sched/sched_process_exit", "-o", path, "--", "true",
                       env=as_sudo_of_nobody() if sudo else without_sudo(), preexec_fn=lambda: os.umask(0))
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert (st.st_uid, st.st_gid) == ((NOBODY, NOBODY) if sudo else (os.getuid(), os.getgid()))
    assert [ev["event_type"] for ev in read_ndjson(path)] == ["sched/sched_process_exit"]


def test_file_of_the_invoking_user_is_written(shared_dir):
    """Under sudo, a file of the user who ran sudo is theirs to overwrite."""
    path = shared_dir / "trace.ndjson"
    plant("open(sys.argv[1], 'w').write('an earlier trace\\n' * 100)\nos.chmod(sys.argv[1], 0o644)", path)
    proc = run_example("-e", "sched/sched_process_exit", "-o", path, "--", "true", env=as_sudo_of_nobody())
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    st = path.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid) == (0o600, NOBODY)
    assert [ev["event_type"] for ev in read_ndjson(path)] == ["sched/sched_process_exit"]
