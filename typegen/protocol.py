"""protocol.py: the wire protocol header (include/bootstrap_protocol.h) read as data.

The C header is the one definition of the records the kernel writes. Bindings in other
languages (types.gen.rs) are generated from this reading rather than written again by
hand, and events.gen.h asserts every offset read here against the C compiler's, so a
header this reader gets wrong does not build.
"""
import re

from model import PROTOCOL_H, protocol_constant

# C scalar type: size
SCALARS = {'__u8': 1, '__u16': 2, '__u32': 4, '__u64': 8, '__s8': 1, '__s16': 2, '__s32': 4, '__s64': 8, 'char': 1}

# The structs other languages mirror: the record header and the variable-field descriptor.
MIRRORED = ('bootstrap_header', 'bootstrap_var')


class Member:
    """One member of a protocol struct: a scalar, or an array of `count` of them."""

    def __init__(self, c_type, name, count, comment):
        self.c_type, self.name, self.count, self.comment = c_type, name, count, comment
        self.offset = 0

    @property
    def elem_size(self):
        return SCALARS[self.c_type]

    @property
    def size(self):
        return self.elem_size * (self.count or 1)


class Struct:
    def __init__(self, name, members):
        self.name, self.members = name, members
        off, align = 0, 1
        for m in members:
            off = (off + m.elem_size - 1) // m.elem_size * m.elem_size
            m.offset = off
            off += m.size
            align = max(align, m.elem_size)
        self.size = (off + align - 1) // align * align


def _text(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def struct(name, path=PROTOCOL_H):
    """`struct NAME { ... };` of the header: one member a line, a scalar or an array of
    them (its length a number or a #define of the header), with an optional one-line
    comment after it, which becomes the member's documentation."""
    m = re.search(rf'^struct {name} \{{\n(.*?)^\}};', _text(path), re.M | re.S)
    if not m:
        raise RuntimeError(f'{path} defines no struct {name}')
    members = []
    for line in m.group(1).splitlines():
        d = re.fullmatch(r'\s*(\w+)\s+(\w+)(?:\[(\w+)\])?;\s*(?:/\*\s*(.*?)\s*\*/)?\s*', line)
        if not d or d.group(1) not in SCALARS:
            raise RuntimeError(f'{path}: struct {name}: cannot read member line `{line.strip()}`')
        count = d.group(3)
        if count is not None:
            count = int(count) if count.isdigit() else protocol_constant(count, path)
        members.append(Member(d.group(1), d.group(2), count, d.group(4)))
    return Struct(name, members)


def kcounters(path=PROTOCOL_H):
    """The kernel's per-event counters of BOOTSTRAP_KCOUNTERS: [(name, what it counts)]."""
    m = re.search(r'^#define BOOTSTRAP_KCOUNTERS\(X\)((?:.*\\\n)*.*)$', _text(path), re.M)
    if not m:
        raise RuntimeError(f'{path} defines no BOOTSTRAP_KCOUNTERS')
    return re.findall(r'X\((\w+), "((?:[^"\\]|\\.)*)"\)', m.group(1))
