#!/bin/sh
# require_bpf.sh CMD [ARG...]: runs a test command that loads BPF programs. Without root
# or kernel BTF it fails when REQUIRE_BPF=1 (CI), and otherwise skips, saying so loudly.
if [ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
	exec "$@"
fi
why="needs root and kernel BTF (/sys/kernel/btf/vmlinux)"
if [ "${REQUIRE_BPF:-0}" = 1 ]; then
	echo "FAIL: $* $why, and REQUIRE_BPF=1" >&2
	exit 1
fi
echo "SKIPPED: $* $why (REQUIRE_BPF=1 makes this a failure)" >&2
exit 0
