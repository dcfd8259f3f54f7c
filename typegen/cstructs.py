"""cstructs.py: C structs, enums and constants read from the headers that define them.

The record header and variable-field descriptor of the wire protocol
(include/bootstrap_protocol.h), and the stats, the log levels, the aggregation views and
the reflection table's enums of the public API (c/bootstrap.h) are each defined once, in
C; the kinds of probe (enum bootstrap_kind) in kinds.py, which mirrors them through
kind_enum(). Bindings in other languages (types.gen.rs) are generated from this reading
rather than written again by hand, and json.gen.c asserts every size and offset read here
(and every enum value) against the C compiler's, so a header this reader gets wrong does
not build. The limits typegen shares with C (#define) and what an xdp handler's packet
parse yields (struct bs_pkt, bpf/packet.bpf.h) are read here too, so Python never repeats
them. This module imports nothing of typegen's: every layer may read C.
"""
import os
import re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
PROTOCOL_H = os.path.join(ROOT, 'include', 'bootstrap_protocol.h')
BOOTSTRAP_H = os.path.join(ROOT, 'c', 'bootstrap.h')
PACKET_H = os.path.join(ROOT, 'bpf', 'packet.bpf.h')

# C scalar type: size (= alignment)
SCALARS = {'__u8': 1, '__u16': 2, '__u32': 4, '__u64': 8, '__s8': 1, '__s16': 2, '__s32': 4, '__s64': 8,
           'uint8_t': 1, 'uint16_t': 2, 'uint32_t': 4, 'uint64_t': 8, 'int8_t': 1, 'int16_t': 2,
           'int32_t': 4, 'int64_t': 8, 'size_t': 8, 'char': 1}

# What is mirrored, in order (a struct may hold the ones before it): (header, struct).
MIRRORED = ((PROTOCOL_H, 'bootstrap_header'), (PROTOCOL_H, 'bootstrap_var'),
            (BOOTSTRAP_H, 'bootstrap_event_stats'), (BOOTSTRAP_H, 'bootstrap_stats'))

# Mirrored enums: (header, enum, prefix of its constants). enum bootstrap_kind is
# generated from kinds.py, and mirrored from there (kinds.kind_enum).
MIRRORED_ENUMS = ((BOOTSTRAP_H, 'bootstrap_log_level', 'BOOTSTRAP_LOG_'),
                  (BOOTSTRAP_H, 'bootstrap_type', 'BOOTSTRAP_T_'),
                  (BOOTSTRAP_H, 'bootstrap_agg_view', 'BOOTSTRAP_AGG_'))

# One item of a struct body: a comment, a preprocessor line, the counter list's
# expansion (BOOTSTRAP_KCOUNTERS(X), one __u64 per counter), or a declaration.
ITEM = re.compile(r'\s*(?:(?P<comment>/\*.*?\*/)|(?P<pp>#[^\n]*(?:\\\n[^\n]*)*)'
                  r'|(?P<counters>BOOTSTRAP_KCOUNTERS\(\w+\))|(?P<decl>[^;/#]+;))', re.S)


class Member:
    """A scalar, a mirrored struct (`struct_`), or an array of `count` of either."""

    def __init__(self, c_type, name, count, comment, struct_=None):
        self.c_type, self.name, self.count, self.comment, self.struct = c_type, name, count, comment, struct_
        self.offset = 0

    @property
    def align(self):
        return self.struct.align if self.struct else SCALARS[self.c_type]

    @property
    def size(self):
        return (self.struct.size if self.struct else SCALARS[self.c_type]) * (self.count or 1)


class Struct:
    def __init__(self, name, members):
        self.name, self.members = name, members
        off, self.align = 0, 1
        for m in members:
            off = (off + m.align - 1) // m.align * m.align
            m.offset = off
            off += m.size
            self.align = max(self.align, m.align)
        self.size = (off + self.align - 1) // self.align * self.align


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def protocol_constant(name, path=PROTOCOL_H):
    """The value of `#define NAME <int>` in the wire protocol header."""
    m = re.search(rf'^#define {name} (\d+)\s*$', _read(path), re.M)
    if not m:
        raise RuntimeError(f'{path} defines no {name}')
    return int(m.group(1))


def kcounters(path=PROTOCOL_H):
    """The kernel's per-event counters of BOOTSTRAP_KCOUNTERS: [(name, what it counts)]."""
    m = re.search(r'^#define BOOTSTRAP_KCOUNTERS\(X\)((?:.*\\\n)*.*)$', _read(path), re.M)
    if not m:
        raise RuntimeError(f'{path} defines no BOOTSTRAP_KCOUNTERS')
    return re.findall(r'X\((\w+), "((?:[^"\\]|\\.)*)"\)', m.group(1))


def _comment_text(comment):
    return ' '.join(re.sub(r'^\s*\*\s?', '', line) for line in comment[2:-2].strip().splitlines()).strip()


def _count(text, constants):
    if text is None or text.isdigit():
        return None if text is None else int(text)
    return constants[text] if text in constants else protocol_constant(text, PROTOCOL_H)


def struct(name, path, structs=(), constants=None):
    """`struct NAME { ... };` of the header at `path`. Members are scalars, the structs in
    `structs` (read before), or arrays of them whose length is a number, a #define of the
    protocol header or one of `constants`. A comment on the line of a declaration, or
    the comment before it, documents its members."""
    m = re.search(rf'^struct {name} \{{\n(.*?)^\}};', _read(path), re.M | re.S)
    if not m:
        raise RuntimeError(f'{path} defines no struct {name}')
    body, known, constants = m.group(1), {s.name: s for s in structs}, constants or {}
    members, pending, last, last_end, pos = [], None, [], 0, 0
    for item in ITEM.finditer(body):
        if item.start() != pos:
            break
        pos = item.end()
        if item.group('comment'):
            text = _comment_text(item.group('comment'))
            # On the line of the declaration before it: that declaration's comment.
            if last and '\n' not in body[last_end:item.start('comment')]:
                for member in last:
                    member.comment = member.comment or text
            else:
                pending = text
        elif item.group('counters'):
            members += [Member('__u64', n, None, f'kernel: {what}') for n, what in kcounters()]
            pending, last = None, []
        elif item.group('decl'):
            d = re.fullmatch(r'\s*(struct \w+|\w+)\s+([^;]+);', item.group('decl'))
            c_type = d and d.group(1)
            sub = known.get(c_type[len('struct '):]) if c_type and c_type.startswith('struct ') else None
            if not d or (c_type not in SCALARS and not sub):
                raise RuntimeError(f'{path}: struct {name}: cannot read `{item.group("decl").strip()}`')
            last = []
            for decl in d.group(2).split(','):
                n = re.fullmatch(r'\s*(\w+)(?:\[(\w+)\])?\s*', decl)
                if not n:
                    raise RuntimeError(f'{path}: struct {name}: cannot read `{decl.strip()}`')
                last.append(Member(c_type, n.group(1), _count(n.group(2), constants), pending, sub))
            members += last
            last_end = item.end()
            pending = None
    if body[pos:].strip():
        raise RuntimeError(f'{path}: struct {name}: cannot read `{body[pos:].strip().splitlines()[0]}`')
    return Struct(name, members)


def mirrored(n_events):
    """Every mirrored struct, in MIRRORED's order."""
    structs = []
    for path, name in MIRRORED:
        structs.append(struct(name, path, structs, {'BOOTSTRAP_N_EVENTS': n_events}))
    return structs


class Enum:
    """`constants`: (C name, name without the prefix, value, comment), in order."""

    def __init__(self, name, prefix, constants):
        self.name, self.prefix, self.constants = name, prefix, constants


def enum(name, path, prefix):
    """`enum NAME { ... };` of the header at `path`: constants named PREFIX..., each
    optionally `= value`, each documented by a comment after it on its line."""
    m = re.search(rf'^enum {name} \{{(.*?)\}};', _read(path), re.M | re.S)
    if not m:
        raise RuntimeError(f'{path} defines no enum {name}')
    constants, value = [], 0
    # A comment continued on the next lines is joined into its first one.
    body = re.sub(r'/\*.*?\*/', lambda c: ' '.join(c.group(0).split()), m.group(1), flags=re.S)
    for line in body.splitlines():
        comment = re.search(r'/\*\s*(.*?)\s*\*/', line)
        code = re.sub(r'/\*.*?\*/', '', line)
        decls = [d.strip() for d in code.split(',') if d.strip()]
        for i, decl in enumerate(decls):
            c = re.fullmatch(rf'({prefix}(\w+))(?:\s*=\s*(\d+))?', decl)
            if not c:
                raise RuntimeError(f'{path}: enum {name}: cannot read `{decl}`')
            value = int(c.group(3)) if c.group(3) else value
            doc = comment.group(1) if comment and i == len(decls) - 1 else None
            constants.append((c.group(1), c.group(2), value, doc))
            value += 1
    return Enum(name, prefix, constants)


def mirrored_enums(kind_enum):
    """The enums mirrored from C, enum bootstrap_kind (`kind_enum`, from kinds.py) second."""
    enums = [enum(name, path, prefix) for path, name, prefix in MIRRORED_ENUMS]
    return enums[:1] + [kind_enum] + enums[1:]


def packet():
    """struct bs_pkt, what an xdp handler's packet parse yields (pkt.NAME reads member
    NAME), and the names of enum bs_pkt_proto's values, lower case, in value order."""
    ip = struct('bootstrap_ip', PROTOCOL_H)
    protos = enum('bs_pkt_proto', PACKET_H, 'BS_PROTO_')
    return struct('bs_pkt', PACKET_H, [ip]), tuple(name.lower() for _, name, _, _ in protos.constants)
