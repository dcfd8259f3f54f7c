/* floor.bpf.c: the cheapest useful tracer, as a lower bound for the benchmark.
 *
 * One 64-byte ring-buffer record per event of the traced process (and, for exec, of its
 * children), submitted without waking the consumer: the loader drains the buffer on a
 * timer. What a real tracer costs above this is the price of its payloads and features.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "floor.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid;

/* Records that found the ring buffer full; read by the loader at exit. */
__u64 dropped;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} records SEC(".maps");

static __always_inline int emit(enum floor_kind kind, __u64 arg)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u32 ppid = 0;
	struct floor_record *r;

	if (tgid != target_tgid) {
		/* Only exec is followed one generation down: the workload's children exec. */
		if (kind != FLOOR_EXEC)
			return 0;
		ppid = BPF_CORE_READ(task, real_parent, tgid);
		if (ppid != target_tgid)
			return 0;
	}
	r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	r->timestamp_ns = bpf_ktime_get_ns();
	r->kind = kind;
	r->tgid = tgid;
	r->tid = (__u32)id;
	r->ppid = ppid;
	r->arg = arg;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp/syscalls/sys_enter_openat")
int floor_openat(struct trace_event_raw_sys_enter *ctx)
{
	return emit(FLOOR_OPENAT, ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_write")
int floor_write(struct trace_event_raw_sys_enter *ctx)
{
	return emit(FLOOR_WRITE, ctx->args[0]);
}

SEC("tp/sched/sched_process_exec")
int floor_exec(void *ctx)
{
	(void)ctx;
	return emit(FLOOR_EXEC, 0);
}
