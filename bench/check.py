"""check.py: what the workload really did, to check captured payloads against.

The write payload definition mirrors bench/payload.h; the exec arguments come from the
workload itself (`wload argv OP`).
"""
import subprocess

ALNUM = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TABLE_LEN = 65536
PREFIX_LEN = 16



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


def exec_argv(wload, op):
    """The argv wload's exec operation op gives each child, as strings."""
    out = subprocess.run([wload, "argv", op], stdout=subprocess.PIPE, check=True).stdout
    return [a.decode("utf-8", "surrogateescape") for a in out.split(b"\0")[:-1]]


def argv_exact(argv, want):
    return list(argv) == want
