#!/bin/sh
# symbols_test.sh: every global symbol the library's own objects define carries the
# project prefix (bootstrap_ public, bs_ internal), so an embedder's arena_init or
# jw_string cannot collide with ours. libbpf's objects, merged into the archive, keep
# libbpf's names.
set -eu
bad=$(nm -g --defined-only "$@" | awk 'NF == 3 && $3 !~ /^(bootstrap_|bs_)/ { print $3 }')
if [ -n "$bad" ]; then
	echo "symbols: global symbols without the bootstrap_/bs_ prefix:" $bad >&2
	echo "symbols: 0 passed, 1 failed"
	exit 1
fi
echo "symbols: 1 passed, 0 failed"
