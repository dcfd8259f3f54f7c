/* maps.bpf.h: the maps and run-time configuration shared by every handler.
 *
 * Sizes here are placeholders: the loader sets the ring buffer size, the arena's
 * per-CPU region size and the CPU count before load (c/loader.c). */
#ifndef BOOTSTRAP_MAPS_BPF_H
#define BOOTSTRAP_MAPS_BPF_H

#include "bootstrap_protocol.h"
#include "events.gen.h"

/* Headers (+ fixed payloads) of every event, in commit order. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} bs_events_rb SEC(".maps");

/* The payload arena: element i is CPU i's region (bs_arena_mask + 1 bytes) plus slack, so a
 * variable field never wraps. mmapped by user space, which reads payloads in place. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, (2 << 20) + BOOTSTRAP_ARENA_SLACK);
	__uint(max_entries, 1);
} bs_arena SEC(".maps");

/* Per-CPU arena positions: head (kernel) and released (user space). mmapped too. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct bootstrap_arena_ctl);
	__uint(max_entries, 1);
} bs_arena_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct bootstrap_kcounters);
	__uint(max_entries, BOOTSTRAP_N_EVENTS);
} bs_counters SEC(".maps");

/* Processes to trace when the pid filter is on (key tgid). Not preallocated: it holds
 * a handful of entries in the common case, and preallocation would cost 5 MiB. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 65536);
} bs_traced_tgids SEC(".maps");

/* Processes never traced (key tgid), whatever the other filters say: bootstrap_exclude_pid()
 * (c/exclude.c) keeps it and bs_n_excluded, its entry count, which spares every event the
 * lookup while it is empty. A few entries in practice (the readers of the output). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u8);
	__uint(max_entries, 1024);
} bs_excl_tgids SEC(".maps");
volatile __u32 bs_n_excluded;

/* Adds n to a per-CPU counter or aggregate: atomically, as handlers of one event may
 * preempt one another on a CPU (record.bpf.h). */
#define bs_count(p, n) __sync_fetch_and_add((p), (n))

/* Fixed at load time (read-only: the verifier treats them as constants). */
const volatile __u64 bs_arena_mask = (2 << 20) - 1;   /* region bytes - 1, a power of two */
const volatile __u64 bs_wake_ring_bytes = 1 << 20;    /* wake the consumer at this much backlog */
const volatile __u64 bs_wake_arena_bytes = 512 << 10; /* ... or this much unreleased arena */

/* Run-time filters, written by user space through the mmapped .bss. */
volatile __u32 bs_self_tgid;
volatile __u32 bs_filter_pids;
volatile __u32 bs_filter_comm;
volatile char bs_comm_filter[BOOTSTRAP_COMM_LEN];
volatile __u64 bs_boot_to_wall_ns;
volatile __u8 bs_enabled[BOOTSTRAP_N_EVENTS];
/* Per event: its retry at the syscall exit is attached, so a faulted entry may wait. */
volatile __u8 bs_retry_enabled[BOOTSTRAP_N_EVENTS];

#endif
