"""./example -- build/tests/fixtures/hostile: every line is valid JSON, the exact values
the fixture used come back, and nothing from any other process shows up.

The expected values below mirror tests/fixtures/hostile.c.
"""
import errno
import os
import re

import pytest

from conftest import HOSTILE, read_ndjson, run_example, stats_counts

FIXTURE_STATUS = 3

# Each name the fixture opens (bytes), and what the JSON contract makes of it: control
# bytes escaped and decoded back to themselves, invalid UTF-8 replaced as Python's
# bytes.decode(errors="replace") does: a well-started sequence cut short is one U+FFFD,
# every other invalid byte one of its own.
HOSTILE_NAMES = {
    b"quote \" and 'single'": "quote \" and 'single'",
    b"backslash \\ and \\\\ and \\n": "backslash \\ and \\\\ and \\n",
    b"newline\nhere": "newline\nhere",
    b"tab\there": "tab\there",
    b"control \x01 \x1f \x7f end": "control \x01 \x1f \x7f end",
    b"invalid utf8 \x80 and \xff end": "invalid utf8 \ufffd and \ufffd end",
    b"valid utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80": "valid utf8 \u00e9 \u20ac \U0001F600",
    b"cut utf8 \xe2\x82 end": "cut utf8 \ufffd end",
    b"": "",
}
LONG_NAME = "".join(chr(ord("a") + i % 26) for i in range(4000))
LONGER_NAME = "".join(chr(ord("a") + i % 26) for i in range(5000))
FILENAME_MAX = 4096  # events.toml: sys_enter_openat filename max

PATTERN_BLOCK = (b"pattern \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \"q\" \\ \n\t" + bytes(range(256)))
PATTERN = (PATTERN_BLOCK * (32768 // len(PATTERN_BLOCK) + 1))[:32768]

EXEC_ARGV = (["/bin/true", "", "with space", "quote\" backslash\\ newline\n tab\t",
              "invalid \ufffd\ufffd"] + [f"arg-{i:03d}" for i in range(5, 301)])
EXECVE_MAX_ITEMS = 128  # events.toml: sys_enter_execve argv max_items

O_WRONLY, O_CREAT, O_TRUNC, O_CLOEXEC = os.O_WRONLY, os.O_CREAT, os.O_TRUNC, os.O_CLOEXEC


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    """One traced run of the fixture, in an empty directory."""
    workdir = tmp_path_factory.mktemp("hostile")
    out = workdir / "trace.ndjson"
    proc = run_example("-o", out, "--stats", "--", HOSTILE, cwd=workdir)
    return {"proc": proc, "events": read_ndjson(out), "workdir": workdir}


@pytest.fixture(scope="module")
def events(trace):
    return trace["events"]


@pytest.fixture(scope="module")
def root_pid(events):
    """The fixture's pid: the process whose exec starts the trace."""
    first = events[0]
    assert first["event_type"] == "syscalls/sys_enter_execve"
    assert first["payload"]["filename"] == str(HOSTILE)
    assert first["payload"]["argv"] == [str(HOSTILE)]
    return first["pid"]


@pytest.fixture(scope="module")
def tree(events, root_pid):
    """The fixture and its descendants, from the fork events (child_pid is the new task)."""
    pids = {root_pid}
    for ev in events:
        if ev["event_type"] == "sched/sched_process_fork" and ev["pid"] in pids:
            pids.add(ev["payload"]["child_pid"])
    return pids


def of_type(events, event_type, **where):
    return [ev for ev in events if ev["event_type"] == event_type
            and all(ev[k] == v for k, v in where.items())]


def exit_after(events, enter):
    """The sys_exit_* event that follows a sys_enter_* event on the same thread."""
    exit_type = enter["event_type"].replace("sys_enter_", "sys_exit_")
    i = events.index(enter)
    return next(ev for ev in events[i + 1:] if ev["tid"] == enter["tid"]
                and ev["event_type"] == exit_type)


def test_exit_status_is_the_fixtures(trace):
    assert trace["proc"].returncode == FIXTURE_STATUS, trace["proc"].stderr.decode(errors="replace")


def test_command_output_passes_through(trace):
    assert trace["proc"].stdout == PATTERN


def test_nothing_silently_lost(events, trace):
    """The --stats totals account for every line: no event dropped, and each field
    shown as lost (a user page the kernel could not read) counted as such."""
    counts = stats_counts(trace["proc"].stderr)
    delivered, emitted, read_faults, truncated = (counts[k] for k in ("delivered", "emitted", "read_faults", "truncated"))
    ringbuf_full, fields_lost, bytes_lost = (counts[k] for k in ("ringbuf_full", "fields_lost", "payload_bytes_lost"))
    # Delivered is every line, plus at most the one event met after the end of the trace.
    assert delivered - len(events) in (0, 1)
    assert emitted >= delivered
    assert (ringbuf_full, fields_lost, bytes_lost) == (0, 0, 0)
    assert read_faults == sum(len(ev.get("lost", [])) for ev in events)
    assert truncated == sum(len(ev.get("truncated", [])) for ev in events)


def test_only_the_fixture_and_its_descendants(events, root_pid, tree):
    assert {ev["pid"] for ev in events} <= tree
    # The trace starts at the fixture's exec and ends with its exit: its main thread's
    # exit, followed at most by the exits of its other threads: on 6.1, do_exit() wakes
    # the thread joining an exiting one (in exit_mm()) before the exit tracepoint, so a
    # joined thread's exit event can come after the main thread's.
    exits = [i for i, ev in enumerate(events)
             if ev["event_type"] == "sched/sched_process_exit" and ev["tid"] == root_pid]
    assert len(exits) == 1
    assert events[exits[0]]["payload"]["exit_code"] == FIXTURE_STATUS
    assert all((ev["event_type"], ev["pid"]) == ("sched/sched_process_exit", root_pid)
               for ev in events[exits[0] + 1:])


def test_every_thread_in_order_and_complete(events):
    by_tid = {}
    for ev in events:
        by_tid.setdefault(ev["tid"], []).append(ev)
    for tid, evs in by_tid.items():
        stamps = [ev["timestamp_ns"] for ev in evs]
        assert stamps == sorted(stamps), f"tid {tid} out of order"
        for call in ("openat", "read", "write"):
            enters = len(of_type(evs, f"syscalls/sys_enter_{call}"))
            exits = len(of_type(evs, f"syscalls/sys_exit_{call}"))
            assert enters == exits, f"tid {tid}: {enters} sys_enter_{call}, {exits} sys_exit_{call}"


@pytest.mark.parametrize("raw", list(HOSTILE_NAMES), ids=repr)
def test_hostile_filename(events, root_pid, raw):
    expected = HOSTILE_NAMES[raw]
    assert expected == raw.decode("utf-8", errors="replace")
    opens = [ev for ev in of_type(events, "syscalls/sys_enter_openat", pid=root_pid)
             if ev["payload"]["filename"] == expected]
    assert len(opens) == 1, f"{expected!r} not found exactly once"
    assert "truncated" not in opens[0]
    assert exit_after(events, opens[0])["payload"]["ret"] == -errno.ENOENT


def test_invalid_bytes_each_become_one_replacement(events, root_pid):
    names = [ev["payload"]["filename"] for ev in of_type(events, "syscalls/sys_enter_openat", pid=root_pid)]
    invalid = [n for n in names if n.startswith("invalid utf8")]
    assert invalid == ["invalid utf8 \ufffd and \ufffd end"]
    assert invalid[0].count("\ufffd") == 2


def test_long_filename_whole(events, root_pid):
    opens = [ev for ev in of_type(events, "syscalls/sys_enter_openat", pid=root_pid)
             if ev["payload"]["filename"] == LONG_NAME]
    assert len(opens) == 1 and "truncated" not in opens[0]
    assert exit_after(events, opens[0])["payload"]["ret"] == -errno.ENAMETOOLONG


def test_longer_filename_cut_at_max(events, root_pid):
    opens = [ev for ev in of_type(events, "syscalls/sys_enter_openat", pid=root_pid)
             if ev["payload"]["filename"] == LONGER_NAME[:FILENAME_MAX]]
    assert len(opens) == 1
    assert opens[0]["truncated"] == ["filename"]


def test_write_content_is_the_pattern(events, root_pid):
    writes = of_type(events, "syscalls/sys_enter_write", pid=root_pid)
    assert len(writes) == 1
    payload = writes[0]["payload"]
    assert (payload["fd"], payload["count"]) == (1, len(PATTERN))
    assert payload["content"] == PATTERN.decode("utf-8", errors="replace")
    assert "truncated" not in writes[0]
    assert exit_after(events, writes[0])["payload"]["ret"] == len(PATTERN)


def exec_of_true(events, tree, root_pid):
    execs = [ev for ev in of_type(events, "sched/sched_process_exec")
             if ev["payload"]["filename"] == "/bin/true"]
    assert len(execs) == 1
    assert execs[0]["pid"] in tree and execs[0]["ppid"] == root_pid
    return execs[0]


def test_exec_argv_all_301_entries(events, tree, root_pid):
    ev = exec_of_true(events, tree, root_pid)
    # argv is read from the new image's memory: 301 entries fit in its 4096-byte max.
    assert len(EXEC_ARGV) == 301
    assert ev["payload"]["argv"] == EXEC_ARGV
    assert "truncated" not in ev


def test_execve_argv_cut_at_max_items(events, tree, root_pid):
    pid = exec_of_true(events, tree, root_pid)["pid"]
    calls = of_type(events, "syscalls/sys_enter_execve", pid=pid)
    assert len(calls) == 1
    assert calls[0]["payload"]["filename"] == "/bin/true"
    assert calls[0]["payload"]["argv"] == EXEC_ARGV[:EXECVE_MAX_ITEMS]
    assert calls[0]["truncated"] == ["argv"]


def test_grandchild(events, root_pid, trace):
    forks = of_type(events, "sched/sched_process_fork")
    children = [ev["payload"]["child_pid"] for ev in forks if ev["pid"] == root_pid]
    grandchildren = [(ev["pid"], ev["payload"]["child_pid"]) for ev in forks if ev["pid"] in children]
    assert len(grandchildren) == 1
    child, grandchild = grandchildren[0]
    opens = of_type(events, "syscalls/sys_enter_openat", pid=grandchild)
    assert [ev["payload"]["filename"] for ev in opens] == ["grandchild.txt"]
    payload = opens[0]["payload"]
    assert payload["flags"] & (O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC) == O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
    assert payload["mode"] == 0o640
    assert exit_after(events, opens[0])["payload"]["ret"] >= 0
    assert (trace["workdir"] / "grandchild.txt").exists()
    exits = {ev["pid"]: ev["payload"]["exit_code"] for ev in of_type(events, "sched/sched_process_exit")
             if ev["pid"] == ev["tid"]}
    assert (exits[grandchild], exits[child]) == (7, 8)
    assert opens[0]["ppid"] == child and opens[0]["uppid"] != opens[0]["upid"]


def test_thread(events, root_pid):
    opens = [ev for ev in of_type(events, "syscalls/sys_enter_openat", pid=root_pid)
             if ev["payload"]["filename"] == "thread-file"]
    assert len(opens) == 1
    assert opens[0]["tid"] != root_pid
    assert exit_after(events, opens[0])["payload"]["ret"] == -errno.ENOENT
