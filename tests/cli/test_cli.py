"""./example's command line: event selection, --list, check, usage errors, the ways a
trace ends (-d, a closed pipe, signals) and the message when privileges are missing."""
import os
import re
import signal
import stat
import subprocess

import pytest

from conftest import (EXAMPLE, HANG_TIMEOUT, HOSTILE, NO_KPROBES, as_nobody, kprobes_expected, read_ndjson, run_example,
                      selected)

USAGE_HINT = b"Try './example --help'"


def test_help_and_version():
    help_ = run_example("--help")
    assert help_.returncode == 0 and help_.stderr == b""
    for option in (b"--events", b"--pid", b"--comm", b"--duration", b"--output", b"--stats",
                   b"--list", b"--trace-readers", b"--help", b"--version", b"-- COMMAND", b"check",
                   b"--kprobe FUNC", b"--kretprobe FUNC", b"--uprobe BIN:FUNC", b"--uretprobe BIN:FUNC",
                   b"--tracepoint CAT/NAME", b"--binary PATH", b"--uprobe-pid PID"):
        assert option in help_.stdout
    version = run_example("-V")
    assert version.returncode == 0 and re.match(rb"example \d+\.\d+\.\d+", version.stdout)


def parse_list(text):
    """--list output as {"category/name": (id, opt_in, comment, [(field, type), ...])}."""
    events, current = {}, None
    for line in text.splitlines():
        if line.startswith("    "):
            name, type_ = line.split()
            events[current][3].append((name, type_))
        else:
            m = re.fullmatch(r"(\S+) id=(\d+)( opt-in)?(?:  (.*))?", line)
            assert m, line
            current = m[1]
            events[current] = (int(m[2]), bool(m[3]), m[4] or "", [])
    return events


def test_list_matches_events_toml(schema):
    # Every event, the opt-in ones too (marked): they are not traced without -e, but
    # the build knows them.
    out = run_example("--list")
    assert out.returncode == 0 and out.stderr == b""
    listed = parse_list(out.stdout.decode())
    assert list(listed) == list(schema)
    for type_name, table in schema.items():
        fields = [(f["name"], f["type"]) for f in table["payload"]]
        assert listed[type_name] == (table["id"], table.get("opt_in", False), table.get("comment", ""), fields)
    assert any(table.get("opt_in") for table in schema.values())


def test_list_with_events_filter(schema):
    out = run_example("--list", "-e", "sched/*")
    listed = parse_list(out.stdout.decode())
    assert list(listed) == [t for t in schema if t.startswith("sched/")]


def test_check_succeeds_here(schema):
    out = run_example("check")
    assert out.returncode == 0, out.stdout.decode()
    text = out.stdout.decode()
    for requirement in ("kernel", "BTF", "privileges", "tracefs"):
        assert re.search(rf"^\u2713 {requirement} ", text, re.M), requirement
    for type_name, table in schema.items():
        kind = table.get("kind", "tracepoint")
        opt_in = ", opt-in" if table.get("opt_in") else ""
        assert len(re.findall(rf"^  [\u2713\u2717] {re.escape(type_name)} \({kind}[ ,].*\bid {table['id']}{opt_in}\)",
                              text, re.M)) == 1


def test_check_marks_the_opt_in_events_and_checks_their_targets(schema):
    # The declared probes: each by its binary and symbol, or its kernel function and
    # kprobes; the opt-in ones say so.
    text = run_example("check").stdout.decode()
    for type_name, target in (("bash/readline", "uretprobe /bin/bash:readline"),
                              ("ssl/ssl_read", "uretprobe libssl.so.3:SSL_read"),
                              ("ssl/ssl_read_ex", "uretprobe libssl.so.3:SSL_read_ex")):
        assert re.search(rf"^  \u2713 {type_name} \({target}, id {schema[type_name]['id']}, opt-in\)$", text, re.M), text
    kprobe = r"^  \u2713 kernel/do_sys_openat2 \(kprobe do_sys_openat2, id 10240, opt-in\)"
    if not kprobes_expected():
        kprobe = rf"^  \u2717 kernel/do_sys_openat2 \(kprobe do_sys_openat2, id 10240, opt-in\): {re.escape(NO_KPROBES)}$"
    assert re.search(kprobe, text, re.M), text
    assert re.search(r"^  \u2713 syscalls/sys_enter_openat \(tracepoint syscalls/sys_enter_openat, id 1024\)$", text, re.M)


def test_check_mounts_a_missing_tracefs():
    # A fresh boot may have no tracefs; tracing mounts it, so check does too. A mounted
    # debugfs would mount tracefs again at its tracing folder as soon as anything looks
    # there (an automount): debugfs goes too, until the test ends.
    subprocess.run(["mount", "-t", "tracefs", "tracefs", "/sys/kernel/tracing"], capture_output=True)
    debugfs = subprocess.run(["umount", "-l", "/sys/kernel/debug"], capture_output=True).returncode == 0
    try:
        subprocess.run(["umount", "-l", "/sys/kernel/tracing"], check=True)
        out = run_example("check")
    finally:
        if debugfs:
            subprocess.run(["mount", "-t", "debugfs", "debugfs", "/sys/kernel/debug"], check=True)
    assert out.returncode == 0, out.stdout.decode()
    assert re.search(r"^\u2713 tracefs +was not mounted: mounted now at /sys/kernel/tracing$",
                     out.stdout.decode(), re.M)


@pytest.mark.parametrize("args", [
    ["--no-such-option"],
    ["-x"],
    ["-e"],
    ["-e", "nosuch/*"],
    ["-e", ""],
    ["-p", "0"],
    ["-p", "12ab"],
    ["-d", "0"],
    ["-d", "soon"],
    ["-c", "a-comm-of-16-byt"],
    ["--arena-bytes", "1K"],
    ["--ringbuf-bytes", "-1"],
    ["-f"],
    ["ls"],
    ["--"],
    ["check", "extra"],
    ["-p", "1", "--", "true"],
    ["-d", "1", "--", "true"],
    ["--list", "--", "true"],
    ["--trace-readers", "-p", "1"],
    ["--trace-readers", "--", "true"],
    ["--kprobe", ""],
    ["--kprobe", "vfs:read"],
    ["--kretprobe", "fs/vfs_read"],
    ["--uprobe", "/bin/bash"],
    ["--uprobe", ":readline"],
    ["--uretprobe", "/bin/bash:"],
    ["--tracepoint", "sys_enter_openat"],
    ["--tracepoint", "syscalls/"],
    ["--tracepoint", "/sys_enter_openat"],
    ["--tracepoint", "a/b/c"],
    ["--binary", "/bin/bash", "-e", "sched/*"],
    ["--uprobe-pid", "0"],
    ["--uprobe-pid", "1", "-e", "sched/*"],
    ["-e", "probe/*"],
], ids=" ".join)
def test_usage_errors(args):
    out = run_example(*args)
    assert out.returncode == 2
    assert out.stdout == b""
    lines = out.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(b"example: ") and lines[1].startswith(USAGE_HINT)


@pytest.mark.parametrize("patterns", ["syscalls/sys_enter_open*,sched/*", "sys_exit_*",
                                      "sched/sched_process_exec"])
def test_events_globs_select_exactly(tmp_path, schema, patterns):
    out = tmp_path / "trace.ndjson"
    proc = run_example("-e", patterns, "-o", out, "--", HOSTILE, cwd=tmp_path)
    assert proc.returncode == 3
    wanted = {t for t in schema if selected(patterns, t)}
    assert wanted
    # The fixture makes every one of these events happen at least once.
    assert {ev["event_type"] for ev in read_ndjson(out)} == wanted


def test_duration_ends_by_itself(tmp_path):
    out = tmp_path / "trace.ndjson"
    proc = subprocess.Popen([EXAMPLE, "-d", "1", "-o", out], stderr=subprocess.PIPE)
    _, err = proc.communicate(timeout=HANG_TIMEOUT)
    assert proc.returncode == 0, err.decode(errors="replace")
    # System-wide, but never the tracer itself.
    assert all(ev["pid"] != proc.pid for ev in read_ndjson(out))


def spawn_until(proc):
    """Starts short processes (each makes events) until proc has exited."""
    while proc.poll() is None:
        subprocess.run(["/bin/true"])


def test_closed_pipe_is_a_quiet_stop():
    pipeline = subprocess.Popen(["/bin/bash", "-o", "pipefail", "-c", f"'{EXAMPLE}' | head -1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    spawn_until(pipeline)
    out, err = pipeline.communicate(timeout=HANG_TIMEOUT)
    assert pipeline.returncode == 0, err.decode(errors="replace")
    # Nothing but the exclusion of head, the reader of the pipe, said by default.
    assert re.fullmatch(rb"(example: (excluded pid \d+ \(head\)|pid \d+ \(head\) traced again): .*\n)*", err), err
    assert len(out.splitlines()) == 1


def wait_for_line(path, needle, proc):
    """Polls the trace file until a line with needle is there (or proc has ended)."""
    while proc.poll() is None:
        if path.exists() and needle in path.read_bytes():
            return
        subprocess.run(["/bin/true"])
    pytest.fail(f"{needle!r} never appeared")


def test_sigint_stops_cleanly_with_stats(tmp_path):
    out = tmp_path / "trace.ndjson"
    proc = subprocess.Popen([EXAMPLE, "--stats", "-e", "sched/*", "-o", out], stderr=subprocess.PIPE)
    wait_for_line(out, b"sched/sched_process_exec", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=HANG_TIMEOUT)
    assert proc.returncode == 0
    assert re.search(rb"^\s+total\s+\d+", err, re.M), err.decode(errors="replace")
    assert read_ndjson(out)


def test_sigterm_is_passed_to_command(tmp_path):
    out = tmp_path / "trace.ndjson"
    proc = subprocess.Popen([EXAMPLE, "-o", out, "--", "sleep", "1000"], stderr=subprocess.PIPE)
    wait_for_line(out, b"sched/sched_process_exec", proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=HANG_TIMEOUT)
    assert proc.returncode == 128 + signal.SIGTERM, err.decode(errors="replace")
    events = read_ndjson(out)
    exits = [ev for ev in events if ev["event_type"] == "sched/sched_process_exit"]
    assert exits[-1]["comm"] == "sleep" and exits[-1]["payload"]["signal"] == signal.SIGTERM


@pytest.mark.parametrize("command, status", [("no-such-command", 127), ("not-executable", 126)])
def test_exec_failure(tmp_path, command, status):
    """As in sh: 127 when COMMAND is not found, 126 when it cannot be run."""
    (tmp_path / "not-executable").write_text("data\n")
    out = tmp_path / "trace.ndjson"
    proc = run_example("-o", out, "--", tmp_path / command)
    assert proc.returncode == status
    assert proc.stderr.startswith(b"example: cannot run ")
    # The failed exec is in the trace, and so is the exit with that status.
    events = read_ndjson(out)
    assert events[0]["event_type"] == "syscalls/sys_enter_execve"
    assert events[-1]["event_type"] == "sched/sched_process_exit"
    assert events[-1]["payload"]["exit_code"] == status


@pytest.mark.parametrize("command", [[], ["--", "true"]], ids=["system-wide", "command"])
def test_not_root_one_line_naming_the_privilege(tmp_path, command):
    existing = tmp_path / "earlier.ndjson"
    existing.write_text("{}\n")
    proc = run_example("-o", existing, *command, preexec_fn=as_nobody, cwd="/")
    assert proc.returncode == 1
    assert existing.read_text() == "{}\n", "a run that cannot trace truncated the output file"
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr.decode(errors="replace")
    assert b"root" in lines[0] and b"CAP_BPF" in lines[0]


def test_check_fails_without_privilege():
    proc = run_example("check", preexec_fn=as_nobody, cwd="/")
    assert proc.returncode != 0
    assert re.search("^\u2717 privileges ", proc.stdout.decode(), re.M)


def test_write_error_is_a_runtime_error():
    proc = run_example("-o", "/dev/full", "--", "true")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [b"example: writing the events failed: No space left on device"]


def test_output_file_is_created_for_its_owner_only(tmp_path):
    # A trace may hold typed passwords and TLS plaintext: 0600 whatever the umask.
    out = tmp_path / "trace.ndjson"
    proc = run_example("-e", "sched/sched_process_exit", "-o", out, "--", "true", preexec_fn=lambda: os.umask(0))
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [ev["event_type"] for ev in read_ndjson(out)] == ["sched/sched_process_exit"]


def test_existing_output_file_is_truncated_and_made_owner_only(tmp_path):
    out = tmp_path / "trace.ndjson"
    out.write_text("an earlier trace, longer than the new one\n" * 100)
    out.chmod(0o644)
    proc = run_example("-e", "sched/sched_process_exit", "-o", out, "--", "true")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [ev["event_type"] for ev in read_ndjson(out)] == ["sched/sched_process_exit"]
