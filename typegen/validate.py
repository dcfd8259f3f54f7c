"""validate.py: reads events.toml, checks it and fills the event model (model.py).

Every problem is collected (not just the first) as one line in the form
`events.toml: [category.name] field 'x': <what is wrong> (<what is allowed>)`,
so a user fixes a bad schema in one pass. The TOML's tables are only read: what they
leave out (a field's max) is set in the model. What a source means for each kind of
probe is asked of kinds.py; what the machine has is asked of the vmlinux.h index and
the tracefs given to load() or check(); nothing here writes C.
"""
import os
import re
import tomllib

import validate_aggregate
from kinds import ATTACH_VALUES, AUXV, KINDS, MAX_ARGS, MAX_FREQUENCY, PKT_SOURCES, RETURN_POINTS
from model import (FIELD_MAX_BYTES, FIXED_TYPES, IDENT, INT_TYPES, MAX_FIELDS, STACK_FRAME_BYTES, TARGET_NAME_MAX,
                   USTACK_CHUNK, USTACK_REGS_BYTES, VAR_TYPES, Event, Field, Schema, Source, layout, schema_type)

MAX_ITEMS_CAP = 1024
MAX_ITEMS_DEFAULT = 64
C_KEYWORDS = {'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double',
              'else', 'enum', 'extern', 'float', 'for', 'goto', 'if', 'int', 'long', 'register',
              'return', 'short', 'signed', 'sizeof', 'static', 'struct', 'switch', 'typedef',
              'union', 'unsigned', 'void', 'volatile', 'while', 'bool', 'true', 'false',
              'inline', 'restrict', '_Alignas', '_Alignof', '_Atomic', '_Bool', '_Complex',
              '_Generic', '_Imaginary', '_Noreturn', '_Static_assert', '_Thread_local',
              'asm', 'typeof'}
# Object-like macros in scope of the generated code: gnu11 predefines linux and unix;
# the glibc headers that the library, ./example and embedders include (signal.h,
# sys/stat.h, stdio.h) define the rest, so a payload member so named would not compile
# there (signal_deliver's sa_handler).
C_MACROS = {'NULL', 'errno', 'linux', 'unix',
            'sa_handler', 'sa_sigaction', 'si_pid', 'si_uid', 'si_status', 'si_utime', 'si_stime',
            'si_value', 'si_int', 'si_ptr', 'si_addr', 'si_addr_lsb', 'si_band', 'si_fd', 'si_timerid',
            'si_overrun', 'si_syscall', 'si_call_addr', 'si_arch', 'si_lower', 'si_upper', 'si_pkey',
            'st_atime', 'st_mtime', 'st_ctime', 'stdin', 'stdout', 'stderr',
            'sigev_notify_function', 'sigev_notify_attributes'}

ATTACH_KEYS = sorted({k for kind in KINDS.values() for k in kind.attach_keys})
EVENT_KEYS = ('id', 'comment', 'payload', 'ctx_type', 'kind', 'runtime', 'opt_in', *ATTACH_KEYS, 'emit',
              'aggregate')
FIELD_KEYS = ('name', 'type', 'from', 'max', 'mem', 'len', 'end', 'when', 'shift', 'mask',
              'max_items', 'after_exec', 'unwind', 'copy')
VAR_ONLY_KEYS = ('max', 'len', 'end', 'when', 'max_items', 'after_exec')
# What after_exec may read: the new image, through the current task.
NEW_IMAGE_SOURCES = ('task', 'auxv')
# A source kind as a person writes it, in the order messages list them.
SOURCE_TEXT = {'arg': 'args[N]', 'ret': 'ret', 'ctx': 'ctx.FIELD', 'dataloc': 'dataloc(FIELD)',
               'task': 'task.A.B', 'auxv': 'auxv.AT_NAME', 'entry_arg': 'entry.args[N]', 'elapsed': 'elapsed_ns',
               'target': 'target', 'pkt': 'pkt.FIELD', 'kstack': 'kstack', 'ustack': 'ustack'}
STACK_SOURCES = ('kstack', 'ustack')
# Frames a stack field keeps by default: the kernel's default perf_event_max_stack.
STACK_DEFAULT_FRAMES = 127
UNWIND_MODES = ('fp', 'dwarf')
# unwind = "dwarf": bytes of user stack copied per event unless `copy` says.
STACK_COPY_DEFAULT = 16384
STACK_COPY_CHUNK = USTACK_CHUNK
STACK_COPY_MAX = (FIELD_MAX_BYTES - USTACK_REGS_BYTES) // USTACK_CHUNK * USTACK_CHUNK


def kind_text(ev):
    """The event's kind of probe as messages name it."""
    if ev.kind.name == 'tracepoint' and not ev.runtime:
        return f'tracepoint {ev.type_name}'
    return f'kind {ev.kind.name}' + (' with runtime = true' if ev.runtime else '')


def sources_here(ev):
    """The sources an event's fields may use, for messages."""
    allowed = ev.kind.sources(ev)
    return 'allowed here: ' + ', '.join(text for k, text in SOURCE_TEXT.items() if k in allowed)


class SchemaError(Exception):
    def __init__(self, errors):
        super().__init__('\n'.join(errors))
        self.errors = errors


def _allowed(seq):
    return ', '.join(seq)


def parse_source(text):
    """The Source a `from` (or `end`, after_exec's) text names, or None."""
    if not isinstance(text, str):
        return None
    if text.startswith('*'):
        inner = parse_source(text[1:])
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


def _event(category, name, table, index):
    """The event of `table` as declared; check_event checks it and fills the rest."""
    kind = table.get('kind', 'tracepoint')
    ev = Event(category, name, index, KINDS.get(kind) if isinstance(kind, str) else None)
    ev.id = table.get('id')
    ev.comment = table.get('comment', '')
    ev.runtime = table.get('runtime', False) is True
    ev.opt_in = table.get('opt_in', False) is True
    ev.emit = table.get('emit', True) is not False
    ev.attach = {key: table[key] for key in ATTACH_KEYS if key in table}
    ev.declared_ctx_type = table.get('ctx_type')
    return ev


class _Checker:
    """Validates one parsed TOML document; collects errors instead of stopping."""

    def __init__(self, path, vmlinux, tracefs):
        self.path, self.vmlinux, self.tracefs = path, vmlinux, tracefs
        self.errors = []

    def err(self, where, what, allowed=None):
        tail = f' ({allowed})' if allowed else ''
        self.errors.append(f'{self.path}: {where}: {what}{tail}')

    def check_document(self, doc):
        version = doc.get('version', 1)
        if version != 1:
            self.err('version', f'schema version {version!r} is not supported', 'version = 1')
        defaults = doc.get('defaults', {})
        default_max = defaults.get('max', 4096) if isinstance(defaults, dict) else 4096
        if not isinstance(default_max, int) or not 1 <= default_max <= FIELD_MAX_BYTES:
            self.err('[defaults]', f'max {default_max!r} is out of range',
                     f'1..{FIELD_MAX_BYTES}, the arena field cap')
            default_max = 4096
        events, tables = [], []
        for category, table in doc.items():
            if category in ('version', 'defaults'):
                continue
            if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
                self.err(f'[{category}]', 'is not a table of events',
                         'tables like [category.name] with id, comment, payload')
                continue
            for name, raw in table.items():
                events.append(_event(category, name, raw, len(events)))
                tables.append(raw)
        for ev, raw in zip(events, tables):
            self.check_event(ev, raw, default_max)
        self.check_unique(events)
        schema = Schema(self.path, events)
        schema.aggregations = [a for ev in events for a in ev.aggregations]
        for i, a in enumerate(schema.aggregations):
            a.index = i
        return schema

    def check_unique(self, events):
        by_id, by_ident, by_prog = {}, {}, {}
        for ev in events:
            if isinstance(ev.id, int):
                if ev.id in by_id:
                    self.err(ev.label, f'duplicate id {ev.id}',
                             f'already used by {by_id[ev.id].label}; ids are unique and never reused')
                by_id.setdefault(ev.id, ev)
            key = ev.upper  # the generated C names are category_name, enum constants upper case
            if key in by_ident:
                self.err(ev.label, f'generated name {ev.ident!r} collides with {by_ident[key].label}',
                         'category_name must differ from every other event\'s, ignoring case')
            by_ident.setdefault(key, ev)
            # Program names join kind, category and name with __ (and a companion's suffix),
            # so names with __ in them can meet even when category_name differs.
            for prog in ev.programs if ev.kind else ():
                other = by_prog.setdefault(prog, ev)
                if other is not ev:
                    self.err(ev.label, f'BPF program name {prog!r} collides with {other.label}\'s',
                             'programs are named kind__category__name, a companion with __entry or '
                             '__retry after it: rename one of the two events')

    def check_kind(self, ev, table):
        """The kind and its attach keys; False when the event cannot be checked further."""
        kind = table.get('kind', 'tracepoint')
        if ev.kind is None:
            self.err(ev.label, f'kind {kind!r} is unknown', 'allowed: ' + _allowed(KINDS))
            return False
        if not isinstance(table.get('runtime', False), bool):
            self.err(ev.label, f'runtime {table["runtime"]!r} is not true or false',
                     'runtime = true: attached only to targets given at run time')
        for key in ATTACH_KEYS:
            if key in table and key not in ev.kind.attach_keys:
                self.err(ev.label, f'key {key!r} is not for kind {ev.kind.name}',
                         f'kind {ev.kind.name} takes ' + _allowed(ev.kind.attach_keys) if ev.kind.attach_keys
                         else 'a tracepoint is named by [category.name]')
        keys_ok = True  # every attach key there and well formed: the target can be checked
        for key in ev.kind.attach_keys:
            value = table.get(key)
            if ev.runtime:
                if value is not None:  # the loader takes no declared target for such an event
                    self.err(ev.label, f'key {key!r} would be ignored with runtime = true',
                             'such an event attaches only to targets given at run time: drop one of the two')
                continue
            if value is None:
                keys_ok = False
                self.err(ev.label, f'kind {ev.kind.name} needs {key!r}',
                         f'{ATTACH_VALUES[key][0]}; or runtime = true to name targets at run time')
                continue
            if key == 'frequency':  # a number, not a name
                integer = isinstance(value, int) and not isinstance(value, bool)
                problem = ('is not an integer' if not integer else
                           'is out of range' if not 1 <= value <= MAX_FREQUENCY else None)
            else:
                # A colon would split the target the loader reads as binary:function; a
                # symbol has no white space either (a path may).
                problem = ('is not a string' if not isinstance(value, str) else 'is empty' if not value else
                           'contains a colon' if ':' in value else
                           'contains white space' if key == 'function' and re.search(r'\s', value) else None)
            if problem:
                keys_ok = False
                self.err(ev.label, f'{key} {value!r} {problem}', ', without '.join(v for v in ATTACH_VALUES[key] if v))
        if keys_ok and ev.target and len(ev.target.encode()) >= TARGET_NAME_MAX:
            self.err(ev.label, f'target {ev.target!r} is {len(ev.target.encode())} bytes long',
                     f"at most {TARGET_NAME_MAX - 1}, the size of the loader's target names")
        return True

    def check_event(self, ev, table, default_max):
        for part in (ev.category, ev.name):
            if not IDENT.match(part):
                self.err(ev.label, f'{part!r} is not an identifier', 'letters, digits, _; not starting with a digit')
        for key in table:
            if key not in EVENT_KEYS:
                self.err(ev.label, f'unknown key {key!r}', 'allowed: ' + _allowed(EVENT_KEYS))
        if not self.check_kind(ev, table):
            return
        if 'id' not in table:
            self.err(ev.label, 'missing id', 'a unique integer 0..4294967295')
        elif not isinstance(ev.id, int) or isinstance(ev.id, bool) or not 0 <= ev.id <= 0xffffffff:
            self.err(ev.label, f'id {ev.id!r} is not valid', 'a unique integer 0..4294967295')
        if not isinstance(ev.comment, str):
            self.err(ev.label, 'comment is not a string')
        if not isinstance(table.get('opt_in', False), bool):
            self.err(ev.label, f'opt_in {table["opt_in"]!r} is not true or false',
                     'opt_in = true: traced only when a pattern of the event list selects it')
        # The payload is checked even when ctx_type is wrong, just not against its struct.
        ctx_type_ok = True
        if 'ctx_type' in table:
            ctx_type_ok = False
            if ev.kind.name != 'tracepoint' or ev.runtime:
                self.err(ev.label, f"key 'ctx_type' is not for {kind_text(ev)}",
                         'only a tracepoint named by [category.name] has a context struct to choose')
            elif not isinstance(table['ctx_type'], str) or not IDENT.match(table['ctx_type']):
                self.err(ev.label, f'ctx_type {table["ctx_type"]!r} is not a struct name',
                         'the name after `struct`, e.g. trace_event_raw_sched_wakeup_template')
            else:
                ctx_type_ok = True
        payload = table.get('payload', [])
        if not isinstance(payload, list) or not all(isinstance(f, dict) for f in payload):
            self.err(ev.label, 'payload is not a list of field tables',
                     '{ name = "...", type = "...", from = "..." }')
            return
        seen = {}
        for raw in payload:
            f = Field(len(ev.fields), raw.get('name'), raw.get('type'))
            self.check_field(ev, f, raw, seen, default_max)
            if f.name is not None:
                seen.setdefault(f.name, f)
            ev.fields.append(f)
        if len(ev.fields) > MAX_FIELDS:
            self.err(ev.label, f'{len(ev.fields)} fields are too many',
                     f"at most {MAX_FIELDS}: each is a bit of the header's truncated and lost masks")
        nvar = 0
        for f in ev.fields:
            if f.type in VAR_TYPES:
                f.var_index, nvar = nvar, nvar + 1
        if not ev.kind.has_task and ev.var_fields:
            # The arena head is per CPU and unguarded: a handler that can interrupt
            # another on its CPU (XDP, in softirq) must never write there.
            self.err(ev.label, f'kind {ev.kind.name} takes no variable fields',
                     'integer and ip fields only: its handler may interrupt another\'s arena write')
        dwarf = [f for f in ev.fields if f.unwind == 'dwarf']
        for f in dwarf[1:]:
            self.err(f'{ev.label} field {f.name!r}', 'a second stack with unwind = "dwarf"',
                     'one per event: it is the user stack')
        self.check_new_image(ev)
        validate_aggregate.check(self, ev, table)
        uses_ctx = any(s.kind in ('ctx', 'dataloc') for f in ev.fields for src in f.sources for s in src.walk())
        if ctx_type_ok and ev.ctx_type and uses_ctx:
            self.check_ctx_type(ev)

    def check_ctx_type(self, ev):
        if self.vmlinux is None or self.vmlinux.has_struct(ev.ctx_type):
            return
        near = self.vmlinux.nearest_structs(ev.ctx_type, ev.name)
        hint = 'set ctx_type to the tracepoint\'s context struct'
        if near:
            hint += '; candidates: ' + ', '.join(near)
        self.err(ev.label, f'context struct {ev.ctx_type} is not in {self.vmlinux.path}', hint)

    def check_field(self, ev, f, raw, earlier, default_max):
        where = f'{ev.label} field {f.name!r}' if isinstance(f.name, str) else f'{ev.label} field'
        for key in raw:
            if key not in FIELD_KEYS:
                self.err(where, f'unknown key {key!r}', 'allowed: ' + _allowed(FIELD_KEYS))
        if not isinstance(f.name, str) or not IDENT.match(f.name) or f.name in C_KEYWORDS | C_MACROS:
            self.err(where, f'name {f.name!r} is not a valid identifier',
                     'letters, digits, _; not starting with a digit; not a C keyword or macro')
            f.name = None  # no later check looks it up
        elif f.name in earlier:
            self.err(where, 'duplicate field name', 'names are unique within an event')
        if not isinstance(f.type, str) or f.type not in {**INT_TYPES, **VAR_TYPES, **FIXED_TYPES}:
            self.err(where, f'unknown type {f.type!r}',
                     'allowed: ' + _allowed(list(INT_TYPES) + list(VAR_TYPES) + list(FIXED_TYPES)))
            f.type = None  # checked no further, and no later check takes it for a type
            return
        if 'from' not in raw:
            self.err(where, 'missing from', sources_here(ev))
        else:
            f.src = self.check_source(ev, where, 'from', raw['from'])
        if f.src and f.src.kind == 'pkt' and f.src.arg in PKT_SOURCES:
            want = schema_type(PKT_SOURCES[f.src.arg])
            if (want == 'ip') != (f.type == 'ip'):
                self.err(where, f'pkt.{f.src.arg} is {"an address" if want == "ip" else "an integer"}',
                         'type = "ip"' if want == 'ip' else 'an integer type, e.g. ' + want)
        elif f.type in FIXED_TYPES:
            self.err(where, f'type {f.type!r} comes from the packet only', 'pkt.saddr, pkt.daddr')
        for key in ('shift', 'mask'):
            if key in raw and not f.is_int:
                self.err(where, f'key {key!r} is only for integer fields', 'u8..u64, s8..s64, bool')
        for key in ('unwind', 'copy'):
            if key in raw and f.type != 'stack':
                self.err(where, f'key {key!r} is only for stack fields', 'type = "stack", from = "ustack"')
        if f.type == 'stack' or (f.src and f.src.kind in STACK_SOURCES):
            self.check_stack_field(f, raw, where, earlier)
        elif f.is_var:
            self.check_var_field(ev, f, raw, where, earlier, default_max)
        else:
            self.check_int_field(ev, f, raw, where)

    def check_source(self, ev, where, key, text):
        src = parse_source(text)
        if src is None:
            self.err(where, f'unknown source {key} = {text!r}', sources_here(ev))
            return None
        if src.kind == 'deref':
            if src.inner.kind not in ('arg', 'entry_arg', 'ret'):
                self.err(where, f'{text!r}: only an argument or a return value can be dereferenced',
                         '*args[N], *entry.args[N], *ret')
                return None
        allowed = ev.kind.sources(ev)
        for s in src.walk():
            if s.kind == 'deref':
                continue
            if s.kind not in allowed:
                self.err(where, self.not_here(ev, s), sources_here(ev))
                return None
            if s.kind in ('arg', 'entry_arg'):
                self.check_arg(ev, where, s)
            elif s.kind in ('ctx', 'dataloc'):
                member = s.arg if s.kind == 'ctx' else f'__data_loc_{s.arg}'
                self.check_member(ev, where, ev.ctx_type, member, text)
            elif s.kind == 'task':
                last = self.check_chain(where, s.chain, text)
                s.in_kernel = last is not None and not last.is_integer
            elif s.kind == 'auxv' and s.arg not in AUXV:
                self.err(where, f'{text!r}: auxv.{s.arg} is not an auxiliary vector entry typegen knows',
                         'auxv.' + ', auxv.'.join(AUXV))
                return None
            elif s.kind == 'pkt' and s.arg not in PKT_SOURCES:
                self.err(where, f'{text!r}: the packet has no field {s.arg}',
                         'pkt.' + ', pkt.'.join(PKT_SOURCES))
                return None
        return src

    @staticmethod
    def not_here(ev, s):
        name = SOURCE_TEXT[s.kind]
        if s.kind in ('ret', 'entry_arg', 'elapsed') and not ev.kind.is_return(ev):
            return f'source {name} is only at return points: {RETURN_POINTS}'
        if s.kind == 'arg' and ev.kind.is_return(ev):
            return "source args[N] does not exist at a return point: read the entry's arguments as entry.args[N]"
        if s.kind == 'arg' and ev.kind.name == 'tracepoint':
            return (f'source args[N] does not exist for {kind_text(ev)}: '
                    'of tracepoints, only syscalls/sys_enter_* have arguments')
        return f'source {name} does not exist for {kind_text(ev)}'

    def check_arg(self, ev, where, s):
        """args[N] or entry.args[N] within what the syscall (per tracefs) or the kind has."""
        text = 'entry.args' if s.kind == 'entry_arg' else 'args'
        if ev.is_syscall:  # a sys_exit_*'s entry.args are those of its sys_enter_*
            syscall = ev.name if ev.is_sys_enter else 'sys_enter_' + ev.name[len('sys_exit_'):]
            count = self.tracefs.syscall_arg_count(syscall) if self.tracefs else None
            why = (f"{syscall} has {count} arguments (per the kernel's tracefs format)" if count is not None
                   else f'syscalls take at most {MAX_ARGS} arguments')
        else:
            count, why = None, f'{kind_text(ev)} reads at most {MAX_ARGS} arguments'
        limit = MAX_ARGS if count is None else count
        if s.arg >= limit:
            self.err(where, f'{text}[{s.arg}] does not exist: {why}',
                     f'{text}[0]..{text}[{limit - 1}]' if limit else 'none')

    def check_member(self, ev, where, struct, member, text):
        if self.vmlinux is None or not isinstance(struct, str) or not self.vmlinux.has_struct(struct):
            return  # a bad or absent context struct is reported once, by check_event
        if member not in self.vmlinux.members(struct):
            near = self.vmlinux.nearest_members(struct, member)
            self.err(where, f'{text!r}: struct {struct} has no member {member}',
                     'candidates: ' + ', '.join(near) if near else f'see struct {struct} in vmlinux.h')

    def check_chain(self, where, chain, text):
        """The chain's last member, or None (reported, or no vmlinux.h to check against)."""
        if self.vmlinux is None:
            return None
        struct = 'task_struct'
        for i, member in enumerate(chain):
            members = self.vmlinux.members(struct)
            if member not in members:
                near = self.vmlinux.nearest_members(struct, member)
                self.err(where, f'{text!r}: struct {struct} has no member {member}',
                         'candidates: ' + ', '.join(near) if near else f'see struct {struct} in vmlinux.h')
                return None
            if i + 1 < len(chain):
                nxt = members[member].pointee_struct()
                if nxt is None or not self.vmlinux.has_struct(nxt):
                    self.err(where, f'{text!r}: {struct}.{member} is not a pointer to a struct',
                             'each step but the last must be a struct pointer')
                    return None
                struct = nxt
        return members[chain[-1]]

    def check_int_field(self, ev, f, raw, where):
        for key in VAR_ONLY_KEYS:
            if key in raw:
                self.err(where, f'key {key!r} is only for variable fields', 'char[], char[][], char*[]')
        shift, mask = f.shift, f.mask = raw.get('shift'), raw.get('mask')
        if shift is not None and (not isinstance(shift, int) or not 0 <= shift <= 63):
            self.err(where, f'shift {shift!r} is out of range', '0..63')
        if mask is not None and (not isinstance(mask, int) or not 0 < mask <= 0xffffffffffffffff):
            self.err(where, f'mask {mask!r} is out of range', '1..0xffffffffffffffff')
        if f.src and f.src.kind in ('dataloc', 'target'):
            self.err(where, f'source {SOURCE_TEXT[f.src.kind]} is a string', 'use type = "char[]"')
        mem = raw.get('mem')
        if mem is not None and (not f.src or f.src.kind != 'deref'):
            self.err(where, "key 'mem' is for variable fields and integers read through a pointer",
                     'from = "*args[N]", "*entry.args[N]" or "*ret"')
        elif mem is not None and mem not in ('user', 'kernel'):
            self.err(where, f'mem {mem!r} is not valid', 'allowed: user, kernel')
        f.mem = mem or (self.default_mem(ev, f.src) if f.src else 'kernel')

    def check_var_field(self, ev, f, raw, where, earlier, default_max):
        mx = f.max = raw.get('max', default_max)
        if not isinstance(mx, int) or isinstance(mx, bool) or mx < 1:
            self.err(where, f'max {mx!r} is not a positive integer', f'1..{FIELD_MAX_BYTES}')
        elif mx > FIELD_MAX_BYTES:
            self.err(where, f'max {mx} is over the arena field cap', f'at most {FIELD_MAX_BYTES} bytes')
        mem = raw.get('mem')
        if mem is not None and mem not in ('user', 'kernel'):
            self.err(where, f'mem {mem!r} is not valid', 'allowed: user, kernel')
        if f.src and f.src.kind in ('dataloc', 'target') and mem == 'user':
            self.err(where, f'{SOURCE_TEXT[f.src.kind]} strings live in kernel memory', 'mem = "kernel"')
        if f.src and f.src.kind == 'elapsed':
            self.err(where, 'source elapsed_ns is an integer', 'integer types only')
        if f.src and f.src.kind == 'deref':
            self.err(where, f'source {raw["from"]} reads an integer through a pointer',
                     f'{f.type} reads what its source points to: from = "{raw["from"][1:]}"')
        if f.src and f.src.kind in ('dataloc', 'target') and f.type != 'char[]':
            self.err(where, f'source {SOURCE_TEXT[f.src.kind]} is a string', 'use type = "char[]"')
        # bs_var_str_array reads the array and its strings in user memory, whatever the kind.
        if f.type == 'char*[]' and mem == 'kernel':
            self.err(where, 'char*[] reads an array of string pointers in user memory',
                     'mem = "user", or no mem')
        f.mem = 'user' if f.type == 'char*[]' else mem or (self.default_mem(ev, f.src) if f.src else 'user')
        if 'len' in raw:
            if f.type != 'char[]':
                self.err(where, "key 'len' is only for char[]", 'char[][] takes end, char*[] takes max_items')
            f.len_field = self.check_ref(where, 'len', raw['len'], earlier)
        if f.type == 'char[][]':
            if 'end' not in raw:
                self.err(where, "char[][] needs 'end'", 'the source of the block end, e.g. task.mm.arg_end')
            else:
                f.end = self.check_source(ev, where, 'end', raw['end'])
        elif 'end' in raw:
            self.err(where, "key 'end' is only for char[][]")
        if f.type == 'char*[]':
            items = f.max_items = raw.get('max_items', MAX_ITEMS_DEFAULT)
            if not isinstance(items, int) or not 1 <= items <= MAX_ITEMS_CAP:
                self.err(where, f'max_items {items!r} is out of range', f'1..{MAX_ITEMS_CAP}')
        elif 'max_items' in raw:
            self.err(where, "key 'max_items' is only for char*[]")
        if 'when' in raw:
            f.when = self.check_when(where, raw['when'], earlier)
        if 'after_exec' in raw:
            self.check_after_exec(ev, f, raw, where)

    def check_after_exec(self, ev, f, raw, where):
        """after_exec = { from = SRC[, end = SRC] }: where the new image keeps the field's
        value once a successful execve replaced the memory the arguments pointed into (the
        exit that completes a faulted entry reads it there)."""
        spec = raw['after_exec']
        block = f.type in ('char[][]', 'char*[]')
        shape = ('{ from = "task.mm.arg_start", end = "task.mm.arg_end" }' if block
                 else '{ from = "auxv.AT_EXECFN" }')
        if f.type not in ('char[]', 'char[][]', 'char*[]') or f.len_field or f.mem != 'user':
            self.err(where, "key 'after_exec' is for strings and string lists read from user memory",
                     'char[] without len, char[][], char*[]')
            return
        if (not isinstance(spec, dict) or set(spec) - {'from', 'end'} or 'from' not in spec or
                block != ('end' in spec)):
            self.err(where, f'after_exec {spec!r} is not valid for {f.type}',
                     f'a table such as {shape}' + (': a NUL-separated block' if block else ''))
            return
        found = []
        for key in ('from', 'end') if block else ('from',):
            src = self.check_source(ev, where, f'after_exec.{key}', spec[key])
            if src and src.kind not in NEW_IMAGE_SOURCES:
                self.err(where, f'after_exec.{key} = {spec[key]!r} does not read the new image',
                         'task.A.B or auxv.AT_NAME: the arguments point into the memory the exec replaced')
                src = None
            found.append(src)
        if all(found):
            f.exec_src, f.exec_end = found[0], found[1] if block else None
            f.exec_mem = self.default_mem(ev, f.exec_src)

    def check_new_image(self, ev):
        """after_exec applies where a faulted entry is completed at the exit; there, every
        field read from user memory must say where the new image keeps it, as a successful
        exec leaves nothing of the old one to read."""
        if not ev.new_image_fields:
            return
        if not ev.retries:
            self.err(ev.label, "key 'after_exec' applies only where a faulted entry is completed at the exit",
                     'a syscalls/sys_enter_* event without ctx. or kstack sources or emit = false')
            return
        for f in ev.fields:
            if f.reads_user and not f.after_exec:
                self.err(f'{ev.label} field {f.name!r}', 'reads user memory that a successful exec replaces',
                         "give it after_exec too, as the event's other fields that read user memory")

    def check_stack_field(self, f, raw, where, earlier):
        """A stack: from kstack or ustack only, `max` in frames, `when` allowed."""
        if f.type != 'stack':
            self.err(where, f'source {raw["from"]} is a stack', 'use type = "stack"')
            return
        if f.src and f.src.kind not in STACK_SOURCES:
            self.err(where, f'type stack takes from = "kstack" or "ustack", not {raw["from"]!r}',
                     'kstack: the kernel stack, ustack: the user stack')
        for key in ('mem', 'len', 'end', 'max_items'):
            if key in raw:
                self.err(where, f'key {key!r} is not for stacks',
                         'a stack takes max (frames), when, and for ustack unwind and copy')
        self.check_unwind(f, raw, where)
        cap = FIELD_MAX_BYTES // STACK_FRAME_BYTES
        frames = f.max = raw.get('max', STACK_DEFAULT_FRAMES)
        if not isinstance(frames, int) or isinstance(frames, bool) or not 1 <= frames <= cap:
            self.err(where, f'max {frames!r} frames is out of range',
                     f'1..{cap} frames ({STACK_FRAME_BYTES} bytes each within the arena field cap)')
        f.mem = 'kernel' if f.src and f.src.kind == 'kstack' else 'user'
        if 'when' in raw:
            f.when = self.check_when(where, raw['when'], earlier)

    def check_unwind(self, f, raw, where):
        """unwind = "fp" (frame pointers, in the kernel) or "dwarf" (the user registers and
        `copy` bytes of the user stack, unwound in user space from the unwind tables)."""
        unwind = raw.get('unwind', 'fp')
        if unwind not in UNWIND_MODES:
            self.err(where, f'unwind {unwind!r} is not a way to walk a stack',
                     'unwind = "fp" (frame pointers) or "dwarf" (unwind tables, user stacks)')
            return
        if unwind == 'dwarf' and f.src and f.src.kind != 'ustack':
            self.err(where, 'unwind = "dwarf" walks user stacks only',
                     'from = "ustack"; a kernel stack is walked by the kernel (unwind = "fp")')
            return
        if 'copy' in raw and unwind != 'dwarf':
            self.err(where, "key 'copy' applies only with unwind = \"dwarf\"",
                     'the bytes of user stack copied per event for unwinding')
        if unwind != 'dwarf':
            return
        f.unwind = 'dwarf'
        copy = f.copy = raw.get('copy', STACK_COPY_DEFAULT)
        if (not isinstance(copy, int) or isinstance(copy, bool) or not STACK_COPY_CHUNK <= copy <= STACK_COPY_MAX
                or copy % STACK_COPY_CHUNK):
            self.err(where, f'copy {copy!r} bytes is out of range',
                     f'a multiple of {STACK_COPY_CHUNK} in {STACK_COPY_CHUNK}..{STACK_COPY_MAX} '
                     '(the arena field cap less the saved registers)')

    @staticmethod
    def default_mem(ev, src):
        """Where a pointer read from `src` points unless `mem` says: the tracepoint record
        and the target table are kernel memory; arguments point where the kind says
        (kernel for kprobes, user for uprobes and syscalls); a task chain ending in an
        array or pointer is kernel memory, one ending in an integer is a user address
        (mm->arg_start)."""
        if src.kind == 'deref':
            src = src.inner
        if src.kind in ('ctx', 'dataloc', 'target'):
            return 'kernel'
        if src.kind in ('arg', 'entry_arg', 'ret'):
            return ev.kind.arg_mem
        return 'kernel' if src.in_kernel else 'user'

    def check_ref(self, where, key, name, earlier):
        names = ', '.join(n for n, g in earlier.items() if g.is_int) or 'none'
        if not isinstance(name, str) or name not in earlier or not earlier[name].is_int:
            self.err(where, f'{key} names {name!r}, which is not an earlier integer field',
                     f'earlier integer fields: {names}')
            return None
        return earlier[name]

    def check_when(self, where, expr, earlier):
        """The condition split into its text and the earlier Fields it names, or None."""
        if not isinstance(expr, str) or not re.fullmatch(r'[\w\s()|&=!<>+\-*/%^~]+', expr):
            self.err(where, f'when {expr!r} is not a C expression over earlier fields',
                     'identifiers, numbers and operators ( ) | & = ! < > + - * / % ^ ~')
            return None
        out = []
        for tok in re.split(r'(\b[A-Za-z_]\w*\b)', expr):
            if IDENT.match(tok):
                tok = self.check_ref(where, 'when', tok, earlier)
                if tok is None:
                    return None
            out.append(tok)
        return out


def load(path, vmlinux=None, tracefs=None):
    """Parses and validates `path` (see check)."""
    try:
        with open(path, 'rb') as f:
            doc = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r'\(at line (\d+), column (\d+)\)', str(e))
        msg = re.sub(r'\s*\(at line \d+, column \d+\)', '', str(e))
        loc = f'line {m.group(1)}, column {m.group(2)}' if m else 'syntax'
        raise SchemaError([f'{path}: {loc}: TOML syntax error: {msg}'])
    except OSError as e:
        raise SchemaError([f'{path}: cannot read: {e.strerror}'])
    return check(path, doc, vmlinux, tracefs)


def check(path, doc, vmlinux=None, tracefs=None):
    """Validates the parsed document `doc` of `path` (errors name it), reading it only;
    returns a Schema or raises SchemaError. vmlinux: a VmlinuxIndex, tracefs: a
    tracefs.Tracefs, each None to skip the checks that need it."""
    checker = _Checker(path, vmlinux, tracefs)
    schema = checker.check_document(doc)
    if checker.errors:
        raise SchemaError(checker.errors)
    for ev in schema.events:
        layout(ev)
    return schema
