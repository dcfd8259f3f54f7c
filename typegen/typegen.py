#!/usr/bin/env python3
"""typegen.py: turns events.toml into the tracer's generated code.

    typegen.py EVENTS.toml OUTDIR [--vmlinux H] [--tracefs DIR]
    typegen.py import CATEGORY/NAME... (tables for tracepoints, see tracefs_import.py)

writes OUTDIR/events.gen.h (shared structs, enums, layout asserts), fill.gen.bpf.h (the
BPF handlers of each event), json.gen.c (per-event JSON serializers + reflection table),
attach.gen.c (what the loader attaches per event), aggregate.gen.bpf.h and aggregate.gen.c
(the maps and updates of each aggregation, and their reflection table), kinds.gen.h and
kinds.gen.c (the kinds of probe, from kinds.py: their enum and table), kind_ops.gen.c
(the table of their operations), types.gen.rs
(the Rust crate's types) and events.schema.json (JSON Schema of one output line).
Output depends only on the inputs
(deterministic); a file whose bytes would not change is left untouched so that make
rebuilds only what really changed. Exit status 1 with one line per schema error.
"""
import argparse
import json
import os
import sys

import jinja2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cgen  # noqa: E402
import cstructs  # noqa: E402
import json_schema  # noqa: E402
import rsgen  # noqa: E402
import tracefs  # noqa: E402
import tracefs_import  # noqa: E402
import validate  # noqa: E402
from kinds import KINDS, MAX_FREQUENCY, kind_enum  # noqa: E402
from vmlinux_index import VmlinuxIndex  # noqa: E402

TEMPLATES = ('events.gen.h', 'fill.gen.bpf.h', 'json.gen.c', 'attach.gen.c', 'aggregate.gen.bpf.h',
             'aggregate.gen.c', 'types.gen.rs', 'kinds.gen.h', 'kinds.gen.c', 'kind_ops.gen.c')


def render(schema, vmlinux):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(HERE, 'templates')),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)
    for name in ('c_string', 'c_comment', 'int_expr', 'var_call', 'arena_need', 'new_image_call', 'reread_mask',
                 'when_c', 'key_decl', 'key_fill'):
        env.filters[name] = getattr(cgen, name)
    for name in ('camel', 'rust_ident', 'rust_string', 'rust_doc', 'raw_type', 'view_type', 'mirror_name', 'member_type',
                 'member_default', 'key_type', 'c_rust_type'):
        env.filters[name] = getattr(rsgen, name)
    env.filters['parens'] = lambda text: f'({text})'

    source = os.path.basename(schema.path)
    mirrored = cstructs.mirrored(len(schema.events))
    out = {}
    for name in TEMPLATES:
        tpl = env.get_template(name + '.j2')
        out[name] = tpl.render(events=schema.events, aggregations=schema.aggregations, source=source,
                               ctx_decl=lambda ev: cgen.ctx_decl(ev, vmlinux), max_payload=max([e.payload_size for e in schema.events] or [0]),
                               mirrored=mirrored, mirrored_enums=cstructs.mirrored_enums(kind_enum()),
                               kcounters=cstructs.kcounters(), kinds=list(KINDS.values()),
                               max_frequency=MAX_FREQUENCY)
    out['events.schema.json'] = json.dumps(json_schema.build(schema), indent=2) + '\n'
    return out


def write_if_changed(path, text):
    try:
        with open(path, encoding='utf-8') as f:
            if f.read() == text:
                return
    except OSError:
        pass
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ['import']:
        return tracefs_import.main(argv[1:], tracefs.mounted())
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('events')
    ap.add_argument('outdir')
    ap.add_argument('--vmlinux', default=os.path.relpath(os.path.join(HERE, '..', 'vendor', 'vmlinux.h')),
                    help='kernel type dump checked for ctx./task. sources ("" to skip)')
    ap.add_argument('--tracefs', default=tracefs.mounted(),
                    help='tracefs root for syscall argument counts (default: the mounted one; "" for none)')
    args = ap.parse_args(argv)

    vmlinux = None
    if args.vmlinux:
        if not os.path.isfile(args.vmlinux):
            print(f'typegen: {args.vmlinux} is missing (run `make vmlinux`)', file=sys.stderr)
            return 1
        vmlinux = VmlinuxIndex(args.vmlinux)
    try:
        schema = validate.load(args.events, vmlinux, tracefs.Tracefs(args.tracefs) if args.tracefs else None)
    except validate.SchemaError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return 1
    os.makedirs(args.outdir, exist_ok=True)
    for name, text in render(schema, vmlinux).items():
        write_if_changed(os.path.join(args.outdir, name), text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
