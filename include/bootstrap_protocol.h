/* bootstrap_protocol.h: the wire format shared by the BPF programs and the library.
 *
 * One header per event travels through the BPF ring buffer, immediately followed by
 * the event's fixed-size payload struct (generated into events.gen.h). Variable-length
 * fields are written into this CPU's region of the payload arena; the payload holds a
 * struct bootstrap_var per variable field saying where. The same definitions compile
 * for the BPF target (with vmlinux.h) and for user space (with <linux/types.h>).
 */
#ifndef BOOTSTRAP_PROTOCOL_H
#define BOOTSTRAP_PROTOCOL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Layout asserts: C11 spells them _Static_assert, C++ static_assert, and this header and
 * the generated one are included by both (an embedder may be C++). */
#ifdef __cplusplus
#define BOOTSTRAP_STATIC_ASSERT static_assert
#else
#define BOOTSTRAP_STATIC_ASSERT _Static_assert
#endif

#define BOOTSTRAP_COMM_LEN 16

/* Largest variable field (bytes). A field never wraps inside a region: the arena
 * element is a power-of-two region followed by this much slack, so a field that
 * starts near the region's end runs on contiguously into the slack. A string read
 * needs max + 1 bytes (its NUL), hence the slack is twice the field cap. */
#define BOOTSTRAP_FIELD_MAX_BYTES 32768
#define BOOTSTRAP_ARENA_SLACK (2 * BOOTSTRAP_FIELD_MAX_BYTES)

/* Fields per event: their truncated/lost flags are bits of 32-bit masks. */
#define BOOTSTRAP_MAX_FIELDS 32

/* Attach targets (a function, binary:function or category/name) are numbered per
 * instance; the number is the link's BPF cookie and indexes the target table, so one
 * program attached to many targets can say which one fired. */
#define BOOTSTRAP_MAX_TARGETS 256
#define BOOTSTRAP_TARGET_NAME_MAX 240
#define BOOTSTRAP_MAX_ARGS 6

/* One entry of the target table (a BPF array written by the loader). A tracepoint
 * attached by name at run time has no typed context: arg_size/arg_off locate the first
 * fields of its record (arg_size 0: no such field). */
struct bootstrap_target {
	char name[BOOTSTRAP_TARGET_NAME_MAX];
	__u16 arg_off[BOOTSTRAP_MAX_ARGS];
	__u8 arg_size[BOOTSTRAP_MAX_ARGS];
	__u8 pad[6];
};

struct bootstrap_header {
	__u64 timestamp_ns;   /* wall clock (CLOCK_REALTIME), ns */
	__u64 upid;           /* (leader start time in 10 ms units << 22) | tgid */
	__u64 uppid;          /* the same for the parent process */
	__u64 cgroup_id;
	__u64 arena_start;    /* monotonic arena position of the first payload byte */
	__u64 arena_end;      /* position just past the last payload byte */
	__u32 event_id;       /* the schema's stable id */
	__u32 pid;            /* tgid */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 truncated_mask; /* bit i: field i (schema order) was cut at its max */
	__u32 lost_mask;      /* bit i: field i is missing (arena full, read fault, no entry) */
	__u32 reread_mask;    /* bit i: field i was read at the syscall's exit, not at its entry */
	__u16 cpu;            /* whose arena region holds the payload */
	__u16 event_index;    /* dense index into the generated event table */
	char comm[BOOTSTRAP_COMM_LEN];
};

/* An address from a packet (field type "ip"): IPv6, or IPv4 as ::ffff:a.b.c.d, in
 * network byte order. */
struct bootstrap_ip {
	__u8 addr[16];
};

/* Where one variable field's bytes are: arena position arena_start + off, len bytes. */
struct bootstrap_var {
	__u32 off;
	__u32 len;
};

/* A user stack field with unwind = "dwarf" (bpf/ustack_copy.bpf.h): these registers of
 * the interrupted user context, then the user stack from sp upward as far as it could be
 * read, copied in chunks of BOOTSTRAP_USTACK_CHUNK bytes; user space unwinds it. */
struct bootstrap_ustack_regs {
	__u64 ip, sp, bp;
};
#define BOOTSTRAP_USTACK_REGS_BYTES 24
#define BOOTSTRAP_USTACK_CHUNK 512

/* Every event's arena span starts and ends at a multiple of this (bpf/record.bpf.h). */
#define BOOTSTRAP_ARENA_ALIGN 8

/* The event_index of a filler record: no event, only an arena span [arena_start,
 * arena_end) the kernel reserved and could not give back, for user space to release. */
#define BOOTSTRAP_FILLER_INDEX 0xffff

/* Per-CPU arena bookkeeping, one cache line per writer so the two sides do not
 * share a line: head is written by the kernel only (each event reserves its span with a
 * compare-and-swap on it), released by user space only. */
struct bootstrap_arena_ctl {
	__u64 head;
	__u64 pad0[7];
	__u64 released;
	__u64 pad1[7];
};

/* The kernel's per-event counters, declared once: X(name, what it counts). The struct
 * below, the library's stats and every report are expanded from this list. */
#define BOOTSTRAP_KCOUNTERS(X)                                                           \
	X(emitted, "header committed to the ring buffer")                                \
	X(ringbuf_full, "event dropped: no room in the ring buffer")                     \
	X(fields_lost, "variable fields dropped: arena region full")                     \
	X(payload_bytes_lost, "bytes of those fields, when their length was known")      \
	X(truncated, "variable fields cut at their max")                                 \
	X(read_faults, "fields whose memory could not be read")                          \
	X(entry_missed, "return points without a recorded entry: entry fields lost")     \
	X(fault_retries, "syscall entries whose faulted reads were redone at the exit")   \
	X(arena_busy, "event dropped: others on this CPU kept winning its arena reservation")     \
	X(aggregate_full, "aggregation updates lost: a new key did not fit in its map")

/* Per-CPU, per-event-type counters (BPF_MAP_TYPE_PERCPU_ARRAY, key = event index).
 * For a known workload: delivered + ringbuf_full == events generated. */
struct bootstrap_kcounters {
#define BOOTSTRAP_KCOUNTER_FIELD(name, what) __u64 name;
	BOOTSTRAP_KCOUNTERS(BOOTSTRAP_KCOUNTER_FIELD)
#undef BOOTSTRAP_KCOUNTER_FIELD
};

/* Aggregations (per-CPU BPF hashes, one per aggregation of events.toml): the value of a
 * key is an array of __u64: the count, then one sum per `sum` field (two's complement
 * for signed fields, modulo 2^64), then, with `hist`, BOOTSTRAP_HIST_BUCKETS log2
 * buckets: [0] values below 0 (signed fields), [1] the value 0, [k] for k >= 2 the values
 * in [2^(k-2), 2^(k-1)). */
#define BOOTSTRAP_HIST_BUCKETS 66

BOOTSTRAP_STATIC_ASSERT(sizeof(struct bootstrap_target) == 264, "target table entry");
BOOTSTRAP_STATIC_ASSERT(sizeof(struct bootstrap_header) == 104, "header layout is part of the protocol");
BOOTSTRAP_STATIC_ASSERT(sizeof(struct bootstrap_var) == 8, "var descriptor layout");
BOOTSTRAP_STATIC_ASSERT(sizeof(struct bootstrap_ustack_regs) == BOOTSTRAP_USTACK_REGS_BYTES, "saved user registers");
BOOTSTRAP_STATIC_ASSERT(sizeof(struct bootstrap_arena_ctl) == 128, "arena ctl: two cache lines");
BOOTSTRAP_STATIC_ASSERT(sizeof(struct bootstrap_kcounters) == 80, "counter layout");

#endif
