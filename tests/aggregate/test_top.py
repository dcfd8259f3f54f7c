"""./example top (root) with the tree's own events.toml: a busy child (aggwork busy,
comm agg-busy, opening /dev/null in a loop) is in the first rows, on a terminal (tmux,
read with capture-pane) and as plain text snapshots when stdout is not a terminal; with a
ring buffer too small, the titles count what was dropped."""
import re
import subprocess
import time
import uuid

import pytest

from conftest import AGGWORK, EXAMPLE, HANG_TIMEOUT

FIRST_ROWS = 3


def busy(seconds):
    return subprocess.Popen([AGGWORK, 'busy', str(seconds)])


def test_plain_text_snapshots_rank_the_busy_child_first_rows():
    child = busy(6)
    try:
        out = subprocess.run([EXAMPLE, 'top', '-d', '3.5'], capture_output=True, text=True, timeout=HANG_TIMEOUT)
    finally:
        child.wait(timeout=HANG_TIMEOUT)
    assert out.returncode == 0, out.stderr
    snapshots = [s for s in out.stdout.split('\n\n') if s.strip()]
    assert len(snapshots) >= 2
    for snap in snapshots[1:]:  # the first may start before the child is busy
        title, header, *rows = snap.splitlines()
        assert title.startswith('example top ') and 'events/s' in title
        assert header.split()[:3] == ['PID', 'COMM', 'total/s*']
        assert 'agg-busy' in [r.split()[1] for r in rows[:FIRST_ROWS]], snap


def test_terminal_view_under_tmux_shows_the_busy_child():
    session = f'bs-top-{uuid.uuid4().hex[:8]}'
    subprocess.run(['tmux', 'new-session', '-d', '-s', session, '-x', '160', '-y', '40', f'{EXAMPLE} top'],
                   check=True)
    child = busy(8)
    try:
        deadline, screen = time.monotonic() + 60, ''
        while time.monotonic() < deadline:
            time.sleep(0.5)
            screen = subprocess.run(['tmux', 'capture-pane', '-p', '-t', session], capture_output=True,
                                    text=True, check=True).stdout
            lines = screen.splitlines()
            if len(lines) > 3 and 'agg-busy' in ''.join(lines[3:3 + FIRST_ROWS]):
                break
        else:
            pytest.fail(screen)
        assert lines[0].startswith('example top ')
        assert lines[2].split()[:2] == ['PID', 'COMM']
        # q quits, and the terminal is given back.
        subprocess.run(['tmux', 'send-keys', '-t', session, 'q'], check=True)
        deadline = time.monotonic() + 30
        while subprocess.run(['tmux', 'has-session', '-t', session], capture_output=True).returncode == 0:
            assert time.monotonic() < deadline, 'top did not quit on q'
            time.sleep(0.1)
    finally:
        subprocess.run(['tmux', 'kill-session', '-t', session], capture_output=True)
        child.wait(timeout=HANG_TIMEOUT)


def test_dropped_events_are_counted_in_the_title():
    """A ring buffer far too small for the busy child (4 KiB, drained every 50 ms): its
    events are dropped, and every snapshot after the first says how many."""
    child = busy(5)
    try:
        out = subprocess.run([EXAMPLE, 'top', '-d', '3.5', '--ringbuf-bytes', '4K'], capture_output=True,
                             text=True, timeout=HANG_TIMEOUT)
    finally:
        child.wait(timeout=HANG_TIMEOUT)
    assert out.returncode == 0, out.stderr
    titles = [s.splitlines()[0] for s in out.stdout.split('\n\n') if s.strip()]
    assert len(titles) >= 2
    for title in titles[1:]:
        assert re.fullmatch(r'example top \S+: \d+ processes, \d+ events/s over [\d.]+s, [1-9]\d* dropped', title), title
