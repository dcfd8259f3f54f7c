"""schema.py: reads events.toml into the event model and validates it.

Every problem is collected (not just the first) as one line in the form
`events.toml: [category.name] field 'x': <what is wrong> (<what is allowed>)`,
so a user fixes a bad schema in one pass. Sources (`from`, `end`) are parsed here
into Source objects that know their C expression for the BPF handler.
"""
import os
import re
import tomllib

# Mirrors BOOTSTRAP_FIELD_MAX_BYTES / BOOTSTRAP_MAX_VAR_FIELDS in c/bootstrap_protocol.h.
FIELD_MAX_BYTES = 32768
MAX_VAR_FIELDS = 32
MAX_ITEMS_CAP = 1024

IDENT = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
C_KEYWORDS = {'auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double',
              'else', 'enum', 'extern', 'float', 'for', 'goto', 'if', 'int', 'long', 'register',
              'return', 'short', 'signed', 'sizeof', 'static', 'struct', 'switch', 'typedef',
              'union', 'unsigned', 'void', 'volatile', 'while', 'bool', 'true', 'false',
              'inline', 'restrict', '_Alignas', '_Alignof', '_Atomic', '_Bool', '_Complex',
              '_Generic', '_Imaginary', '_Noreturn', '_Static_assert', '_Thread_local',
              'asm', 'typeof'}
# Object-like macros in scope of the generated code (gnu11 predefines linux and unix).
C_MACROS = {'NULL', 'errno', 'linux', 'unix'}

# type: (C type, size, signed, reflection enum suffix)
INT_TYPES = {
    'u8': ('__u8', 1, False), 'u16': ('__u16', 2, False), 'u32': ('__u32', 4, False),
    'u64': ('__u64', 8, False), 's8': ('__s8', 1, True), 's16': ('__s16', 2, True),
    's32': ('__s32', 4, True), 's64': ('__s64', 8, True), 'bool': ('__u8', 1, False),
}
VAR_TYPES = {'char[]': 'BYTES', 'char[][]': 'STR_BLOCK', 'char*[]': 'STR_ARRAY'}
KINDS_BUILT = ('tracepoint',)
KINDS_PLANNED = ('uprobe', 'uretprobe', 'kprobe', 'kretprobe', 'raw_tracepoint', 'perf_event')
EVENT_KEYS = ('id', 'comment', 'payload', 'ctx_type', 'fill', 'kind')
FIELD_KEYS = ('name', 'type', 'from', 'max', 'mem', 'len', 'end', 'when', 'shift', 'mask',
              'max_items')
VAR_ONLY_KEYS = ('max', 'mem', 'len', 'end', 'when', 'max_items')
SOURCES_HELP = 'args[N], ret, ctx.FIELD, dataloc(FIELD), task.A.B'


class SchemaError(Exception):
    def __init__(self, errors):
        super().__init__('\n'.join(errors))
        self.errors = errors


class Source:
    """Where a value comes from: kind is arg, ret, ctx, dataloc or task."""

    def __init__(self, kind, arg=None, chain=()):
        self.kind, self.arg, self.chain = kind, arg, tuple(chain)

    @staticmethod
    def parse(text):
        if not isinstance(text, str):
            return None
        m = re.fullmatch(r'args\[(\d+)\]', text)
        if m:
            return Source('arg', int(m.group(1)))
        if text == 'ret':
            return Source('ret')
        m = re.fullmatch(r'ctx\.([A-Za-z_]\w*)', text)
        if m:
            return Source('ctx', m.group(1))
        m = re.fullmatch(r'dataloc\(([A-Za-z_]\w*)\)', text)
        if m:
            return Source('dataloc', m.group(1))
        m = re.fullmatch(r'task((?:\.[A-Za-z_]\w*)+)', text)
        if m:
            return Source('task', chain=m.group(1)[1:].split('.'))
        return None

    def c_expr(self):
        """The value as a C expression inside a generated handler (ctx, task in scope)."""
        if self.kind == 'arg':
            return f'ctx->args[{self.arg}]'
        if self.kind == 'ret':
            return 'ctx->ret'
        if self.kind == 'ctx':
            return f'ctx->{self.arg}'
        if self.kind == 'dataloc':
            return f'(const char *)ctx + (ctx->__data_loc_{self.arg} & 0xffff)'
        return 'task->' + '->'.join(self.chain)

    def default_mem(self):
        return 'kernel' if self.kind in ('ctx', 'dataloc') else 'user'


class Field:
    def __init__(self, raw):
        self.raw = raw
        self.name = raw.get('name')
        self.type = raw.get('type')
        self.src = None
        self.end = None
        self.len_field = None
        self.when_c = None
        self.var_index = -1
        self.offset = 0

    @property
    def is_var(self):
        return self.type in VAR_TYPES

    @property
    def c_type(self):
        return 'struct bootstrap_var' if self.is_var else INT_TYPES[self.type][0]

    @property
    def size(self):
        return 8 if self.is_var else INT_TYPES[self.type][1]

    @property
    def align(self):
        return 4 if self.is_var else self.size

    @property
    def enum_type(self):
        return 'BOOTSTRAP_T_' + (VAR_TYPES[self.type] if self.is_var else self.type.upper())

    @property
    def signed(self):
        return not self.is_var and INT_TYPES[self.type][2]

    @property
    def max(self):
        return self.raw.get('max')

    @property
    def mem(self):
        return self.raw.get('mem') or (self.src.default_mem() if self.src else 'user')

    def int_c_expr(self):
        expr = self.src.c_expr()
        shift, mask = self.raw.get('shift'), self.raw.get('mask')
        if shift is not None or mask is not None:
            expr = f'(__u64)({expr})'
            if shift:
                expr = f'({expr} >> {shift})'
            if mask is not None:
                expr = f'({expr} & {mask:#x})'
        return f'!!({expr})' if self.type == 'bool' else f'({self.c_type})({expr})'


class Event:
    def __init__(self, category, name, raw, index):
        self.category, self.name, self.raw, self.index = category, name, raw, index
        self.id = raw.get('id')
        self.comment = raw.get('comment', '')
        self.fill = raw.get('fill')
        self.fields = []
        self.payload_size = 0

    @property
    def type_name(self):
        return f'{self.category}/{self.name}'

    @property
    def label(self):
        return f'[{self.category}.{self.name}]'

    @property
    def upper(self):
        return self.name.upper()

    @property
    def is_sys_enter(self):
        return self.category == 'syscalls' and self.name.startswith('sys_enter_')

    @property
    def is_sys_exit(self):
        return self.category == 'syscalls' and self.name.startswith('sys_exit_')

    @property
    def ctx_type(self):
        if 'ctx_type' in self.raw:
            return self.raw['ctx_type']
        if self.is_sys_enter:
            return 'trace_event_raw_sys_enter'
        if self.is_sys_exit:
            return 'trace_event_raw_sys_exit'
        return f'trace_event_raw_{self.name}'

    @property
    def var_fields(self):
        return [f for f in self.fields if f.is_var]

    @property
    def uses_ctx(self):
        return any(s.kind in ('arg', 'ret', 'ctx', 'dataloc')
                   for f in self.fields for s in (f.src, f.end) if s)

    @property
    def uses_task(self):
        return any(s.kind == 'task' for f in self.fields for s in (f.src, f.end) if s)


class Schema:
    def __init__(self, path, events, defaults):
        self.path, self.events, self.defaults = path, events, defaults


def _allowed(seq):
    return ', '.join(seq)


class _Checker:
    """Validates one parsed TOML document; collects errors instead of stopping."""

    def __init__(self, path, vmlinux, tracefs, fill_dir):
        self.path, self.vmlinux, self.tracefs, self.fill_dir = path, vmlinux, tracefs, fill_dir
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
        events = []
        for category, table in doc.items():
            if category in ('version', 'defaults'):
                continue
            if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
                self.err(f'[{category}]', 'is not a table of events',
                         'tables like [category.name] with id, comment, payload')
                continue
            for name, raw in table.items():
                events.append(Event(category, name, raw, len(events)))
        for ev in events:
            self.check_event(ev, default_max)
        self.check_unique(events)
        return Schema(self.path, events, {'max': default_max})

    def check_unique(self, events):
        by_id, by_name = {}, {}
        for ev in events:
            if isinstance(ev.id, int):
                if ev.id in by_id:
                    self.err(ev.label, f'duplicate id {ev.id}',
                             f'already used by {by_id[ev.id].label}; ids are unique and never reused')
                by_id.setdefault(ev.id, ev)
            key = ev.name.upper()  # the generated enum constants are upper case
            if key in by_name:
                self.err(ev.label, f'duplicate event name {ev.name!r}',
                         f'already used by {by_name[key].label}; names are unique across categories, ignoring case')
            by_name.setdefault(key, ev)

    def check_event(self, ev, default_max):
        for part in (ev.category, ev.name):
            if not IDENT.match(part):
                self.err(ev.label, f'{part!r} is not an identifier', 'letters, digits, _; not starting with a digit')
        for key in ev.raw:
            if key not in EVENT_KEYS:
                self.err(ev.label, f'unknown key {key!r}', 'allowed: ' + _allowed(EVENT_KEYS))
        kind = ev.raw.get('kind', 'tracepoint')
        if kind in KINDS_PLANNED:
            self.err(ev.label, f'kind {kind!r} is planned but not built yet', 'allowed: tracepoint')
            return
        if kind not in KINDS_BUILT:
            self.err(ev.label, f'unknown kind {kind!r}', 'allowed: tracepoint')
            return
        if 'id' not in ev.raw:
            self.err(ev.label, 'missing id', 'a unique integer 0..4294967295')
        elif not isinstance(ev.id, int) or isinstance(ev.id, bool) or not 0 <= ev.id <= 0xffffffff:
            self.err(ev.label, f'id {ev.id!r} is not valid', 'a unique integer 0..4294967295')
        if not isinstance(ev.comment, str):
            self.err(ev.label, 'comment is not a string')
        if ev.fill not in (None, 'custom'):
            self.err(ev.label, f'fill {ev.fill!r} is not valid', 'fill = "custom" or no fill key')
        if ev.fill == 'custom':
            path = os.path.join(self.fill_dir, f'{ev.name}.bpf.c')
            if not os.path.isfile(path):
                self.err(ev.label, f'fill = "custom" needs the hand-written fill {path}, which is missing',
                         f'write void fill_{ev.name}(ctx, e, p) there')
        if 'ctx_type' in ev.raw and (not isinstance(ev.raw['ctx_type'], str) or not IDENT.match(ev.raw['ctx_type'])):
            self.err(ev.label, f'ctx_type {ev.raw["ctx_type"]!r} is not a struct name')
            return
        payload = ev.raw.get('payload', [])
        if not isinstance(payload, list) or not all(isinstance(f, dict) for f in payload):
            self.err(ev.label, 'payload is not a list of field tables',
                     '{ name = "...", type = "...", from = "..." }')
            return
        seen = {}
        for raw in payload:
            f = Field(raw)
            self.check_field(ev, f, seen, default_max)
            if f.name is not None:
                seen.setdefault(f.name, f)
            ev.fields.append(f)
        nvar = 0
        for f in ev.fields:
            if f.type in VAR_TYPES:
                f.var_index, nvar = nvar, nvar + 1
        if nvar > MAX_VAR_FIELDS:
            self.err(ev.label, f'{nvar} variable fields', f'at most {MAX_VAR_FIELDS}')
        if ev.uses_ctx or (ev.fill == 'custom' and 'ctx_type' in ev.raw):
            self.check_ctx_type(ev)

    def check_ctx_type(self, ev):
        if self.vmlinux is None or self.vmlinux.has_struct(ev.ctx_type):
            return
        near = self.vmlinux.nearest_structs(ev.ctx_type, ev.name)
        hint = 'set ctx_type to the tracepoint\'s context struct'
        if near:
            hint += '; candidates: ' + ', '.join(near)
        self.err(ev.label, f'context struct {ev.ctx_type} is not in {self.vmlinux.path}', hint)

    def check_field(self, ev, f, earlier, default_max):
        where = f'{ev.label} field {f.name!r}' if isinstance(f.name, str) else f'{ev.label} field'
        for key in f.raw:
            if key not in FIELD_KEYS:
                self.err(where, f'unknown key {key!r}', 'allowed: ' + _allowed(FIELD_KEYS))
        if not isinstance(f.name, str) or not IDENT.match(f.name) or f.name in C_KEYWORDS | C_MACROS:
            self.err(where, f'name {f.name!r} is not a valid identifier',
                     'letters, digits, _; not starting with a digit; not a C keyword or macro')
        elif f.name in earlier:
            self.err(where, 'duplicate field name', 'names are unique within an event')
        if f.type not in INT_TYPES and f.type not in VAR_TYPES:
            self.err(where, f'unknown type {f.type!r}',
                     'allowed: ' + _allowed(list(INT_TYPES) + list(VAR_TYPES)))
            return
        if 'from' not in f.raw:
            if ev.fill != 'custom':
                self.err(where, 'missing from', 'allowed sources: ' + SOURCES_HELP)
        else:
            f.src = self.check_source(ev, where, 'from', f.raw['from'])
        if f.is_var:
            self.check_var_field(ev, f, where, earlier, default_max)
        else:
            self.check_int_field(f, where)

    def check_source(self, ev, where, key, text):
        src = Source.parse(text)
        if src is None:
            self.err(where, f'unknown source {key} = {text!r}', 'allowed: ' + SOURCES_HELP)
            return None
        if src.kind == 'arg':
            self.check_arg(ev, where, src.arg)
        elif src.kind == 'ret' and not ev.is_sys_exit:
            self.err(where, 'source ret is only for sys_exit_* tracepoints',
                     'use args[N] on sys_enter_*, ctx.FIELD elsewhere')
        elif src.kind in ('ctx', 'dataloc'):
            member = src.arg if src.kind == 'ctx' else f'__data_loc_{src.arg}'
            self.check_member(ev, where, ev.ctx_type, member, text)
        elif src.kind == 'task':
            self.check_chain(where, src.chain, text)
        return src

    def check_arg(self, ev, where, n):
        if not ev.is_sys_enter:
            self.err(where, 'source args[N] is only for syscalls/sys_enter_* tracepoints',
                     'use ctx.FIELD for other tracepoints')
            return
        count = self.syscall_arg_count(ev.name)
        limit = 6 if count is None else count
        if n >= limit:
            origin = 'per the kernel\'s tracefs format' if count is not None else 'syscalls take at most 6'
            self.err(where, f'args[{n}] does not exist: {ev.name} has {limit} arguments ({origin})',
                     f'args[0]..args[{limit - 1}]')

    def syscall_arg_count(self, name):
        if not self.tracefs:
            return None
        path = os.path.join(self.tracefs, 'events', 'syscalls', name, 'format')
        try:
            with open(path) as fmt:
                text = fmt.read()
        except OSError:
            return None
        fields = re.findall(r'field:[^;]*?(\w+);\s*offset:', text)
        return len(fields[fields.index('__syscall_nr') + 1:]) if '__syscall_nr' in fields else None

    def check_member(self, ev, where, struct, member, text):
        if self.vmlinux is None or not self.vmlinux.has_struct(struct):
            return  # the context struct itself is reported once by check_ctx_type
        if member not in self.vmlinux.members(struct):
            near = self.vmlinux.nearest_members(struct, member)
            self.err(where, f'{text!r}: struct {struct} has no member {member}',
                     'candidates: ' + ', '.join(near) if near else f'see struct {struct} in vmlinux.h')

    def check_chain(self, where, chain, text):
        if self.vmlinux is None:
            return
        struct = 'task_struct'
        for i, member in enumerate(chain):
            members = self.vmlinux.members(struct)
            if member not in members:
                near = self.vmlinux.nearest_members(struct, member)
                self.err(where, f'{text!r}: struct {struct} has no member {member}',
                         'candidates: ' + ', '.join(near) if near else f'see struct {struct} in vmlinux.h')
                return
            if i + 1 < len(chain):
                nxt = members[member].pointee_struct()
                if nxt is None or not self.vmlinux.has_struct(nxt):
                    self.err(where, f'{text!r}: {struct}.{member} is not a pointer to a struct',
                             'each step but the last must be a struct pointer')
                    return
                struct = nxt

    def check_int_field(self, f, where):
        for key in VAR_ONLY_KEYS:
            if key in f.raw:
                self.err(where, f'key {key!r} is only for variable fields', 'char[], char[][], char*[]')
        shift, mask = f.raw.get('shift'), f.raw.get('mask')
        if shift is not None and (not isinstance(shift, int) or not 0 <= shift <= 63):
            self.err(where, f'shift {shift!r} is out of range', '0..63')
        if mask is not None and (not isinstance(mask, int) or not 0 < mask <= 0xffffffffffffffff):
            self.err(where, f'mask {mask!r} is out of range', '1..0xffffffffffffffff')
        if f.src and f.src.kind == 'dataloc':
            self.err(where, 'source dataloc() is a string', 'use type = "char[]"')

    def check_var_field(self, ev, f, where, earlier, default_max):
        for key in ('shift', 'mask'):
            if key in f.raw:
                self.err(where, f'key {key!r} is only for integer fields', 'u8..u64, s8..s64, bool')
        f.raw.setdefault('max', default_max)
        mx = f.raw['max']
        if not isinstance(mx, int) or isinstance(mx, bool) or mx < 1:
            self.err(where, f'max {mx!r} is not a positive integer', f'1..{FIELD_MAX_BYTES}')
        elif mx > FIELD_MAX_BYTES:
            self.err(where, f'max {mx} is over the arena field cap', f'at most {FIELD_MAX_BYTES} bytes')
        mem = f.raw.get('mem')
        if mem is not None and mem not in ('user', 'kernel'):
            self.err(where, f'mem {mem!r} is not valid', 'allowed: user, kernel')
        if f.src and f.src.kind == 'dataloc' and mem == 'user':
            self.err(where, 'dataloc() strings live in the tracepoint record', 'mem = "kernel"')
        if f.src and f.src.kind == 'ret':
            self.err(where, 'source ret is an integer', 'integer types only')
        if 'len' in f.raw:
            if f.type != 'char[]':
                self.err(where, "key 'len' is only for char[]", 'char[][] takes end, char*[] takes max_items')
            f.len_field = self.check_ref(where, 'len', f.raw['len'], earlier)
        if f.type == 'char[][]':
            if 'end' not in f.raw:
                self.err(where, "char[][] needs 'end'", 'the source of the block end, e.g. task.mm.arg_end')
            else:
                f.end = self.check_source(ev, where, 'end', f.raw['end'])
        elif 'end' in f.raw:
            self.err(where, "key 'end' is only for char[][]")
        if f.type == 'char*[]':
            items = f.raw.setdefault('max_items', 64)
            if not isinstance(items, int) or not 1 <= items <= MAX_ITEMS_CAP:
                self.err(where, f'max_items {items!r} is out of range', f'1..{MAX_ITEMS_CAP}')
        elif 'max_items' in f.raw:
            self.err(where, "key 'max_items' is only for char*[]")
        if 'when' in f.raw:
            f.when_c = self.check_when(where, f.raw['when'], earlier)

    def check_ref(self, where, key, name, earlier):
        names = ', '.join(n for n, g in earlier.items() if not g.is_var) or 'none'
        if not isinstance(name, str) or name not in earlier or earlier[name].is_var:
            self.err(where, f'{key} names {name!r}, which is not an earlier integer field',
                     f'earlier integer fields: {names}')
            return None
        return earlier[name]

    def check_when(self, where, expr, earlier):
        if not isinstance(expr, str) or not re.fullmatch(r'[\w\s()|&=!<>+\-*/%^~]+', expr):
            self.err(where, f'when {expr!r} is not a C expression over earlier fields',
                     'identifiers, numbers and operators ( ) | & = ! < > + - * / % ^ ~')
            return None
        out = []
        for tok in re.split(r'(\b[A-Za-z_]\w*\b)', expr):
            if IDENT.match(tok):
                if self.check_ref(where, 'when', tok, earlier) is None:
                    return None
                tok = f'p->{tok}'
            out.append(tok)
        return ''.join(out)


def layout(ev):
    """Natural C layout of the payload struct, the same the compiler computes (asserted)."""
    off, align = 0, 1
    for f in ev.fields:
        off = (off + f.align - 1) // f.align * f.align
        f.offset = off
        off += f.size
        align = max(align, f.align)
    ev.payload_size = (off + align - 1) // align * align


def load(path, vmlinux=None, tracefs=None, fill_dir='bpf/fill'):
    """Parses and validates `path`; returns a Schema or raises SchemaError."""
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
    checker = _Checker(path, vmlinux, tracefs, fill_dir)
    schema = checker.check_document(doc)
    if checker.errors:
        raise SchemaError(checker.errors)
    for ev in schema.events:
        layout(ev)
    return schema
