"""aggregate.py: an event's `aggregate` list, checked and modelled.

    aggregate = [ { name = "bytes_by_comm", by = ["comm"], sum = ["count"], hist = "count" } ]

Each aggregation is a per-CPU BPF hash in the kernel (key: the `by` values; value: a
count, one sum per `sum` field, and with `hist` a log2 histogram of one field; see
BOOTSTRAP_HIST_BUCKETS in the wire protocol header). `by` names header values (below)
and fixed payload fields; a payload field of the same name as a header value wins.
Errors name the event and the aggregation, like every schema error.
"""
from model import INT_TYPES, natural_layout, protocol_constant

HIST_BUCKETS = protocol_constant('BOOTSTRAP_HIST_BUCKETS')
AGG_KEYS = ('name', 'by', 'sum', 'hist')

# Header values a key may hold: type, the C expression that reads it in a handler.
HEADER_VALUES = {
    'pid': ('u32', 'bpf_get_current_pid_tgid() >> 32'),
    'tid': ('u32', '(__u32)bpf_get_current_pid_tgid()'),
    'uid': ('u32', '(__u32)bpf_get_current_uid_gid()'),
    'comm': ('comm', None),
    'cgroup_id': ('u64', 'bpf_get_current_cgroup_id()'),
    'cpu': ('u32', 'bpf_get_smp_processor_id()'),
}
# Without a current task (xdp) only the CPU is known.
TASKLESS_VALUES = ('cpu',)


class KeyPart:
    """One member of an aggregation's key: a header value or a payload field."""

    def __init__(self, name, field=None):
        self.name, self.field = name, field
        self.type = field.type if field else HEADER_VALUES[name][0]
        self.offset = 0

    @property
    def c_type(self):
        if self.type == 'comm':
            return 'char'
        return self.field.c_type if self.field else INT_TYPES[self.type][0]

    @property
    def c_decl(self):
        return f'{self.c_type} {self.name}' + ('[BOOTSTRAP_COMM_LEN]' if self.type == 'comm' else '')

    @property
    def size(self):
        if self.type == 'comm':
            return 16
        return self.field.size if self.field else INT_TYPES[self.type][1]

    @property
    def align(self):
        if self.type == 'comm':
            return 1
        return self.field.align if self.field else self.size

    @property
    def enum_type(self):
        return 'BOOTSTRAP_T_BYTES' if self.type == 'comm' else 'BOOTSTRAP_T_' + self.type.upper()

    @property
    def fill(self):
        """The C statement that sets this member of key k (payload p in scope)."""
        if self.field:
            return f'k.{self.name} = p->{self.field.name};'
        if self.type == 'comm':
            return f'bpf_get_current_comm(k.{self.name}, sizeof(k.{self.name}));'
        return f'k.{self.name} = {HEADER_VALUES[self.name][1]};'


class Aggregation:
    def __init__(self, ev, name, by, sums, hist):
        self.event, self.name, self.by, self.sums, self.hist = ev, name, by, sums, hist
        self.index = 0      # across the schema: the generated table's order
        self.key_size = 0
        layout_key(self)

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


def layout_key(agg):
    """The key struct's layout; an empty `by` keeps one zero __u32 (C has no empty
    structs), so every event lands on one key."""
    agg.key_size = natural_layout(agg.by) if agg.by else 4


def check(checker, ev):
    """Reads ev.raw['emit'] and ev.raw['aggregate'] into ev.aggregations; errors go to
    checker.err. Runs after the payload fields are checked."""
    emit = ev.raw.get('emit', True)
    if not isinstance(emit, bool):
        checker.err(ev.label, f'emit {emit!r} is not true or false',
                    'emit = false: counted by its aggregations only, nothing sent')
    raw = ev.raw.get('aggregate', [])
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        checker.err(ev.label, 'aggregate is not a list of tables',
                    '{ name = "...", by = [...], sum = [...], hist = "..." }')
        return
    if emit is False and not raw:
        checker.err(ev.label, 'emit = false without an aggregate: the event would count nothing',
                    'declare aggregate = [ { name = "...", by = [...] } ], or drop emit')
    names = set()
    for a in raw:
        agg = _check_one(checker, ev, a)
        if agg is None:
            continue
        if agg.name in names:
            checker.err(f'{ev.label} aggregate {agg.name!r}', 'duplicate aggregation name',
                        'names are unique within an event')
            continue
        names.add(agg.name)
        ev.aggregations.append(agg)


def _check_one(checker, ev, a):
    from validate import IDENT  # validate imports this module

    name = a.get('name')
    where = f'{ev.label} aggregate {name!r}' if isinstance(name, str) else f'{ev.label} aggregate'
    ok = True

    def err(what, allowed=None):
        nonlocal ok
        ok = False
        checker.err(where, what, allowed)

    for key in a:
        if key not in AGG_KEYS:
            err(f'unknown key {key!r}', 'allowed: ' + ', '.join(AGG_KEYS))
    if not isinstance(name, str) or not IDENT.match(name):
        err(f'name {name!r} is not an identifier', 'letters, digits, _; not starting with a digit')
    fields = {f.name: f for f in ev.fields if isinstance(f.name, str) and f.type}
    header = HEADER_VALUES if ev.kind.has_task else {k: HEADER_VALUES[k] for k in TASKLESS_VALUES}
    keyable = [n for n, f in fields.items() if not f.is_var] + [n for n in header if n not in fields]
    numeric = [n for n, f in fields.items() if f.is_int and f.type != 'bool' and not f.names]

    def listed(key):
        value = a.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            err(f'{key} is not a list of names', f'{key} = ["name", ...]')
            return []
        for v in sorted({v for v in value if value.count(v) > 1}):
            err(f'{key} names {v!r} twice')
        return list(dict.fromkeys(value))

    by = []
    for n in listed('by'):
        f = fields.get(n)
        if f is not None and f.is_var:
            err(f'by {n!r} is a variable field ({f.type}): keys are fixed-size',
                'fixed fields and header values: ' + ', '.join(keyable))
        elif f is not None:
            by.append(KeyPart(n, f))
        elif n in header:
            by.append(KeyPart(n))
        elif n in HEADER_VALUES:
            err(f'by {n!r}: a {ev.kind.name} event has no current task', 'allowed: ' + ', '.join(keyable))
        else:
            err(f'by names {n!r}, which is neither a payload field nor a header value',
                'allowed: ' + ', '.join(keyable))

    def numeric_field(key, n):
        f = fields.get(n)
        if f is None:
            err(f'{key} names {n!r}, which is not a payload field', 'integer fields: ' + (', '.join(numeric) or 'none'))
        elif n not in numeric:
            err(f'{key} {n!r} is not an integer field ({f.type})', 'integer fields: ' + (', '.join(numeric) or 'none'))
        else:
            return f
        return None

    sums = [numeric_field('sum', n) for n in listed('sum')]
    hist = a.get('hist')
    if hist is not None and not isinstance(hist, str):
        err(f'hist {hist!r} is not one field name', 'hist = "field"')
        hist = None
    hist_field = numeric_field('hist', hist) if hist is not None else None
    if not ok:
        return None
    return Aggregation(ev, name, by, sums, hist_field)


def number(schema):
    """Numbers every aggregation across the schema, in declaration order; returns them."""
    out = [a for ev in schema.events for a in ev.aggregations]
    for i, a in enumerate(out):
        a.index = i
    return out

