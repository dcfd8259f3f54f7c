"""ssl/*: TLS plaintext from OpenSSL's libssl.so.3, traced with
`./example -e 'ssl/*' -- /usr/bin/python3 tls_pair.py …`: a 20 KiB request and a 20 KiB
response over one connection on 127.0.0.1 (a self-signed certificate made at test
time), each reassembled per SSL pointer and direction from the events' data, in order,
exactly; and a plain `./example` (no -e) traces none of it.

What exact means through JSON: a string is the bytes as UTF-8, invalid bytes rendered
U+FFFD (the output contract). So both bodies are valid UTF-8 whose exactness survives
the output: the request is the 256 code points U+0000..U+00FF over and over (every
control byte escaped, NUL and DEL included, and two-byte sequences), the response text
of one- to four-byte characters. A call boundary may cut a character; each event is
then compared with its exact byte range rendered as the contract says (the lengths are
integers, exact; only the cut character's bytes show as U+FFFD). Raw bytes of every
value, byte for byte, are tests/e2e/test_tls.c's, through the library.
"""
import pytest

from conftest import ROOT, read_ndjson, run_example, stats_counts

TLS_PAIR = ROOT / "tests" / "fixtures" / "tls_pair.py"
# Debian's python3, linked to the system's libssl.so.3 (a python3 earlier on PATH may
# bring its own OpenSSL, which the events do not probe).
PYTHON = "/usr/bin/python3"
BODY_BYTES = 20 * 1024
# Python's ssl module calls the _ex variants (see `nm -D` of its _ssl module).
DATA_BYTES = {"ssl/ssl_write_ex": "written", "ssl/ssl_read_ex": "readbytes"}


def utf8_of_exactly(chars, size):
    """The UTF-8 of `chars` repeated and cut at a character boundary, then padded with
    ASCII to exactly `size` bytes."""
    unit = "".join(chars).encode()
    data = (unit * (size // len(unit) + 1))[:size].decode(errors="ignore").encode()
    return data + b"." * (size - len(data))


REQUEST = utf8_of_exactly(map(chr, range(256)), BODY_BYTES)
RESPONSE = utf8_of_exactly("plain ASCII, caf\u00e9 \u00fcber, \u65e5\u672c\u8a9e \u2014 \u20ac, "
                           "\U0001F680\U0001F512 \"quoted\" \\ end\n", BODY_BYTES)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """tls_pair.py's arguments: a folder for its certificate (made by the first run),
    and the two bodies."""
    d = tmp_path_factory.mktemp("tls")
    (d / "request").write_bytes(REQUEST)
    (d / "response").write_bytes(RESPONSE)
    return [d, d / "request", d / "response"]


def check_stream(events, expected):
    """Events of one SSL pointer and direction, in order, against the bytes sent. With
    a timeout Python's sockets are non-blocking: a call may fail (ret 0,
    SSL_ERROR_WANT_READ) and be made again; a failed call moves no data."""
    offset = 0
    for ev in events:
        if ev["payload"]["ret"] != 1:
            assert ev["payload"]["ret"] == 0 and ev["payload"]["data"] == "", ev["payload"]
            continue
        n = ev["payload"][DATA_BYTES[ev["event_type"]]]
        assert ev["payload"]["data"] == expected[offset:offset + n].decode(errors="replace")
        offset += n
    assert offset == len(expected)


def test_plaintext_both_ways_exactly(tmp_path, tls_files):
    assert REQUEST.decode() and RESPONSE.decode()  # valid UTF-8, each BODY_BYTES long
    assert len(REQUEST) == len(RESPONSE) == BODY_BYTES
    out = tmp_path / "trace.ndjson"
    proc = run_example("-e", "ssl/*", "--stats", "-o", out, "--", PYTHON, TLS_PAIR, *tls_files)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    events = read_ndjson(out)
    assert {ev["event_type"] for ev in events} == set(DATA_BYTES)
    assert all("truncated" not in ev and "lost" not in ev for ev in events)
    # The client is the main thread, the server another thread of the same process:
    # one SSL pointer each, and each pointer's reads and writes are one stream each.
    (pid,) = {ev["pid"] for ev in events}
    streams = {}
    for ev in events:
        streams.setdefault((ev["payload"]["ssl"], ev["event_type"]), []).append(ev)
    (client,) = {ev["payload"]["ssl"] for ev in events if ev["tid"] == pid}
    (server,) = {ev["payload"]["ssl"] for ev in events if ev["tid"] != pid}
    assert client != server
    assert sorted(streams) == sorted((ssl, t) for ssl in (client, server) for t in DATA_BYTES)
    check_stream(streams[client, "ssl/ssl_write_ex"], REQUEST)
    check_stream(streams[server, "ssl/ssl_read_ex"], REQUEST)
    check_stream(streams[server, "ssl/ssl_write_ex"], RESPONSE)
    check_stream(streams[client, "ssl/ssl_read_ex"], RESPONSE)
    # Nothing dropped or cut anywhere, and every return found its entry.
    counts = stats_counts(proc.stderr)
    assert counts["delivered"] == counts["emitted"] == len(events)
    assert {k: v for k, v in counts.items() if k not in ("delivered", "emitted") and v} == {}


def test_plaintext_is_not_traced_by_default(tmp_path, tls_files):
    # No -e: the default events only. The ssl/* (and bash/, kernel/) events are opt-in,
    # so none of them, and no warning about them (this kernel has no kprobes).
    out = tmp_path / "trace.ndjson"
    proc = run_example("-o", out, "--", PYTHON, TLS_PAIR, *tls_files)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stderr == b""
    types = {ev["event_type"] for ev in read_ndjson(out)}
    assert "syscalls/sys_enter_openat" in types
    assert not {t for t in types if t.split("/")[0] in ("ssl", "bash", "kernel")}
