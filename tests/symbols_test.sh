#!/bin/sh
# symbols_test.sh ARCHIVE|OBJECT...: every global symbol defined there carries the
# project prefix (bootstrap_ public, bs_ internal), so an embedder's arena_init or
# jw_string cannot collide with ours. Run on the archive, it also finds any libbpf object
# inside it (libbpf is linked beside the archive, once, by whoever links the program).
set -eu
bad=$(nm -g --defined-only "$@" | awk 'NF == 3 && $3 !~ /^(bootstrap_|bs_)/ { print $3 }')
if [ -n "$bad" ]; then
	echo "symbols: global symbols without the bootstrap_/bs_ prefix:" $bad >&2
	echo "symbols: 0 passed, 1 failed"
	exit 1
fi
echo "symbols: 1 passed, 0 failed"
