"""model.py: the event model typegen builds from events.toml.

Schema > Event > Field > Source. Objects here hold what was declared and what follows
from it (generated names, layout, which entry values a return point stashes); checking
is validate.py's job, C text is cgen.py's. Limits shared with C are read from the wire
protocol header rather than repeated here.
"""
import os
import re

from kinds import KINDS, PKT_NAMES

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOL_H = os.path.join(HERE, '..', 'include', 'bootstrap_protocol.h')


def protocol_constant(name, path=PROTOCOL_H):
    """The value of `#define NAME <int>` in the wire protocol header."""
    with open(path, encoding='utf-8') as f:
        m = re.search(rf'^#define {name} (\d+)\s*$', f.read(), re.M)
    if not m:
        raise RuntimeError(f'{path} defines no {name}')
    return int(m.group(1))


FIELD_MAX_BYTES = protocol_constant('BOOTSTRAP_FIELD_MAX_BYTES')
MAX_FIELDS = protocol_constant('BOOTSTRAP_MAX_FIELDS')
TARGET_NAME_MAX = protocol_constant('BOOTSTRAP_TARGET_NAME_MAX')
STACK_FRAME_BYTES = 8  # a stack field holds __u64 addresses
ARENA_ALIGN = protocol_constant('BOOTSTRAP_ARENA_ALIGN')

# type: (C type, size, signed)
INT_TYPES = {
    'u8': ('__u8', 1, False), 'u16': ('__u16', 2, False), 'u32': ('__u32', 4, False),
    'u64': ('__u64', 8, False), 's8': ('__s8', 1, True), 's16': ('__s16', 2, True),
    's32': ('__s32', 4, True), 's64': ('__s64', 8, True), 'bool': ('__u8', 1, False),
}
VAR_TYPES = {'char[]': 'BYTES', 'char[][]': 'STR_BLOCK', 'char*[]': 'STR_ARRAY', 'stack': 'STACK'}
# Fixed-size values that are not integers: type: (C type, size, alignment).
FIXED_TYPES = {'ip': ('struct bootstrap_ip', 16, 1)}


class Source:
    """Where a value comes from. kind: arg, ret, ctx, dataloc, task, auxv (an entry of the
    auxiliary vector), entry_arg, elapsed, target, kstack, ustack, pkt (a field of the
    parsed packet, xdp), or deref (an integer read through the pointer `inner` yields)."""

    def __init__(self, kind, arg=None, chain=(), inner=None):
        self.kind, self.arg, self.chain, self.inner = kind, arg, tuple(chain), inner
        # task.A.B: set by validation when the chain ends in kernel bytes (an array or a
        # pointer member, as task.real_parent.comm) rather than in an address held as an
        # integer (task.mm.arg_start); that decides the default of `mem`.
        self.in_kernel = False

    @staticmethod
    def parse(text):
        if not isinstance(text, str):
            return None
        if text.startswith('*'):
            inner = Source.parse(text[1:])
            return Source('deref', inner=inner) if inner else None
        m = re.fullmatch(r'(entry\.)?args\[(\d+)\]', text)
        if m:
            return Source('entry_arg' if m.group(1) else 'arg', int(m.group(2)))
        if text in ('ret', 'elapsed_ns', 'target', 'kstack', 'ustack'):
            return Source({'elapsed_ns': 'elapsed'}.get(text, text))
        m = re.fullmatch(r'ctx\.([A-Za-z_]\w*)', text)
        if m:
            return Source('ctx', m.group(1))
        m = re.fullmatch(r'(pkt|auxv)\.([A-Za-z_]\w*)', text)
        if m:
            return Source(m.group(1), m.group(2))
        m = re.fullmatch(r'dataloc\(([A-Za-z_]\w*)\)', text)
        if m:
            return Source('dataloc', m.group(1))
        m = re.fullmatch(r'task((?:\.[A-Za-z_]\w*)+)', text)
        if m:
            return Source('task', chain=m.group(1)[1:].split('.'))
        return None

    def walk(self):
        """This source and the one it dereferences, if any."""
        yield self
        if self.inner:
            yield from self.inner.walk()

    @property
    def from_entry(self):
        return any(s.kind in ('entry_arg', 'elapsed') for s in self.walk())


class Field:
    def __init__(self, raw, index):
        self.raw, self.index = raw, index
        self.name = raw.get('name')
        self.type = raw.get('type')
        self.src = None
        self.end = None
        self.len_field = None
        self.when_c = None
        self.var_index = -1
        self.offset = 0
        self.mem = None  # set by validation: where a pointer source points
        # after_exec: (from, end) sources of the value in the new image, when a successful
        # execve replaced the memory the arguments pointed into (end None for char[]).
        self.exec_src = self.exec_end = None
        self.exec_mem = None

    @property
    def bit(self):
        """This field's bit in the header's truncated/lost masks."""
        return 1 << self.index

    @property
    def is_var(self):
        return self.type in VAR_TYPES

    @property
    def is_int(self):
        return self.type in INT_TYPES

    @property
    def c_type(self):
        if self.is_var:
            return 'struct bootstrap_var'
        return FIXED_TYPES[self.type][0] if self.type in FIXED_TYPES else INT_TYPES[self.type][0]

    @property
    def size(self):
        if self.is_var:
            return 8
        return FIXED_TYPES[self.type][1] if self.type in FIXED_TYPES else INT_TYPES[self.type][1]

    @property
    def align(self):
        if self.is_var:
            return 4
        return FIXED_TYPES[self.type][2] if self.type in FIXED_TYPES else self.size

    @property
    def enum_type(self):
        return 'BOOTSTRAP_T_' + (VAR_TYPES[self.type] if self.is_var else self.type.upper())

    @property
    def signed(self):
        return self.is_int and INT_TYPES[self.type][2]

    @property
    def names(self):
        """The names an integer's values are shown by (pkt.proto), or None."""
        return PKT_NAMES.get(self.src.arg) if self.src and self.src.kind == 'pkt' else None

    @property
    def max(self):
        return self.raw.get('max')

    @property
    def max_bytes(self):
        """The most bytes the kernel writes for this variable field (fields.bpf.h), which
        bounds the length user space accepts: a stack's max is in frames, and a char*[]
        block may end one byte past max, with the NUL of a last string cut there."""
        if self.type == 'stack':
            return self.max * STACK_FRAME_BYTES
        return self.max + 1 if self.type == 'char*[]' else self.max

    @property
    def sources(self):
        return [s for s in (self.src, self.end) if s]

    @property
    def needs_entry(self):
        """Read from the stashed entry (or sized by a field that is): lost without one."""
        return (any(s.from_entry for s in self.sources) or
                bool(self.len_field and self.len_field.needs_entry))

    @property
    def reads_user(self):
        """Reads user memory (which can fault at a syscall entry): a variable field, or an
        integer read through a pointer, whose `mem` is user."""
        return self.mem == 'user' and (self.is_var or any(s.kind == 'deref' for s in self.sources))

    @property
    def after_exec(self):
        return self.exec_src is not None

    @property
    def may_be_lost(self):
        """An integer field that can come out lost (JSON null): no entry, or a read fault."""
        return self.needs_entry or any(s.kind == 'deref' for s in self.sources)


class Event:
    def __init__(self, category, name, raw, index):
        self.category, self.name, self.raw, self.index = category, name, raw, index
        self.id = raw.get('id')
        self.comment = raw.get('comment', '')
        self.kind = KINDS.get(raw.get('kind', 'tracepoint'))
        self.runtime = raw.get('runtime', False) is True
        self.opt_in = raw.get('opt_in', False) is True
        self.emit = raw.get('emit', True) is not False
        self.aggregations = []  # aggregate.Aggregation, in declaration order
        self.fields = []
        self.payload_size = 0

    @property
    def type_name(self):
        return f'{self.category}/{self.name}'

    @property
    def label(self):
        return f'[{self.category}.{self.name}]'

    @property
    def ident(self):
        """The C name of this event: category and name, so identity is the whole pair."""
        return f'{self.category}_{self.name}'

    @property
    def upper(self):
        return self.ident.upper()

    @property
    def prog(self):
        """The handler's name, mirroring its attach point as libbpf-tools names them."""
        return f'{self.kind.name}__{self.category}__{self.name}'

    @property
    def is_syscall(self):
        return self.kind.name == 'tracepoint' and not self.runtime and self.category == 'syscalls'

    @property
    def is_sys_enter(self):
        return self.is_syscall and self.name.startswith('sys_enter_')

    @property
    def is_sys_exit(self):
        return self.is_syscall and self.name.startswith('sys_exit_')

    @property
    def ctx_type(self):
        return self.kind.ctx_type(self)

    @property
    def target(self):
        return None if self.runtime else self.kind.target(self)

    @property
    def var_fields(self):
        return [f for f in self.fields if f.is_var]

    def _source_kinds(self):
        return {s.kind for f in self.fields for src in f.sources for s in src.walk()}

    @property
    def uses_ctx(self):
        return bool(self._source_kinds() & {'arg', 'ret', 'ctx', 'dataloc', 'kstack', 'ustack'})

    @property
    def uses_task(self):
        return bool(self._source_kinds() & {'task', 'auxv'}) or self.retries

    @property
    def needs_task(self):
        return self.uses_task or self.uses_entry

    @property
    def uses_entry(self):
        return bool(self._source_kinds() & {'entry_arg', 'elapsed'})

    @property
    def args_used(self):
        """The argument numbers the event's own sources read."""
        return sorted({s.arg for f in self.fields for src in f.sources for s in src.walk() if s.kind == 'arg'})

    @property
    def entry_args(self):
        """The argument numbers a return point reads from its entry: all that is stashed."""
        return sorted({s.arg for f in self.fields for src in f.sources for s in src.walk()
                       if s.kind == 'entry_arg'})

    @property
    def retries(self):
        """A sys_enter_* event whose user-memory reads, when they fault, are redone at
        the syscall's exit from the stashed arguments (it reads nothing else of ctx)."""
        # Not with a kernel stack: the exit's would stand in for the entry's.
        return (self.is_sys_enter and self.emit and
                not self._source_kinds() & {'ctx', 'kstack'} and any(f.reads_user for f in self.fields))

    @property
    def reread_fields(self):
        """The fields the exit that completes a faulted entry reads again (from user memory),
        or from the new image after an exec: they may be listed in "reread"."""
        return [f for f in self.fields if f.reads_user] if self.retries else []

    @property
    def reread_bits(self):
        return sum(f.bit for f in self.reread_fields)

    @property
    def new_image_fields(self):
        """The fields that say where a successful exec's new image keeps them (after_exec)."""
        return [f for f in self.fields if f.after_exec]

    @property
    def companion_section(self):
        """SEC() of the second program this event attaches: the entry stash of a return
        point, or the exit that completes a faulted syscall entry. None when it has none."""
        if self.uses_entry:
            return self.kind.entry_section(self)
        if self.retries:
            return f'tp/syscalls/sys_exit_{self.name[len("sys_enter_"):]}'
        return None

    @property
    def companion_prog(self):
        """The companion program's name (see companion_section), or None."""
        if self.uses_entry:
            return f'{self.prog}__entry'
        if self.retries:
            return f'{self.prog}__retry'
        return None

    @property
    def programs(self):
        """The names of the BPF programs this event defines."""
        return [p for p in (self.prog, self.companion_prog) if p]

    @property
    def companion_enum(self):
        return self.kind.entry_enum(self) if self.uses_entry else self.kind.enum

    @property
    def entry_lost_mask(self):
        """The fields that are lost when a return point has no recorded entry."""
        return sum(f.bit for f in self.fields if f.needs_entry)

    @property
    def lossy_fields(self):
        """The integer fields that can come out lost (bits of the header's lost mask)."""
        return sum(f.bit for f in self.fields if not f.is_var and f.may_be_lost)

    @property
    def filled_fields(self):
        """The fields the handler computes: all of them, or for an aggregate-only event
        only those its aggregations read."""
        if self.emit:
            return self.fields
        used = {f.index for a in self.aggregations for f in a.fields}
        return [f for f in self.fields if f.index in used]

    @property
    def companion_target(self):
        section = self.companion_section
        if section and section.startswith('tp/'):
            return section[len('tp/'):]
        return self.target


class Schema:
    def __init__(self, path, events, defaults):
        self.path, self.events, self.defaults = path, events, defaults
        self.aggregations = []  # every event's, numbered (aggregate.number)


def natural_layout(members):
    """Sets each member's offset as a C compiler lays a struct out (asserted in the
    generated header); returns the struct's size. Members have size and align."""
    off, align = 0, 1
    for m in members:
        off = (off + m.align - 1) // m.align * m.align
        m.offset = off
        off += m.size
        align = max(align, m.align)
    return (off + align - 1) // align * align


def layout(ev):
    ev.payload_size = natural_layout(ev.fields)
