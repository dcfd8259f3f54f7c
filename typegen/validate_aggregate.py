"""validate_aggregate.py: an event's `aggregate` list, checked into model.Aggregation.

    aggregate = [ { name = "bytes_by_comm", by = ["comm"], sum = ["count"], hist = "count" } ]

`by` names header values (model.HEADER_VALUES) and fixed payload fields; a payload field
of the same name as a header value wins. Errors name the event and the aggregation,
like every schema error; validate.py calls check() once an event's fields are checked.
"""
from model import HEADER_VALUES, IDENT, TASKLESS_VALUES, Aggregation, KeyPart

AGG_KEYS = ('name', 'by', 'sum', 'hist')


def check(checker, ev, table):
    """Reads the event table's emit and aggregate into ev.aggregations; errors go to
    checker.err. Runs after the payload fields are checked."""
    emit = table.get('emit', True)
    if not isinstance(emit, bool):
        checker.err(ev.label, f'emit {emit!r} is not true or false',
                    'emit = false: counted by its aggregations only, nothing sent')
    raw = table.get('aggregate', [])
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
