"""json_schema.py: the JSON Schema (draft 2020-12) of one NDJSON output line.

A line is an event or an aggregate line (oneOf). Each event type gets an exact shape:
its event_id and event_type as constants, the task keys unless its kind has no task
(xdp: they are left out, the order of the rest kept), its payload keys with integer
ranges from the field types, and the names that may appear in "truncated" (its variable
fields), "lost" (those, and the integer fields that can be lost: entry values without
an entry, values read through a pointer) and "reread" (the fields a syscall entry
completed at its exit reads there). Each aggregation gets the shape of its lines:
its key members, and sum and hist exactly when it declares them.
"""
from model import INT_TYPES

TASK_KEYS = ('pid', 'tid', 'ppid', 'upid', 'uppid', 'uid', 'cgroup_id', 'comm')
HEADER_KEYS = ('event_id', 'event_type', 'timestamp_ns', *TASK_KEYS, 'payload')
U32 = {'type': 'integer', 'minimum': 0, 'maximum': 0xffffffff}
U64 = {'type': 'integer', 'minimum': 0, 'maximum': 0xffffffffffffffff}
HEADER = {
    'event_id': U32, 'event_type': {'type': 'string'}, 'timestamp_ns': U64,
    'pid': U32, 'tid': U32, 'ppid': U32, 'upid': U64, 'uppid': U64, 'uid': U32,
    'cgroup_id': U64, 'comm': {'type': 'string', 'maxLength': 15},
}


# One frame of a stack, innermost first: "symbol+0xOFF (module)" when resolved, "0xADDR
# (module+0xOFF)" in a module without a symbol there (OFF: in the module's file), "0xADDR"
# otherwise. Kernel frames name their module "[kernel]" or "[MODULE]".
STACK_FRAME_PATTERN = r'^(0x[0-9a-f]+|.+\+0x[0-9a-f]+)( \(.+\))?$'
STACK_DESCRIPTION = ('frames, innermost first: "symbol+0xOFF (module)", "0xADDR (module+0xOFF)" or "0xADDR"; '
                     'null when the field was lost')


def _int_range(t):
    _, size, signed = INT_TYPES[t]
    bits = size * 8
    if signed:
        return {'type': 'integer', 'minimum': -(1 << (bits - 1)), 'maximum': (1 << (bits - 1)) - 1}
    return {'type': 'integer', 'minimum': 0, 'maximum': (1 << bits) - 1}


def _value(type_, names=None):
    """A fixed value of `type_` (an integer type, ip, or comm)."""
    if type_ == 'ip':
        return {'type': 'string', 'description': 'an IPv4 or IPv6 address'}
    if type_ == 'comm':
        return {'type': 'string', 'maxLength': 15}
    if type_ == 'bool':
        return {'type': 'boolean'}
    if names:
        return {'anyOf': [{'enum': list(names)}, _int_range(type_)],
                'description': 'the name of the value, or the number when it has none'}
    return _int_range(type_)


def _field(f):
    if not f.is_var:
        shape = _value(f.type, f.names)
        if f.may_be_lost:
            return {'anyOf': [shape, {'type': 'null'}], 'description': 'null when the field was lost'}
        return shape
    if f.type == 'char[]':
        return {'type': ['string', 'null'], 'description': 'null when the field was lost'}
    if f.type == 'stack':
        return {'type': ['array', 'null'], 'items': {'type': 'string', 'pattern': STACK_FRAME_PATTERN},
                'maxItems': f.max, 'description': STACK_DESCRIPTION}
    return {'type': ['array', 'null'], 'items': {'type': 'string'}}


def _event(ev):
    props = {f.name: _field(f) for f in ev.fields}
    names = [f.name for f in ev.var_fields]
    lostable = [f.name for f in ev.fields if f.is_var or f.may_be_lost]
    keys = [k for k in HEADER_KEYS if ev.kind.has_task or k not in TASK_KEYS]
    out = {
        'title': ev.type_name,
        'description': ev.comment,
        'type': 'object',
        'properties': {
            **{k: HEADER[k] for k in keys if k in HEADER},
            'event_id': {'const': ev.id},
            'event_type': {'const': ev.type_name},
            'payload': {'type': 'object', 'properties': props, 'required': [f.name for f in ev.fields],
                        'additionalProperties': False},
        },
        'required': keys,
        'additionalProperties': False,
    }
    # A key may appear only when some field can carry that flag.
    def flag(allowed):
        return {'type': 'array', 'items': {'enum': allowed}, 'minItems': 1, 'uniqueItems': True} if allowed else False
    out['properties']['truncated'] = flag(names)
    out['properties']['lost'] = flag(lostable)
    out['properties']['reread'] = flag([f.name for f in ev.reread_fields])
    return out


def _aggregation(a):
    """Its lines: {"aggregate", "event_type", "timestamp_ns", "key", "count"[, "sum"][, "hist"]}."""
    key = {p.name: _value(p.type, p.field.names if p.field else None) for p in a.by}
    props = {
        'aggregate': {'const': a.name},
        'event_type': {'const': a.event.type_name},
        'timestamp_ns': U64,
        'key': {'type': 'object', 'properties': key, 'required': list(key), 'additionalProperties': False},
        'count': U64,
    }
    if a.sums:
        props['sum'] = {'type': 'object', 'required': [f.name for f in a.sums], 'additionalProperties': False,
                        'properties': {f.name: {'type': 'integer'} for f in a.sums}}
    if a.hist:
        bucket = {'type': 'object', 'required': ['lt', 'count'], 'additionalProperties': False,
                  'properties': {'ge': {'type': 'integer'}, 'lt': {'type': 'integer'}, 'count': U64}}
        props['hist'] = {'type': 'object', 'required': ['field', 'buckets'], 'additionalProperties': False,
                         'properties': {'field': {'const': a.hist.name},
                                        'buckets': {'type': 'array', 'items': bucket}}}
    return {
        'title': f'aggregate {a.name} of {a.event.type_name}',
        'type': 'object',
        'properties': props,
        'required': list(props),
        'additionalProperties': False,
    }


def build(schema):
    return {
        '$schema': 'https://json-schema.org/draft/2020-12/schema',
        'title': 'One NDJSON line of the tracer: an event, or an aggregate line',
        'type': 'object',
        'oneOf': [_event(ev) for ev in schema.events] + [_aggregation(a) for a in schema.aggregations],
    }
