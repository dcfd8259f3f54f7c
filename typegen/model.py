"""model.py: the event model typegen builds from events.toml.

Schema > Event > Field > Source, and an event's Aggregations > KeyParts. Objects here
hold what was declared and what follows from it (generated names, layout, which entry
values a return point stashes); validate.py reads the TOML, checks it and fills them (the
model never sees the TOML's tables), cgen.py turns them into C. Limits shared with C are
read from the wire protocol header rather than repeated here.
"""
import re

from cstructs import protocol_constant
from kinds import PKT_NAMES

FIELD_MAX_BYTES = protocol_constant('BOOTSTRAP_FIELD_MAX_BYTES')
MAX_FIELDS = protocol_constant('BOOTSTRAP_MAX_FIELDS')
TARGET_NAME_MAX = protocol_constant('BOOTSTRAP_TARGET_NAME_MAX')
STACK_FRAME_BYTES = 8  # a stack field holds __u64 addresses
ARENA_ALIGN = protocol_constant('BOOTSTRAP_ARENA_ALIGN')
HIST_BUCKETS = protocol_constant('BOOTSTRAP_HIST_BUCKETS')
COMM_LEN = protocol_constant('BOOTSTRAP_COMM_LEN')

# What a name that becomes part of a C identifier (category, event, field, aggregation) may be.
IDENT = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
# unwind = "dwarf": the saved user registers, then the stack copied in chunks of this size.
USTACK_REGS_BYTES = protocol_constant('BOOTSTRAP_USTACK_REGS_BYTES')
USTACK_CHUNK = protocol_constant('BOOTSTRAP_USTACK_CHUNK')

# type: (C type, size, signed)
INT_TYPES = {
    'u8': ('__u8', 1, False), 'u16': ('__u16', 2, False), 'u32': ('__u32', 4, False),
    'u64': ('__u64', 8, False), 's8': ('__s8', 1, True), 's16': ('__s16', 2, True),
    's32': ('__s32', 4, True), 's64': ('__s64', 8, True), 'bool': ('__u8', 1, False),
}
VAR_TYPES = {'char[]': 'BYTES', 'char[][]': 'STR_BLOCK', 'char*[]': 'STR_ARRAY', 'stack': 'STACK'}
# Fixed-size values that are not integers: type: (C type, size, alignment).
FIXED_TYPES = {'ip': ('struct bootstrap_ip', 16, 1)}


def schema_type(c_type):
    """The type a C value declares as in the schema (__u8: u8, struct bootstrap_ip: ip)."""
    return next(t for t, spec in {**INT_TYPES, **FIXED_TYPES}.items() if spec[0] == c_type)


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

    def walk(self):
        """This source and the one it dereferences, if any."""
        yield self
        if self.inner:
            yield from self.inner.walk()

    @property
    def from_entry(self):
        return any(s.kind in ('entry_arg', 'elapsed') for s in self.walk())


class Field:
    def __init__(self, index, name, type_):
        self.index, self.name, self.type = index, name, type_
        self.src = None
        self.end = None
        self.len_field = None
        # when: the condition as declared, split into text and the earlier Fields it names.
        self.when = None
        self.max = None  # variable fields: bytes (a stack: frames)
        self.max_items = None  # char*[]: strings
        self.shift = self.mask = None  # integers: applied to the value read
        self.var_index = -1
        self.offset = 0
        self.mem = None  # set by validation: where a pointer source points
        self.unwind = 'fp'  # a stack: walked by frame pointers in the kernel, or 'dwarf'
        self.copy = 0       # unwind = 'dwarf': bytes of user stack copied per event
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
    def max_bytes(self):
        """The most bytes the kernel writes for this variable field (fields.bpf.h), which
        bounds the length user space accepts: a stack's max is in frames, and a char*[]
        block may end one byte past max, with the NUL of a last string cut there. A stack
        unwound from its unwind tables is the saved registers and the stack copied."""
        if self.unwind == 'dwarf':
            return USTACK_REGS_BYTES + self.copy
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
    def __init__(self, category, name, index, kind):
        self.category, self.name, self.index, self.kind = category, name, index, kind
        self.id = None
        self.comment = ''
        self.runtime = self.opt_in = False
        self.emit = True
        self.attach = {}  # the kind's attach keys as declared: key: value
        self.declared_ctx_type = None  # ctx_type, when declared
        self.aggregations = []  # in declaration order
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
    def __init__(self, path, events):
        self.path, self.events = path, events
        self.aggregations = []  # every event's, in the generated table's order


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


# Header values an aggregation key may hold, and their types.
HEADER_VALUES = {'pid': 'u32', 'tid': 'u32', 'uid': 'u32', 'comm': 'comm', 'cgroup_id': 'u64', 'cpu': 'u32'}
# Without a current task (xdp) only the CPU is known.
TASKLESS_VALUES = ('cpu',)


class KeyPart:
    """One member of an aggregation's key: a header value or a payload field."""

    def __init__(self, name, field=None):
        self.name, self.field = name, field
        self.type = field.type if field else HEADER_VALUES[name]
        self.offset = 0

    @property
    def c_type(self):
        if self.type == 'comm':
            return 'char'
        return self.field.c_type if self.field else INT_TYPES[self.type][0]

    @property
    def size(self):
        if self.type == 'comm':
            return COMM_LEN
        return self.field.size if self.field else INT_TYPES[self.type][1]

    @property
    def align(self):
        if self.type == 'comm':
            return 1
        return self.field.align if self.field else self.size

    @property
    def enum_type(self):
        return 'BOOTSTRAP_T_BYTES' if self.type == 'comm' else 'BOOTSTRAP_T_' + self.type.upper()


class Aggregation:
    """An event's `aggregate` entry: a per-CPU BPF hash in the kernel (key: the `by`
    values; value: a count, one sum per `sum` field, and with `hist` a log2 histogram of
    one field)."""

    def __init__(self, ev, name, by, sums, hist):
        self.event, self.name, self.by, self.sums, self.hist = ev, name, by, sums, hist
        self.index = 0      # across the schema: the generated table's order
        # An empty `by` keeps one zero __u32 (C has no empty structs), so every event
        # lands on one key.
        self.key_size = natural_layout(by) if by else 4

    @property
    def ident(self):
        return f'{self.event.ident}__{self.name}'

    @property
    def map_name(self):
        return f'bs_agg__{self.ident}'

    @property
    def key_struct(self):
        return f'struct bootstrap_aggkey_{self.ident}'

    @property
    def words(self):
        """__u64 words of a value: count, sums, histogram."""
        return 1 + len(self.sums) + (HIST_BUCKETS if self.hist else 0)

    @property
    def fields(self):
        """The payload fields the aggregation reads."""
        seen = {}
        for f in [p.field for p in self.by if p.field] + self.sums + ([self.hist] if self.hist else []):
            seen.setdefault(f.index, f)
        return list(seen.values())

    @property
    def lossy_mask(self):
        """Fields it reads that can be lost: the update is skipped then (the loss is
        counted already, as entry_missed or read_faults)."""
        return sum(f.bit for f in self.fields if f.may_be_lost)
