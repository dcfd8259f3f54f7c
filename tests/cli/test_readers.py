"""System-wide, ./example leaves out of the trace the processes at the other end of its
output that belong to its pipeline: the readers of its pipe or FIFO in its session (also
one that comes later), the relay of its pseudo-terminal (as sudo with use_pty) and the
relay's own readers. --trace-readers keeps them in the trace. (A holder from elsewhere:
test_hostile_output.py.)

Each test makes a known workload (MARKS opens of a path of its own) while a reader
copies the trace, and asserts on the reader's own pid: the machine may be busy with
anything else, so no bound on the trace's size would hold.
"""
import os
import re
import select
import signal
import subprocess
import sys
import threading

import pytest

from conftest import (EXAMPLE, HANG_TIMEOUT, ROOT, Lines, open_marks, pids_in, poll_until, read_ndjson, stop,
                      wait_reading)

PTY_RELAY = ROOT / "tests" / "fixtures" / "pty_relay.py"
MARKS = 200


class Drain:
    """Reads an fd in a thread, keeping every byte, until stopped."""

    def __init__(self, fd):
        self.fd = fd
        self.data = bytearray()
        self.stopping = False
        self.thread = threading.Thread(target=self._read)
        self.thread.start()

    def _read(self):
        while not self.stopping:
            if select.select([self.fd], [], [], 0.05)[0]:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    return
                self.data += chunk

    def stop(self):
        """Stops between two reads: the next reader goes on from the next byte."""
        self.stopping = True
        self.thread.join()
        return bytes(self.data)


def assert_marks(events, path, stats):
    """Every open of the workload is in the trace, but for those --stats counts lost."""
    opens = [ev for ev in events if ev["event_type"] == "syscalls/sys_enter_openat"]
    marks = [ev for ev in opens if ev["payload"]["filename"] == str(path)]
    unreadable = [ev for ev in opens if ev.get("lost") == ["filename"]]
    ringbuf_full = int(re.search(r"^\s+total\s+\d+\s+\d+\s+(\d+)", stats, re.M)[1])
    assert len(marks) <= MARKS
    assert len(marks) + len(unreadable) + ringbuf_full >= MARKS, f"{len(marks)} of {MARKS} opens traced"


def start_tracer(*args, stdout):
    tracer = subprocess.Popen([EXAMPLE, "--stats", *args], stdout=stdout, stderr=subprocess.PIPE)
    return tracer, Lines(tracer.stderr)


@pytest.mark.parametrize("reader", [["jq", "-c", "."], ["cat"]], ids=["jq", "cat"])
def test_pipe_reader_is_left_out(tmp_path, reader):
    out = tmp_path / "trace.ndjson"
    r, w = os.pipe()
    with open(out, "wb") as f:
        consumer = subprocess.Popen(reader, stdin=r, stdout=f)
    os.close(r)
    wait_reading(consumer)
    tracer, err = start_tracer(stdout=w)
    os.close(w)
    err.wait_for(rf"^example: excluded pid {consumer.pid} \({reader[0]}\): reads the tracer's stdout, a pipe, "
                 "in the session of the tracer$")
    open_marks(tmp_path / "mark", MARKS)
    stop(tracer, consumer)
    events = read_ndjson(out)
    # Before, it was a loop: jq's writes of the events it read were traced, printed, read...
    assert pids_in(events, consumer.pid) == []
    assert_marks(events, tmp_path / "mark", err.all())


def pipe_or_fifo(kind, tmp_path):
    """The read and write ends: an anonymous pipe, or a named FIFO (opened by path)."""
    if kind == "pipe":
        return os.pipe()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    w = os.open(fifo, os.O_WRONLY)
    os.set_blocking(r, True)
    return r, w


@pytest.mark.parametrize("kind", ["pipe", "fifo"])
def test_reader_that_comes_later_is_left_out_and_one_that_leaves_traced_again(tmp_path, kind):
    r, w = pipe_or_fifo(kind, tmp_path)
    tracer, err = start_tracer(stdout=w)
    os.close(w)
    # This test reads first, so it is the reader the tracer finds when it starts.
    first = Drain(r)
    err.wait_for(rf"^example: excluded pid {os.getpid()} \(")
    head = first.stop()
    with open(tmp_path / "cat.ndjson", "wb") as f:
        cat = subprocess.Popen(["cat"], stdin=r, stdout=f)
    # Started after the tracer's first look: found by a later one.
    err.wait_for(rf"^example: excluded pid {cat.pid} \(cat\): reads the tracer's stdout, a pipe, "
                 "in the session of the tracer$")
    open_marks(tmp_path / "mark", MARKS)
    wait_for_mark(tmp_path / "cat.ndjson", tmp_path / "mark")
    cat.kill()
    cat.wait(HANG_TIMEOUT)
    rest = Drain(r)
    err.wait_for(rf"^example: pid {cat.pid} \(cat\) traced again: no longer at the other end of the output$")
    stop(tracer)
    tail = rest.stop()
    os.close(r)
    # What cat read but had not written when it was killed is missing between the two.
    events = (whole_lines(tmp_path / "1.ndjson", head + (tmp_path / "cat.ndjson").read_bytes())
              + whole_lines(tmp_path / "2.ndjson", tail[tail.find(b"\n") + 1:]))
    marks = [ev["timestamp_ns"] for ev in events if ev["event_type"] == "syscalls/sys_enter_openat"
             and ev["payload"]["filename"] == str(tmp_path / "mark")]
    assert marks
    # Whatever cat did before its exclusion, nothing of it after.
    assert [ev for ev in pids_in(events, cat.pid) if ev["timestamp_ns"] >= min(marks)] == []


def wait_for_mark(path, mark):
    """Until the reader's copy has one of the workload's opens."""
    needle = f'"filename":"{mark}"'.encode()
    poll_until(lambda: needle in path.read_bytes())


def whole_lines(path, data):
    """The events of data up to its last newline (saved in path to be checked)."""
    path.write_bytes(data[:data.rfind(b"\n") + 1])
    return read_ndjson(path)


def test_trace_readers_keeps_them_in_the_trace(tmp_path):
    out = tmp_path / "trace.ndjson"
    r, w = os.pipe()
    with open(out, "wb") as f:
        cat = subprocess.Popen(["cat"], stdin=r, stdout=f)
    os.close(r)
    wait_reading(cat)
    tracer, err = start_tracer("--trace-readers", stdout=w)
    os.close(w)
    # The old loop: cat's copy of the events brings events of cat.
    needle = f'"pid":{cat.pid},'.encode()
    poll_until(lambda: open_marks(tmp_path / "mark", MARKS) or needle in out.read_bytes())
    stop(tracer, cat)
    assert pids_in(read_ndjson(out), cat.pid)
    assert "excluded" not in err.all()


def test_pty_relay_and_its_reader_are_left_out(tmp_path):
    """As `sudo ./example | cat` with use_pty when sudo has a terminal: the tracer's stdout
    is a terminal whose master its grandparent holds, copying it to a pipe."""
    out = tmp_path / "trace.ndjson"
    relay = subprocess.Popen([sys.executable, PTY_RELAY, EXAMPLE, "--stats"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with open(out, "wb") as f:
        cat = subprocess.Popen(["cat"], stdin=relay.stdout, stdout=f)
    relay.stdout.close()
    err = Lines(relay.stderr)
    tracer = int(err.wait_for(r"^pty_relay: command pid (\d+)$")[1])
    err.wait_for(rf"^example: excluded pid {relay.pid} \(.+\): relays the tracer's stdout, pty \d+, "
                 "to its own stdout$")
    err.wait_for(rf"^example: excluded pid {cat.pid} \(cat\): reads the stdout of pid {relay.pid} \(.+\), a pipe, "
                 rf"in the session of pid {relay.pid} \(.+\)$")
    open_marks(tmp_path / "mark", MARKS)
    os.kill(tracer, signal.SIGINT)
    assert relay.wait(HANG_TIMEOUT) == 0
    assert cat.wait(HANG_TIMEOUT) == 0
    events = read_ndjson(out)
    assert pids_in(events, relay.pid, cat.pid) == []
    assert_marks(events, tmp_path / "mark", err.all())


@pytest.mark.parametrize("args", [["-o", "FILE", "-d", "0.5"], ["--", "true"]], ids=["-o FILE", "-- COMMAND"])
def test_nothing_left_out_without_a_reader_or_system_wide_trace(tmp_path, args):
    args = [str(tmp_path / "out") if a == "FILE" else a for a in args]
    with open(tmp_path / "cat.out", "wb") as f:
        pipeline = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=f)
        proc = subprocess.run([EXAMPLE, "--stats", *args], stdout=pipeline.stdin, stderr=subprocess.PIPE,
                              timeout=HANG_TIMEOUT)
        pipeline.stdin.close()
        pipeline.wait(HANG_TIMEOUT)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert re.search(rb"^\s+total\s+\d+", proc.stderr, re.M)
    assert b"excluded" not in proc.stderr
