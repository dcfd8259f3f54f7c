"""CPU sampling through ./example: NDJSON stacks as the JSON Schema says, --folded output
that a flame-graph tool reads (its counts add up to the samples delivered), and sampling
left out of a trace that does not name it."""
import json
import re

import pytest

from conftest import FIXTURES, ROOT, read_ndjson, run_example

BURN = FIXTURES / "burn"
BURN_MINIDEBUG = FIXTURES / "burn-minidebug"  # stripped, with MiniDebugInfo (tests/tests.mk)
FOLDED_LINE = re.compile(r"^(\S[^;]*)((?:;[^;]+)*) (\d+)$")


def delivered(stderr, event):
    """The delivered column of an event's --stats row."""
    columns = None
    for line in stderr.decode(errors="replace").splitlines():
        words = line.split()
        if "delivered" in words:
            columns = words
        elif columns and words and words[0] == event:
            return int(words[columns.index("delivered")])
    raise AssertionError(f"no --stats row for {event}")


def test_stacks_in_ndjson_follow_the_schema(tmp_path):
    # The second kernel's image carries pytest but not jsonschema: checked on the host.
    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "trace.ndjson"
    proc = run_example("-e", "profile/cpu", "-o", out, "--", BURN, "kernel", "1")
    assert proc.returncode == 0, proc.stderr
    schema = json.loads((ROOT / "build" / "gen" / "events.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    events = read_ndjson(out)
    assert events  # how many: tests/e2e/test_profile.c
    for ev in events:
        validator.validate(ev)
    frames = [f for ev in events for f in ev["payload"]["kstack"] + ev["payload"]["ustack"]]
    assert any(f.startswith("main+0x") and f.endswith(" (burn)") for f in frames)
    assert any(f.endswith(" ([kernel])") for f in frames)


def test_folded_counts_add_up_and_name_the_program(tmp_path):
    out = tmp_path / "out.folded"
    proc = run_example("--folded", "--stats", "-o", out, "--", BURN, "user", "2")
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    counts = {}
    for line in lines:
        m = FOLDED_LINE.match(line)
        assert m, f"not a folded stack: {line!r}"
        counts[m.group(1) + m.group(2)] = int(m.group(3))
    assert lines == sorted(lines) and len(counts) == len(lines)
    assert sum(counts.values()) == delivered(proc.stderr, "profile/cpu") > 0
    # The busy function is named with its callers, in order, in every stack it leads.
    busy = [stack for stack in counts if stack.endswith(";burn_cpu")]
    assert busy and all(stack.startswith("burn;") and stack.endswith(";main;burn_caller;burn_cpu")
                        for stack in busy), busy


def test_folded_names_functions_from_minidebuginfo(tmp_path):
    out = tmp_path / "out.folded"
    # Two seconds, as the test above: a machine that cannot read the files within the
    # first second's reading ration (under emulation) names the samples of the next.
    proc = run_example("--folded", "--stats", "-o", out, "--", BURN_MINIDEBUG, "user", "2")
    assert proc.returncode == 0, proc.stderr
    # burn's functions are in no symbol table of the file but the compressed one.
    folded = out.read_text()
    busy = [line for line in folded.splitlines() if ";burn_cpu " in line]
    assert busy and all(line.startswith("burn-minidebug;") and ";main;burn_caller;burn_cpu " in line
                        for line in busy), (folded, proc.stderr.decode())
    assert re.search(rb"\bsym_files_skipped 0\b", proc.stderr), proc.stderr.decode()


def test_sampling_only_when_named(tmp_path):
    out = tmp_path / "trace.ndjson"
    proc = run_example("-o", out, "--", BURN, "user", "0.5")
    assert proc.returncode == 0, proc.stderr
    types = {ev["event_type"] for ev in read_ndjson(out)}
    assert "sched/sched_process_exec" in types and "profile/cpu" not in types


def test_folded_needs_a_stack():
    proc = run_example("--folded", "-e", "syscalls/*", "--", "true")
    assert proc.returncode == 2
    assert b"--folded needs an event with a stack field" in proc.stderr
