"""json_schema.py: the JSON Schema (draft 2020-12) of one NDJSON output line.

Each event type gets an exact shape: its event_id and event_type as constants, its
payload keys with integer ranges from the field types, and the names that may appear
in "truncated" / "lost" (only its variable fields).
"""
from schema import INT_TYPES

HEADER_KEYS = ('event_id', 'event_type', 'timestamp_ns', 'pid', 'tid', 'ppid', 'upid',
               'uppid', 'uid', 'cgroup_id', 'comm', 'payload')


def _int_range(t):
    _, size, signed = INT_TYPES[t]
    bits = size * 8
    if signed:
        return {'type': 'integer', 'minimum': -(1 << (bits - 1)), 'maximum': (1 << (bits - 1)) - 1}
    return {'type': 'integer', 'minimum': 0, 'maximum': (1 << bits) - 1}


def _field(f):
    if f.type == 'bool':
        return {'type': 'boolean'}
    if f.type in INT_TYPES:
        return _int_range(f.type)
    if f.type == 'char[]':
        return {'type': ['string', 'null'], 'description': 'null when the field was lost'}
    return {'type': ['array', 'null'], 'items': {'type': 'string'}}


def _event(ev):
    props = {f.name: _field(f) for f in ev.fields}
    names = [f.name for f in ev.var_fields]
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
    # Only variable fields can be truncated or lost: without any, neither key may appear.
    flagged = False
    if names:
        flagged = {'type': 'array', 'items': {'enum': names}, 'minItems': 1, 'uniqueItems': True}
    out['properties']['truncated'] = flagged
    out['properties']['lost'] = flagged
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
