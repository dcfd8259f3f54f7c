"""bash/readline: an interactive bash on a pseudo-terminal, traced with
`./example -e bash/readline -- /bin/bash -i`, is typed known lines (quotes, non-ASCII,
an empty line, a long one, a quote closed on a continuation line) and then Ctrl-D; the
trace holds exactly those lines, in order, each with its prompt (PS1 or PS2), and the
end of input as a call that returned no line."""
import fcntl
import os
import select
import subprocess
import termios
import time

from conftest import EXAMPLE, HANG_TIMEOUT, read_ndjson

PS1, PS2 = "rl-test$ ", "rl-more> "
# (what is typed, the prompt it answers)
LINES = [
    ("echo 'single \"double\" quotes' \"it's\"", PS1),
    (": h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e \u2014 na\u00efve \U0001F680", PS1),
    ("", PS1),
    ("echo back\\slash $((6*7)) `true` $HOME", PS1),
    (": " + "0123456789abcdef" * 200, PS1),
    ("echo \"an open quote", PS1),
    ("closed on the next line\"", PS2),
]
CTRL_D = b"\x04"


class Terminal:
    """The master side of the pseudo-terminal: what bash printed, and typing."""

    def __init__(self, master):
        self.master, self.output = master, b""

    def read_until(self, predicate):
        deadline = time.monotonic() + HANG_TIMEOUT
        while not predicate(self.output):
            assert time.monotonic() < deadline, f"bash never got there; it printed {self.output!r}"
            if select.select([self.master], [], [], 1)[0]:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: bash and ./example have closed the terminal
                    chunk = b""
                if not chunk:
                    return False
                self.output += chunk
        return True

    def prompts(self):
        return sum(self.output.count(p.encode()) for p in (PS1, PS2))

    def type(self, text):
        os.write(self.master, text)


def test_typed_lines_exactly_and_in_order(tmp_path):
    out = tmp_path / "trace.ndjson"
    master, slave = os.openpty()
    # bash -i on its own terminal, as a login would have it: the terminal is the
    # session's controlling one, and a UTF-8 locale (readline keeps 8-bit input then).
    proc = subprocess.Popen(
        [EXAMPLE, "-e", "bash/readline", "-o", out, "--", "/bin/bash", "--norc", "--noprofile", "-i"],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TERM": "dumb", "LC_ALL": "C.UTF-8",
             "PS1": PS1, "PS2": PS2, "HISTFILE": "/dev/null"})
    os.close(slave)
    term = Terminal(master)
    try:
        for n, (line, _) in enumerate(LINES, 1):
            # One line per prompt, as a person types: each after bash asked for it.
            assert term.read_until(lambda _: term.prompts() >= n), term.output
            term.type(line.encode() + b"\r")
        assert term.read_until(lambda _: term.prompts() > len(LINES)), term.output
        term.type(CTRL_D)
        term.read_until(lambda _: False)
        assert proc.wait(timeout=HANG_TIMEOUT) == 0, term.output
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    events = read_ndjson(out)
    assert [ev["event_type"] for ev in events] == ["bash/readline"] * (len(LINES) + 1)
    assert [ev["payload"] for ev in events] == (
        [{"got_line": True, "line": line, "prompt": prompt} for line, prompt in LINES] +
        [{"got_line": False, "line": "", "prompt": PS1}])
    assert all("truncated" not in ev and "lost" not in ev for ev in events)
    # All from the one bash, the command ./example started.
    assert len({ev["pid"] for ev in events}) == 1
    assert {ev["comm"] for ev in events} == {"bash"}
