#!/bin/sh
# symbols_test.sh [--bpf BPF_OBJECT] ARCHIVE|OBJECT...: every global symbol defined there
# carries the project prefix (bootstrap_ public, bs_ internal), so an embedder's
# arena_init or jw_string cannot collide with ours. Run on the archive, it also finds any
# libbpf object inside it (libbpf is linked beside the archive, once, by whoever links the
# program). In the BPF object, every map and global (its data symbols; programs are named
# for their attach point) is bs_*: those names are what `bpftool map` lists next to every
# other tool's. LICENSE is libbpf's convention.
set -eu
bad=
if [ "${1:-}" = --bpf ]; then
	bad=$(nm --defined-only "$2" | awk 'NF == 3 && $2 ~ /^[BbDdRr]$/ && $3 !~ /^bs_/ && $3 != "LICENSE" { print $3 }')
	shift 2
fi
bad="$bad $(nm -g --defined-only "$@" | awk 'NF == 3 && $3 !~ /^(bootstrap_|bs_)/ { print $3 }')"
if [ -n "${bad# }" ]; then
	echo "symbols: maps, globals or symbols without the bootstrap_/bs_ prefix:" $bad >&2
	echo "symbols: 0 passed, 1 failed"
	exit 1
fi
echo "symbols: 1 passed, 0 failed"
