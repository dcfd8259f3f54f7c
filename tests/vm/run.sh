#!/bin/bash
# run.sh DIR INITRAMFS KERNEL_PACKAGE...: boots each Debian kernel package (a metapackage
# such as linux-image-amd64 is resolved to the version it depends on now) under qemu
# (TCG) with the test initramfs, and reads the results from the serial console, kept in
# DIR/KERNEL_PACKAGE.log (with the kernel's warnings: loglevel=5). Fails when a test
# fails, the guest kernel panics or warns, the end marker is missing or the VM is not
# done within VM_TIMEOUT seconds (900 by default: the guest's time is the host's, and
# PREEMPT_RT under emulation on a busy 2-CPU host took 8 minutes), naming what failed.
set -eu -o pipefail
dir=$1 initramfs=$2
shift 2
timeout_s=${VM_TIMEOUT:-900}

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "vmtest: FAIL: needs qemu-system-x86_64 (apt-get install qemu-system-x86: the README's set-up line)" >&2
	exit 1
fi

kernel_alarm='Kernel panic|BUG:|Oops|WARNING: CPU:'

# passed/failed count test suites; a kernel that ran none counts as one failed.
failures=0 passed=0 failed=0
fail() {
	echo "vmtest: FAIL [$name] $*"
	failures=$((failures + 1))
}

# The lines of test $1's section of the log that say what failed (Criterion's
# [FAIL]/[----] lines, pytest's FAILED/ERROR/E lines, any line saying "failed"), or the
# section's last lines when none does (a crash).
failure_lines() {
	awk -v t="$1" '$0 == "vmtest: BEGIN " t { on = 1; n = 0; next } index($0, "vmtest: END " t " ") == 1 { on = 0 }
		on { tail[n++ % 20] = $0 }
		on && /\[FAIL\]|\[----\]|^FAILED |^ERROR |^E  |[Ff]ailed|Crash|Timeout/ && shown < 60 { print; shown++ }
		END { if (!shown) for (i = (n > 20 ? n - 20 : 0); i < n; i++) print tail[i % 20] }' "$log"
}

for name; do
	pkg=$(apt-cache depends "$name" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-.*\)/\1/p' | head -n 1)
	pkg=${pkg:-$name}
	boot=$(tests/vm/fetch.sh "$dir" "$pkg" ./boot)/boot
	config=$(echo "$boot"/config-*)
	for option in CONFIG_BPF_SYSCALL CONFIG_DEBUG_INFO_BTF; do
		if ! grep -qx "$option=y" "$config"; then
			fail "$pkg lacks $option: it cannot run the suite"
			failed=$((failed + 1))
			continue 2
		fi
	done
	kprobes=0
	grep -qx CONFIG_KPROBES=y "$config" && kprobes=1
	log=$dir/$name.log
	echo "vmtest: [$name] booting $pkg (log: $log)"
	start=$SECONDS
	# The console goes to the log, without its carriage returns and the firmware's
	# terminal escapes; its vmtest: lines are shown as they come. Both vCPUs run in one
	# host thread (thread=single): with one thread each, a CPU running a syscall while
	# the other patches the syscall tracepoint's jump in or out (attach, detach) hung
	# both for good (after 12 and after 22 detaches while a shell forked).
	set +e
	timeout -k 10 "$timeout_s" qemu-system-x86_64 -accel tcg,thread=single -smp 2 -m 2G -nic none -nographic -no-reboot \
		-kernel "$boot"/vmlinuz-* -initrd "$initramfs" \
		-append "console=ttyS0 panic=-1 loglevel=5 BOOTSTRAP_EXPECT_KPROBES=$kprobes" </dev/null 2>&1 |
		sed -u -e 's/\r$//' -e 's/\x1b\(\[[0-9;?]*\)\?[a-zA-Z]//g' | tee "$log" | grep --line-buffered '^vmtest: '
	qemu_status=${PIPESTATUS[0]}
	set -e
	echo "vmtest: [$name] done in $((SECONDS - start)) s"

	if [ "$qemu_status" = 124 ]; then
		fail "no result within ${timeout_s} s (VM_TIMEOUT)"
	fi
	# The guest kernel's own alarms: a panic, an oops, a BUG (a soft lockup is one) or a
	# WARN; the first is shown with the lines that led to it.
	alarms=$(grep -cE "$kernel_alarm" "$log" || true)
	if [ "$alarms" != 0 ]; then
		fail "the guest kernel reported $alarms problem(s); the first:"
		grep -B 10 -m 1 -E "$kernel_alarm" "$log"
	fi
	while read -r t; do
		fail "$t"
		failure_lines "$t"
	done < <(sed -n 's/^vmtest: END \([^ ]*\) rc=[1-9].*/\1/p' "$log")
	totals=$(sed -n 's/^vmtest: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log")
	if [ -z "$totals" ]; then
		hung=$(awk '/^vmtest: BEGIN / { t = $3 } /^vmtest: END / { t = "" } END { print t }' "$log")
		fail "no end marker: the guest did not finish${hung:+ (it was running $hung)}"
		failed=$((failed + 1))
		if [ -n "$hung" ]; then
			failure_lines "$hung"
		elif [ "$alarms" = 0 ]; then
			tail -n 20 "$log"
		fi
	else
		passed=$((passed + ${totals% *})) failed=$((failed + ${totals#* }))
	fi
done
echo "vmtest: $passed passed, $failed failed"
[ "$failures" = 0 ]
