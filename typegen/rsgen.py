"""rsgen.py: Rust spellings for types.gen.rs: names, literals and field types."""

# Keywords a raw identifier (r#name) can stand for; the rest cannot be raw at all.
RAW_KEYWORDS = frozenset('''as async await box break const continue do dyn else enum extern
false final fn for if impl in let loop macro match mod move mut override priv pub ref
return static struct trait true try type typeof unsafe unsized use virtual where while
yield abstract become'''.split())
NEVER_RAW = frozenset({'self', 'Self', 'super', 'crate', '_'})

# schema type: Rust type in the #[repr(C)] payload struct (bool is a byte there, as in C;
# ip is struct bootstrap_ip, 16 address bytes: an IPv6 address, IPv4 ones mapped)
RAW_TYPES = {'u8': 'u8', 'u16': 'u16', 'u32': 'u32', 'u64': 'u64',
             's8': 'i8', 's16': 'i16', 's32': 'i32', 's64': 'i64', 'bool': 'u8', 'ip': '[u8; 16]'}
# C scalar type of a mirrored struct (cstructs.py): Rust type
C_TYPES = {'__u8': 'u8', '__u16': 'u16', '__u32': 'u32', '__u64': 'u64',
           '__s8': 'i8', '__s16': 'i16', '__s32': 'i32', '__s64': 'i64',
           'uint8_t': 'u8', 'uint16_t': 'u16', 'uint32_t': 'u32', 'uint64_t': 'u64',
           'int8_t': 'i8', 'int16_t': 'i16', 'int32_t': 'i32', 'int64_t': 'i64', 'size_t': 'usize', 'char': 'u8'}


def camel(ident):
    """syscalls_sys_enter_openat -> SyscallsSysEnterOpenat; STR_BLOCK -> StrBlock."""
    return ''.join(part[:1].upper() + part[1:].lower() if part.isupper() else part[:1].upper() + part[1:]
                   for part in ident.split('_') if part)


def rust_ident(name):
    """A schema name (a C identifier) as a Rust field name."""
    if name in NEVER_RAW:
        return name + '_'
    return 'r#' + name if name in RAW_KEYWORDS else name


def rust_string(text):
    """A Rust string literal body: printable ASCII as is, anything else escaped."""
    return ''.join(c if 0x20 <= ord(c) < 0x7f and c not in '"\\' else
                   {'"': '\\"', '\\': '\\\\'}.get(c, f'\\u{{{ord(c):x}}}') for c in text)


def rust_doc(text):
    """Prose (a C comment, an event's comment) as a #[doc] string: as rust_string, and
    brackets escaped, which rustdoc would take for links ("[vdso]")."""
    return rust_string(text).replace('[', '\\\\[').replace(']', '\\\\]')


def raw_type(f):
    """A payload field's type in the #[repr(C)] mirror."""
    return 'Var' if f.is_var else RAW_TYPES[f.type]


def key_type(part):
    """An aggregation key member's type in the key's #[repr(C)] mirror: a comm is its 16
    NUL-padded bytes."""
    return '[u8; 16]' if part.type == 'comm' else RAW_TYPES[part.type]


def view_type(f):
    """A payload field's type in the typed view: bool as bool, variable fields as bytes
    with flags, and integers that can be lost as Option."""
    if f.is_var:
        return "VarField<'a>"
    ty = 'bool' if f.type == 'bool' else RAW_TYPES[f.type]
    return f'Option<{ty}>' if f.may_be_lost else ty


# Mirrored C names whose Rust name says more than the C one without its prefix.
MIRROR_NAMES = {'bootstrap_type': 'FieldType'}


def mirror_name(c):
    """A mirrored struct's or enum's Rust name: struct bootstrap_event_stats -> EventStats."""
    return MIRROR_NAMES.get(c.name) or camel(c.name[len('bootstrap_'):])


def c_rust_type(c_type):
    """A C scalar type's Rust name."""
    return C_TYPES[c_type]


def member_type(m):
    """A mirrored struct member's Rust type."""
    ty = mirror_name(m.struct) if m.struct else C_TYPES[m.c_type]
    return f'[{ty}; {m.count}]' if m.count is not None else ty


def member_default(m):
    """A mirrored struct member's zero value (arrays of any length: derive(Default) stops
    at 32 elements)."""
    value = f'{mirror_name(m.struct)}::default()' if m.struct else '0'
    return f'[{value}; {m.count}]' if m.count is not None else value
