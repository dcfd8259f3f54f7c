"""tracefs_import.py: `typegen.py import CATEGORY/NAME...` prints one events.toml table per
tracepoint, made from the kernel's tracefs format file, ready to append to events.toml.

    typegen.py import [--events F] [--tracefs DIR] [--vmlinux H] CATEGORY/NAME...

(NAME may be a glob: 'sched/sched_wakeup*'.) How fields are made:

- syscalls/sys_enter_*: argument N comes from args[N], typed by its declared C type
  (typedefs resolved through vendor/vmlinux.h; one the header cannot resolve is kept as
  the raw 64-bit register, u64). A `char *` argument is a string (char[]) when its name,
  leading underscores aside, ends in `name`, `path`, `file` or `root`, or is one of
  STRING_ARGS; the name decides, not `const`: mount's dev_name is a non-const input while
  getcwd's buf is an output, unwritten at entry. A `char **` (argv, envp) is char*[]; any
  other pointer is its address, u64.
- syscalls/sys_exit_*: `ret`, s64.
- other tracepoints: ctx.FIELD typed from the format's size and sign (bool for a 1-byte
  bool); `__data_loc char[]` strings from dataloc(FIELD); `char x[N]` as char[] from
  ctx.x with max N - 1, so a value filling the array unterminated is reported truncated.
  Other fields (byte arrays, non-string __data_loc, structs) are left out with a TOML
  comment saying why. The context struct is trace_event_raw_NAME when vendor/vmlinux.h
  has it with the format's fields; otherwise the event's class struct (DECLARE_EVENT_CLASS)
  is found by those fields and named in ctx_type.
- a field name that is a C keyword or macro where the generated code is compiled
  (signal_deliver's errno and sa_handler) is renamed NAME_.

Ids start above the highest id of the events file. A tracepoint is skipped, with one
line on stderr, when it is absent, already a table of the events file, has no context
struct in vendor/vmlinux.h, or (the last check) the schema validator rejects its table
appended to the events file. Exit status 1 only when nothing was imported.
"""
import argparse
import difflib
import glob
import json
import os
import re
import sys
import tempfile
import tomllib

import validate
from tracefs import Tracefs
from vmlinux_index import VmlinuxIndex

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

STRING_ARGS = ('type', 'key', 'description', 'special', 'put_old', 'callout_info')
STRING_ARG_SUFFIXES = ('name', 'path', 'file', 'root')
RESERVED = validate.C_KEYWORDS | validate.C_MACROS

# The built-in integer types of C, keyed by their words as c_type() sorts them, on the
# 64-bit targets the tracer builds for. The kernel builds with -funsigned-char.
C_INTS = {
    'char': 'u8', 'char signed': 's8', 'char unsigned': 'u8',
    'short': 's16', 'short signed': 's16', 'short unsigned': 'u16',
    'int': 's32', 'signed': 's32', 'unsigned': 'u32',
    'long': 's64', 'long signed': 's64', 'long unsigned': 'u64',
    'long long': 's64', 'long long signed': 's64', 'long long unsigned': 'u64',
    '_Bool': 'bool', 'bool': 'bool',
}
# Words of a declared type that do not change the value read (BTF keeps no address space).
QUALIFIERS = {'const', 'volatile', '__user', '__seg_gs', '__seg_fs'}
LOCS = ('__data_loc', '__rel_loc')

_FIELD = re.compile(r'^\tfield:(?P<decl>[^;]*);\toffset:\d+;\tsize:(?P<size>\d+);\tsigned:(?P<signed>[01]);', re.M)
_DECL = re.compile(r'^(?P<type>.*?)\s*\b(?P<name>[A-Za-z_]\w*)\s*(?P<dims>\[\d*\])?$')


class Skip(Exception):
    """A tracepoint that cannot be imported; the message says why."""


def c_type(text):
    """(base, pointer level) of a C type: the base is its words without qualifiers, sorted,
    `int` dropped when other words give the size ("long unsigned int" -> "long unsigned")."""
    words = sorted(w for w in text.replace('*', ' ').split() if w not in QUALIFIERS)
    if len(words) > 1 and 'int' in words:
        words.remove('int')
    return ' '.join(words), text.count('*')


class FormatField:
    """One line of a format file: `field:DECL; offset:..; size:N; signed:S;`."""

    def __init__(self, decl, size, signed):
        self.decl, self.size, self.signed = decl, size, signed
        m = _DECL.match(decl)
        self.type, self.name, self.dims = m.group('type'), m.group('name'), m.group('dims')
        self.loc = next((p for p in LOCS if self.type.startswith(p + ' ')), None)

    @property
    def key(self):
        """What the context struct's member for this field must match: member_key()."""
        if self.loc:
            return f'{self.loc}_{self.name}'
        base, pointer = c_type(self.type)
        return self.name, base, pointer


def member_key(name, member):
    """A context struct member as FormatField.key: its name, and its type but for the u32
    offset/length word of a __data_loc/__rel_loc field. Names alone are not enough: classes
    share names with other types (memcg_rstat_stats' int val, memcg_rstat_events' long)."""
    if name.startswith(tuple(loc + '_' for loc in LOCS)):
        return name
    return name, c_type(member.type)[0], member.pointer


def read_format(path):
    """The fields of a tracefs format file after the common_* header ones."""
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    fields = [FormatField(m.group('decl'), int(m.group('size')), m.group('signed') == '1')
              for m in _FIELD.finditer(text)]
    return [f for f in fields if not f.name.startswith('common_')]


class Importer:
    """Makes the tables for one events file, from one tracefs and one vmlinux.h."""

    def __init__(self, events_path, tracefs, vmlinux):
        self.events_path, self.tracefs, self.vmlinux = events_path, tracefs, vmlinux
        with open(events_path, 'rb') as f:
            self.base_text = f.read().decode('utf-8')
        doc = tomllib.loads(self.base_text)
        events = {(cat, name): ev for cat, table in doc.items() if isinstance(table, dict)
                  for name, ev in table.items() if isinstance(ev, dict)}
        self.existing = set(events)
        self.next_id = max((ev['id'] for ev in events.values() if isinstance(ev.get('id'), int)),
                           default=-1) + 1
        self._by_members = None

    # --- types ----------------------------------------------------------------------
    def resolve(self, text):
        """(pointer level, C_INTS type or None) of a declared C type, through typedefs."""
        base, pointer = c_type(text)
        for _ in range(16):  # typedef chains are short; the bound only guards a cycle
            if pointer or base in C_INTS:
                break
            if 'enum' in base.split():
                return 0, 'u32'  # kernel enums are int-sized; the values passed are not negative
            target = self.vmlinux.typedef(base)
            if target is None:
                break
            base, more = c_type(target.type)
            pointer = more + target.pointer
        return pointer, None if pointer else C_INTS.get(base)

    # --- the context struct -------------------------------------------------------------
    def context_struct(self, name, fields):
        """The trace_event_raw_* struct with exactly these fields (names and types),
        preferring the default name, then the class whose name shares most words with the
        tracepoint's (classes with the same fields have the same layout: any one reads right)."""
        if self._by_members is None:
            self._by_members = {}
            for struct in self.vmlinux.struct_names():
                if struct.startswith('trace_event_raw_'):
                    key = tuple(member_key(name, m) for name, m in self.vmlinux.members(struct).items()
                                if name not in ('ent', '__data'))
                    self._by_members.setdefault(key, []).append(struct)
        candidates = self._by_members.get(tuple(f.key for f in fields), [])
        default = f'trace_event_raw_{name}'
        if default in candidates:
            return default
        if not candidates:
            raise Skip(f'no context struct in {self.vmlinux.path} has this format\'s fields'
                       + (f' ({default} differs: run `make vmlinux`)' if self.vmlinux.has_struct(default) else ''))
        words = set(name.split('_'))

        def score(struct):
            suffix = struct[len('trace_event_raw_'):]
            return (len(words & set(suffix.split('_'))),
                    difflib.SequenceMatcher(None, name, suffix).ratio(), struct)
        return max(candidates, key=score)

    # --- fields -----------------------------------------------------------------------
    def syscall_arg(self, n, f):
        """The field of sys_enter argument `n`."""
        pointer, int_type = self.resolve(f.type)
        is_char = c_type(f.type)[0] == 'char'
        bare = f.name.lstrip('_')
        if pointer == 1 and is_char and (bare in STRING_ARGS or bare.endswith(STRING_ARG_SUFFIXES)):
            type_ = 'char[]'
        elif pointer == 2 and is_char:
            type_ = 'char*[]'
        else:
            type_ = int_type or 'u64'
        return {'name': f.name, 'type': type_, 'from': f'args[{n}]'}

    @staticmethod
    def ctx_field(f):
        """The field of a (non-syscall) tracepoint field, or why it is left out (a str)."""
        if f.type == '__data_loc char[]':
            return {'name': f.name, 'type': 'char[]', 'from': f'dataloc({f.name})'}
        if f.loc == '__data_loc':
            return 'dataloc() reads strings only'
        if f.loc:
            return f'{f.loc} fields have no source'
        if f.dims:
            if c_type(f.type)[0] == 'char' and f.size >= 2:
                return {'name': f.name, 'type': 'char[]', 'from': f'ctx.{f.name}', 'max': f.size - 1}
            return 'fixed-size arrays other than char strings have no field type'
        if f.size not in (1, 2, 4, 8):
            return f'not an integer ({f.size} bytes)'
        if 'enum' in c_type(f.type)[0].split() and f.size < 4:
            # bpftool's C dump drops the enum's packing: the struct field is int-sized in
            # vmlinux.h, and libbpf refuses to relocate the read against the kernel's
            return 'a packed enum, int-sized in vmlinux.h, so the read cannot be relocated'
        if f.size == 1 and C_INTS.get(c_type(f.type)[0]) == 'bool':
            return {'name': f.name, 'type': 'bool', 'from': f'ctx.{f.name}'}
        return {'name': f.name, 'type': f'{"s" if f.signed else "u"}{f.size * 8}', 'from': f'ctx.{f.name}'}

    def table(self, category, name):
        """The Table of one tracepoint, or Skip."""
        if not (validate.IDENT.match(category) and validate.IDENT.match(name)):
            raise Skip('its name is not a C identifier')
        if (category, name) in self.existing:
            raise Skip(f'[{category}.{name}] is already in {self.events_path}')
        fields = read_format(os.path.join(self.tracefs, 'events', category, name, 'format'))
        table = Table(category, name)
        if category == 'syscalls' and name.startswith('sys_exit_'):
            table.lines.append({'name': 'ret', 'type': 's64', 'from': 'ret'})
            return table
        if category == 'syscalls' and name.startswith('sys_enter_'):
            args = fields[[f.name for f in fields].index('__syscall_nr') + 1:]
            made = [(f, self.syscall_arg(n, f)) for n, f in enumerate(args)]
        else:
            ctx_type = self.context_struct(name, fields)
            if ctx_type != f'trace_event_raw_{name}':
                table.ctx_type = ctx_type
            made = [(f, self.ctx_field(f)) for f in fields]
        for f, field in made:
            if isinstance(field, str):
                table.lines.append(f'{f.decl}: left out, {field}')
                continue
            if f.name in RESERVED:
                field['name'] = f.name + '_'
                table.lines.append(f'{f.name} renamed {field["name"]}: a C keyword or macro')
            table.lines.append(field)
        return table

    # --- the whole run ------------------------------------------------------------------
    def tracepoints(self, spec):
        """(category, name) of each tracepoint that CATEGORY/NAME `spec` (NAME a glob) names."""
        category, _, name = spec.partition('/')
        # '-' for a missing part, which no tracefs directory is named: an empty one would
        # make the glob match a level up
        paths = glob.glob(os.path.join(glob.escape(self.tracefs), 'events', category or '-', name or '-', 'format'))
        return [(os.path.basename(os.path.dirname(os.path.dirname(p))), os.path.basename(os.path.dirname(p)))
                for p in sorted(paths)]

    def rejected(self, tables):
        """{table: first validator error} for the tables the schema rejects once appended."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'events.toml')
            with open(path, 'w', encoding='utf-8') as f:
                f.write(self.base_text + render(tables, self.next_id))
            try:
                validate.load(path, self.vmlinux, Tracefs(self.tracefs))
                return {}
            except validate.SchemaError as e:
                errors = [line[len(path) + 2:] for line in e.errors if line.startswith(path + ': ')]
        out = {}
        for table in tables:
            why = [line for line in errors if line.startswith(table.label)]
            if why:
                out[table] = why[0]
        return out

    def run(self, specs):
        """(TOML text of the imported tables, messages about the skipped ones)."""
        messages, tables, seen = [], [], set()
        for spec in specs:
            found = self.tracepoints(spec)
            if not found:
                messages.append(f'{spec}: skipped: no such tracepoint in {self.tracefs}/events '
                                '(CATEGORY/NAME, globs allowed)')
            for category, name in found:
                if (category, name) in seen:
                    continue
                seen.add((category, name))
                try:
                    tables.append(self.table(category, name))
                except Skip as e:
                    messages.append(f'{category}/{name}: skipped: {e}')
        for table, why in self.rejected(tables).items():
            tables.remove(table)
            messages.append(f'{table.category}/{table.name}: skipped: the schema rejects it: {why}')
        return render(tables, self.next_id), messages


class Table:
    """One imported event: ctx_type when not the default, and payload lines (field dicts,
    and comment strings about fields left out or renamed)."""

    def __init__(self, category, name):
        self.category, self.name, self.ctx_type, self.lines = category, name, None, []

    @property
    def label(self):
        return f'[{self.category}.{self.name}]'

    def render(self, event_id):
        out = ['', self.label, f'id = {event_id}',
               f'comment = {json.dumps(f"Imported from tracefs: {self.category}/{self.name}")}']
        if self.ctx_type:
            out.append(f'ctx_type = {json.dumps(self.ctx_type)}')
        if not self.lines:
            return '\n'.join(out + ['payload = []', ''])
        fields = [line for line in self.lines if isinstance(line, dict)]
        # name and type in aligned columns, as events.toml writes them
        widths = [max((len(json.dumps(f[k])) for f in fields), default=0) + 2 for k in ('name', 'type')]
        out.append('payload = [')
        for line in self.lines:
            if isinstance(line, str):
                out.append(f'  # {line}')
                continue
            cols = [f'{k} = {json.dumps(line[k])},'.ljust(len(k) + 3 + w) for k, w in zip(('name', 'type'), widths)]
            tail = f', max = {line["max"]}' if 'max' in line else ''
            out.append(f'  {{ {"".join(cols)}from = {json.dumps(line["from"])}{tail} }},')
        return '\n'.join(out + [']', ''])


def render(tables, first_id):
    return ''.join(t.render(first_id + i) for i, t in enumerate(tables))


def main(argv, tracefs):
    ap = argparse.ArgumentParser(prog='typegen.py import',
                                 description='prints events.toml tables for tracepoints, from their tracefs formats')
    ap.add_argument('tracepoints', nargs='+', metavar='CATEGORY/NAME', help='a tracepoint; NAME may be a glob')
    ap.add_argument('--events', default=os.path.relpath(os.path.join(REPO, 'events.toml')),
                    help='the events file the tables are for: ids above its highest, its tables skipped')
    ap.add_argument('--tracefs', default=tracefs, help='tracefs root (default: the mounted one)')
    ap.add_argument('--vmlinux', default=os.path.relpath(os.path.join(REPO, 'vendor', 'vmlinux.h')),
                    help='kernel types: typedefs and context structs')
    args = ap.parse_args(argv)
    if not args.tracefs:
        print('typegen import: no tracefs (mount -t tracefs nodev /sys/kernel/tracing)', file=sys.stderr)
        return 1
    try:
        importer = Importer(args.events, args.tracefs, VmlinuxIndex(args.vmlinux))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        print(f'typegen import: {e}', file=sys.stderr)
        return 1
    text, messages = importer.run(args.tracepoints)
    for line in messages:
        print(f'typegen import: {line}', file=sys.stderr)
    sys.stdout.write(text)
    return 0 if text else 1
