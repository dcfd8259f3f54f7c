"""check.py: what the workload really did, to check captured payloads against.

The write payload definition mirrors bench/payload.h and the exec arguments mirror
bench/wload.c; change them together.
"""

ALNUM = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TABLE_LEN = 65536
PREFIX_LEN = 16

EXEC_ARGV = ["/bin/true", "wload-exec", "--alpha=1", "beta"]


def _table():
    x = 1
    out = bytearray(TABLE_LEN)
    for i in range(TABLE_LEN):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = ALNUM[(x >> 16) % 62]
    return bytes(out) * 2


_TABLE = _table()


def expected_payload(seq, size):
    """The bytes of write number seq of size bytes."""
    off = (seq * 40503) % TABLE_LEN
    body = _TABLE[off:off + max(0, size - PREFIX_LEN)]
    return (b"%015d:" % seq + body)[:size]


def payload_exact(data, size):
    """True when data is, byte for byte, one of the payloads wload writes of this size
    (at least PREFIX_LEN bytes, so that the sequence number is whole)."""
    if len(data) != size:
        return False
    digits = data[:min(size, PREFIX_LEN - 1)]
    if not digits.isdigit():
        return False
    return data == expected_payload(int(digits), size)


def argv_exact(argv):
    return list(argv) == EXEC_ARGV
