"""json_schema.py: the JSON Schema (draft 2020-12) of one NDJSON output line.

Each event type gets an exact shape: its event_id and event_type as constants, its
payload keys with integer ranges from the field types, and the names that may appear
in "truncated" (its variable fields) and "lost" (those, and the integer fields that can
be lost: entry values without an entry, values read through a pointer).
"""
from model import INT_TYPES

HEADER_KEYS = ('event_id', 'event_type', 'timestamp_ns', 'pid', 'tid', 'ppid', 'upid',
               'uppid', 'uid', 'cgroup_id', 'comm', 'payload')


# One frame of a stack, innermost first: "symbol+0xOFF (module)" when resolved, "0xADDR
# (module)" in a module without a symbol there, "0xADDR" otherwise. Kernel frames name
# their module "[kernel]" or "[MODULE]".
STACK_FRAME_PATTERN = r'^(0x[0-9a-f]+|.+\+0x[0-9a-f]+)( \(.+\))?$'
STACK_DESCRIPTION = ('frames, innermost first: "symbol+0xOFF (module)", "0xADDR (module)" or "0xADDR"; '
                     'null when the field was lost')


def _int_range(t):
    _, size, signed = INT_TYPES[t]
    bits = size * 8
    if signed:
        return {'type': 'integer', 'minimum': -(1 << (bits - 1)), 'maximum': (1 << (bits - 1)) - 1}
    return {'type': 'integer', 'minimum': 0, 'maximum': (1 << bits) - 1}


def _field(f):
    if f.type in INT_TYPES:
        shape = {'type': 'boolean'} if f.type == 'bool' else _int_range(f.type)
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
    out = {
        'title': ev.type_name,
        'description': ev.comment,
        'type': 'object',
        'properties': {
            'event_id': {'const': ev.id},
            'event_type': {'const': ev.type_name},
            'payload': {'type': 'object', 'properties': props, 'required': [f.name for f in ev.fields],
                        'additionalProperties': False},
        },
        'required': list(HEADER_KEYS),
    }
    # A key may appear only when some field can carry that flag.
    def flag(allowed):
        return {'type': 'array', 'items': {'enum': allowed}, 'minItems': 1, 'uniqueItems': True} if allowed else False
    out['properties']['truncated'] = flag(names)
    out['properties']['lost'] = flag(lostable)
    return out


def build(schema):
    u32 = {'type': 'integer', 'minimum': 0, 'maximum': 0xffffffff}
    u64 = {'type': 'integer', 'minimum': 0, 'maximum': 0xffffffffffffffff}
    header = {
        'event_id': u32, 'event_type': {'type': 'string'}, 'timestamp_ns': u64,
        'pid': u32, 'tid': u32, 'ppid': u32, 'upid': u64, 'uppid': u64, 'uid': u32,
        'cgroup_id': u64, 'comm': {'type': 'string', 'maxLength': 15}, 'payload': {'type': 'object'},
        'truncated': {'type': 'array'}, 'lost': {'type': 'array'},
    }
    return {
        '$schema': 'https://json-schema.org/draft/2020-12/schema',
        'title': 'One NDJSON line of the tracer',
        'type': 'object',
        'properties': header,
        'required': list(HEADER_KEYS),
        'additionalProperties': False,
        'oneOf': [_event(ev) for ev in schema.events],
    }
