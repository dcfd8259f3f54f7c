/* bootstrap.h: the public API of libbootstrap.a, a schema-generated eBPF tracer.
 *
 * Link: libbootstrap.a -lbpf -ldw -lelf -lz -llzma (`pkg-config --static --libs
 * bootstrap`): libbpf is the system's (libbpf-dev, 1.1 or later), shared with an embedder
 * that uses it too; bootstrap_open() sets libbpf's log hook once, passing warnings on to
 * the hook set before it (libbpf's own, or the embedder's).
 * Flow: bootstrap_open() loads and attaches the BPF programs of the selected events,
 * bootstrap_poll() hands each event to a callback (zero copy: pointers are valid during
 * the callback only), bootstrap_stats() reads the drop accounting, bootstrap_close()
 * detaches. Instances share nothing; two can run side by side in one process.
 * Errors are negative errno values; bootstrap_strerror() explains them and the log
 * callback (or stderr) carries the details a person can act on.
 */
#ifndef BOOTSTRAP_H
#define BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bootstrap_protocol.h"
#include "events.gen.h"
#include "kinds.gen.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BOOTSTRAP_VERSION "0.1.0"

struct bootstrap;

enum bootstrap_log_level { BOOTSTRAP_LOG_WARN, BOOTSTRAP_LOG_INFO, BOOTSTRAP_LOG_DEBUG };
typedef void (*bootstrap_log_fn)(void *ctx, enum bootstrap_log_level level, const char *msg);

/* How an event attaches (enum bootstrap_kind, kinds.gen.h: the `kind` of its table in
 * events.toml), as a person writes its targets; indexed by enum bootstrap_kind. */
struct bootstrap_kind_info {
	const char *name;            /* as events.toml's `kind` says it: "uprobe" */
	const char *syntax;          /* how a target is written (bootstrap_attach.target): "binary:function" */
	const char *syntax_declared; /* the same for an event that declares a target, when a run-time
					one may leave part of it out; else NULL */
	const char *arg_name;        /* a target as a command-line argument: "BIN:FUNC"; NULL for a kind
					without a generic probe event (probe/NAME) */
	const char *summary;         /* then what such a probe traces, for help text ('\n' between lines) */
	bool has_task;               /* its events run for a current task (else pid … comm are 0) */
	bool per_process;            /* a target can be limited to one process (bootstrap_attach.pid) */
};

extern const struct bootstrap_kind_info bootstrap_kinds[BOOTSTRAP_N_KINDS];

/* A target given at run time. It selects its event, and replaces the event's declared
 * target (every entry for one event adds a target: one probe event on many functions).
 * target: a tracepoint "category/name", a kprobe's kernel function, a uprobe's
 * "binary:function" or "binary" alone (keeping the declared function); a binary is a
 * path or a library name such as libssl.so.3, found as the dynamic loader would.
 * NULL keeps the declared target (e.g. to set pid only). */
struct bootstrap_attach {
	const char *event;          /* "category/name" of an event of this build */
	const char *target;
	pid_t pid;                  /* uprobes: only this process; 0 = all */
};

struct bootstrap_opts {
	size_t sz;                  /* sizeof(struct bootstrap_opts): lets the struct grow */
	const char *events;         /* "cat/name,cat/pre*" globs; NULL = every event but the
				       opt-in ones (bootstrap_event_info.opt_in) */
	const pid_t *pids;          /* trace only these processes (all their threads) */
	size_t n_pids;
	bool follow_children;       /* ...and every process they fork from now on */
	const char *comm;           /* trace only tasks with this comm (exact, ≤15 bytes) */
	size_t ringbuf_bytes;       /* 0 = default (4 MiB); rounded up to a power of two */
	size_t arena_bytes_per_cpu; /* 0 = default (4 MiB); rounded up to a power of two, >= 64 KiB */
	bool strict;                /* a target absent here (tracepoint, kernel function, binary,
				       symbol, or kprobes on this kernel) fails open instead of
				       skipping that target with a warning */
	unsigned int wakeup_ms;     /* latency bound for delivery; 0 = default (50 ms) */
	bootstrap_log_fn log;       /* NULL = warnings to stderr */
	void *log_ctx;
	const struct bootstrap_attach *attach; /* run-time targets (an xdp event's: an interface) */
	size_t n_attach;
	size_t aggregate_entries;   /* keys per aggregation map; 0 = default (10240) */
};

/* Field types of the schema, as the reflection table reports them. */
enum bootstrap_type {
	BOOTSTRAP_T_U8, BOOTSTRAP_T_U16, BOOTSTRAP_T_U32, BOOTSTRAP_T_U64,
	BOOTSTRAP_T_S8, BOOTSTRAP_T_S16, BOOTSTRAP_T_S32, BOOTSTRAP_T_S64,
	BOOTSTRAP_T_BOOL,
	BOOTSTRAP_T_BYTES,      /* char[]: bytes (NUL-terminated in the arena unless len-bounded) */
	BOOTSTRAP_T_STR_BLOCK,  /* char[][]: NUL-separated strings */
	BOOTSTRAP_T_STR_ARRAY,  /* char*[]: NUL-separated strings read from a pointer array */
	BOOTSTRAP_T_IP,         /* ip: struct bootstrap_ip, a fixed field of packet events */
	BOOTSTRAP_T_STACK,      /* stack: frames as uint64_t addresses, innermost first */
};

struct bootstrap_field_info {
	const char *name;
	enum bootstrap_type type;
	const char *type_name;  /* as written in events.toml: "u32", "char[]" ... */
	uint32_t offset;        /* in the payload struct (a struct bootstrap_var for variable fields) */
	int var_index;          /* index into bootstrap_event.vars, or -1 for fixed fields */
	bool kernel_stack;      /* BOOTSTRAP_T_STACK: kernel frames (kstack), else user (ustack) */
	uint32_t max_len;       /* variable fields: the most bytes the kernel writes (a longer
				   len is a corrupt record, dropped); 0 for fixed fields */
};

struct bootstrap_event_info {
	uint32_t id;            /* the schema's stable id */
	const char *type_name;  /* "category/name" */
	const char *comment;
	uint32_t payload_size;
	uint32_t n_fields;
	const struct bootstrap_field_info *fields;
	uint32_t n_vars;
	enum bootstrap_kind kind;
	uint32_t lossy_fields;  /* bits of the integer fields that can be lost (see below) */
	const char *target;     /* as declared: "category/name", "function", "binary:function";
				   NULL when it is given at run time only (bootstrap_attach) */
	bool opt_in;            /* traced only when a pattern of opts.events selects it, not
				   with events = NULL (opt_in = true in events.toml) */
	uint32_t reread_fields; /* bits of the fields that can be read at the syscall's exit
				   (hdr->reread_mask, see below) */
};

/* The generated reflection table, indexed by event index (enum bootstrap_event_index). */
extern const struct bootstrap_event_info bootstrap_events[BOOTSTRAP_N_EVENTS];

/* Bit i of hdr->truncated_mask / hdr->lost_mask is field i of the event (schema order):
 * a lost integer field (an entry value without an entry, a read through a pointer that
 * faulted) reads 0 in the payload struct and has its bit set. Bit i of
 * hdr->reread_mask: field i was read at the syscall's exit, not at its entry (an entry
 * whose reads faulted, completed at the exit; after a successful exec, from the new
 * image): another thread of the process may have changed that memory in between, so
 * the value is what the memory held at the exit, not necessarily what the kernel used.
 * Only bits of info->reread_fields are ever set. */

/* One variable field of a delivered event. data is NULL when lost. A stack's data is
 * len / 8 uint64_t frames, 8-byte aligned. */
struct bootstrap_field_value {
	const char *data;
	uint32_t len;
	bool truncated;
	bool lost;
};

struct bootstrap_event {
	const struct bootstrap_header *hdr;
	const void *payload;                       /* the event's generated payload struct */
	const struct bootstrap_event_info *info;
	const struct bootstrap_field_value *vars;  /* info->n_vars entries, schema order */
	/* The instance's symbolizer when the selected events have stacks (else NULL):
	 * bootstrap_event_json() names their frames with it; so may the callback. */
	struct bootstrap_symbolizer *symbolizer;
};

/* Return non-zero to make bootstrap_poll() return after this event. */
typedef int (*bootstrap_event_fn)(void *ctx, const struct bootstrap_event *ev);

struct bootstrap_event_stats {
	uint64_t delivered;          /* user: handed to a callback */
	/* kernel: the counters of BOOTSTRAP_KCOUNTERS (bootstrap_protocol.h), summed over CPUs */
#define BOOTSTRAP_STATS_FIELD(name, what) uint64_t name;
	BOOTSTRAP_KCOUNTERS(BOOTSTRAP_STATS_FIELD)
#undef BOOTSTRAP_STATS_FIELD
	/* kernel: runs and run time of the event's handler and of its companion (a return
	 * point's entry stash, a syscall entry's retry at the exit); the times are 0 unless
	 * the kernel measures them (sysctl kernel.bpf_stats_enabled=1). */
	uint64_t handler_runs, handler_ns, companion_runs, companion_ns;
};

struct bootstrap_stats {
	size_t sz;                   /* set by the caller: sizeof(struct bootstrap_stats) */
	struct bootstrap_event_stats total;
	struct bootstrap_event_stats events[BOOTSTRAP_N_EVENTS];
	uint64_t recursion_misses;   /* kernel: program runs skipped, summed over programs */
	uint64_t arena_lapped;       /* user: events whose payload position was stale */
	uint64_t records_malformed;  /* user: records dropped unread: a size, event, cpu, mask,
					arena span or field length no program of ours writes */
	uint64_t map_bytes;          /* memory the kernel charges for this instance's maps */
	/* user, the symbolizer: mapped files it gave up (not a regular file, not the mapped
	 * inode, too large, not read within a second, on a FUSE mount, not ELF), or gave up
	 * in part (MiniDebugInfo past its limits: .dynsym still names), a process's [vdso]
	 * that is not the tracer's own image (left unnamed), processes
	 * whose /proc/PID/maps was read only in part (too long), and lookups left unnamed
	 * because its reading ration (a quarter of each second) was used up */
	uint64_t sym_files_skipped, sym_maps_truncated, sym_deferred;
	/* user: stacks unwound from unwind tables (unwind = "dwarf") that stopped before the
	 * outermost frame (no unwind data or module for a frame, or the stack copy ended):
	 * delivered with their frames so far, marked truncated */
	uint64_t sym_unwind_partial;
	/* user: stacks unwound from unwind tables, the register and stack bytes the kernel
	 * copied for them, and the time spent unwinding them (ns) */
	uint64_t sym_unwound, sym_unwind_bytes, sym_unwind_ns;
};

int bootstrap_open(const struct bootstrap_opts *opts, struct bootstrap **out);
/* Waits up to timeout_ms (-1 = forever) for the next wake-up (a backlog threshold, the
 * wakeup_ms timer, or bootstrap_stop()), then delivers everything pending. Returns the
 * number delivered, or another negative errno. Once bootstrap_stop() was called, the
 * kernel side stops producing, what it had produced is delivered, and -ECANCELED is
 * returned (by this and every later call). */
int bootstrap_poll(struct bootstrap *b, int timeout_ms, bootstrap_event_fn fn, void *ctx);
/* An fd for the caller's own epoll loop: readable when bootstrap_poll(b, 0, …) has work. */
int bootstrap_epoll_fd(const struct bootstrap *b);
int bootstrap_stats(const struct bootstrap *b, struct bootstrap_stats *out);
void bootstrap_stop(struct bootstrap *b);   /* async-signal-safe */
void bootstrap_close(struct bootstrap *b);
/* Leaves process tgid, all its threads, out of the trace from now on (excluded true),
 * whatever the other options select, or traces it again (false): for the processes
 * that read the caller's own output, whose events would otherwise feed the trace back
 * into itself. Exclude only the caller's own pipeline (./example: a reader in its
 * session, or one there when the output was opened), never any process that holds the
 * output: anyone may open a FIFO of mode 0666 later, and so hide what its children do.
 * An exclusion lasts until it is removed, also after the process has
 * exited, when its pid may be reused. At most 1024 processes at a time. Returns 0
 * (also for a process already in the requested state), -EINVAL for a tgid <= 0,
 * -E2BIG when 1024 are excluded, or another -errno. Not async-signal-safe, and not to
 * be called concurrently with itself on one instance. */
int bootstrap_exclude_pid(struct bootstrap *b, pid_t tgid, bool excluded);
/* The event index of "category/name", or -1 when this build has no such event. */
int bootstrap_event_index(const char *type_name);
/* Which events a list of globs selects, the rule of opts.events: patterns separated by
 * commas or spaces; one with '/' matches "category/name", one without the name alone;
 * NULL selects all but the opt-in events. Returns 0, or -EINVAL when a pattern selects
 * nothing (that pattern is copied to bad when bad_cap > 0). */
int bootstrap_select_events(const char *list, bool selected[BOOTSTRAP_N_EVENTS], char *bad, size_t bad_cap);

/* One NDJSON line (with '\n'), NUL-terminated when it fits. Returns the bytes needed
 * without the NUL, like snprintf: a return >= cap means buf was too small. */
size_t bootstrap_event_json(const struct bootstrap_event *ev, char *buf, size_t cap);

const char *bootstrap_strerror(int err);

/* Symbolizer: stack addresses to function names. Kernel addresses from /proc/kallsyms;
 * user addresses from the process's mappings (/proc/PID/maps) and the symbol tables of
 * its executable and libraries (.symtab, .dynsym and MiniDebugInfo, decompressed within
 * limits), or their debuginfo installed under /usr/lib/debug, found by build-id
 * (elfutils' libdwfl); its [vdso] from the tracer's own, when it is the same image. A
 * mapped file is opened through the process (/proc/PID/map_files) and read only as a
 * regular file of the mapping's inode.
 * Cached per process (an exec or a reused pid is noticed) and per file (shared by every
 * process that maps it). Usable without a tracer. One thread at a time per symbolizer. */
struct bootstrap_symbolizer;

struct bootstrap_symbol {
	const char *name;       /* the function, or NULL when unknown */
	uint64_t offset;        /* of the address from the function's start; without a name
				   but with a module, its offset in the module's file (the
				   vdso's image), for offline tools; else 0 */
	const char *module;     /* "[kernel]", "[MODULE]" for a kernel module, the file's name
				   ("libc.so.6"), "[vdso]" ..., or NULL when unknown */
};

struct bootstrap_symbolizer *bootstrap_symbolizer_new(void);
void bootstrap_symbolizer_free(struct bootstrap_symbolizer *s);
/* Resolves the frames of one stack, innermost first (the frames after the first are
 * return addresses: each is looked up one byte back, so that a call that ends a function
 * names the caller). pid 0: kernel addresses; else addresses of process pid. upid, when
 * non-zero (an event header's upid), is the process the stack was taken in: if pid is
 * now another process (that one exited and its pid was reused), its frames stay
 * unresolved. Returns how many frames got a name, or a negative errno. The strings are
 * valid until the next call on s. */
int bootstrap_symbolize(struct bootstrap_symbolizer *s, pid_t pid, uint64_t upid, const uint64_t *addrs,
			size_t n, struct bootstrap_symbol *out);
/* One frame as the JSON output writes it: "name+0xOFF (module)", "0xADDR (module+0xOFF)"
 * or "0xADDR". Returns the length needed without the NUL, like snprintf. */
size_t bootstrap_frame_format(const struct bootstrap_symbol *sym, uint64_t addr, char *buf, size_t cap);
/* The event's stacks as one line of folded stacks (flame graphs), without a newline:
 * "comm;outermost;...;innermost", user frames then kernel ones ("name_[k]"), each frame
 * a function's name, "[module]" or "[unknown]", a lost stack "[lost]"; named by
 * ev->symbolizer. NUL-terminated when it fits; returns the length needed without the
 * NUL, like snprintf, and 0 for an event without a stack field. During the callback. */
size_t bootstrap_event_folded(const struct bootstrap_event *ev, char *buf, size_t cap);

/* What this machine offers for tracing, without changing anything (diagnostics). */
struct bootstrap_env {
	bool root;
	bool cap_bpf, cap_perfmon, cap_sys_admin;
	bool can_trace;       /* root, CAP_SYS_ADMIN, or CAP_BPF + CAP_PERFMON */
	bool btf;             /* /sys/kernel/btf/vmlinux is readable */
	const char *tracefs;  /* the mounted tracefs root, or NULL */
};
void bootstrap_env_probe(struct bootstrap_env *env);
/* The tracefs root, mounting tracefs at /sys/kernel/tracing first when it is not
 * mounted (as bootstrap_open() does; needs CAP_SYS_ADMIN); NULL when that fails. */
const char *bootstrap_tracefs_mount(void);
/* Whether "category/name" exists under the tracefs root. */
bool bootstrap_tracepoint_exists(const char *tracefs, const char *type_name);
/* Whether `target` is written right for event `index` (see struct bootstrap_attach;
 * NULL: its declared one), without looking at this machine: 0, or -EINVAL (or
 * -ENAMETOOLONG) with why. A run-time-only event without a target is -ENOENT "target
 * given at run time", or -ENOTSUP when this kernel lacks its kind altogether. */
int bootstrap_target_parse(int index, const char *target, char *why, size_t cap);
/* Whether event `index` can attach here to `target` (NULL: its declared one): 0, or a
 * negative errno with the reason in why ("this kernel has no kprobes ...", "library
 * libssl.so.3 not found ...", "... has no function symbol ..."; for a run-time-only
 * event without a target, as bootstrap_target_parse() says). */
int bootstrap_target_check(int index, const char *target, char *why, size_t cap);
const char *bootstrap_kind_name(enum bootstrap_kind kind);

/* Aggregations (events.toml `aggregate`), counted in the kernel. */

/* One member of an aggregation's key (the generated struct bootstrap_aggkey_*). */
struct bootstrap_agg_key_info {
	const char *name;            /* as in `by`: a payload field or a header value */
	enum bootstrap_type type;    /* BOOTSTRAP_T_BYTES: a comm, NUL-padded to 16 bytes */
	uint32_t offset, size;
	const char *const *names;    /* values shown by name (pkt.proto): names[v], or NULL */
	uint32_t n_names;
};

struct bootstrap_aggregation_info {
	const char *name;
	int event;                   /* event index */
	uint32_t key_size;
	uint32_t n_keys;
	const struct bootstrap_agg_key_info *keys;
	uint32_t n_sums;
	const char *const *sums;     /* the summed fields */
	const bool *sums_signed;     /* a sum of a signed field is an int64_t */
	const char *hist;            /* the field of the log2 histogram, or NULL */
	bool hist_signed;            /* its bucket 0 (values below 0) can be non-empty */
	uint32_t value_size;         /* 8 * (1 + n_sums + (hist ? BOOTSTRAP_HIST_BUCKETS : 0)) */
};

/* The generated table, in events.toml order. */
extern const struct bootstrap_aggregation_info bootstrap_aggregations[BOOTSTRAP_N_AGGREGATIONS];

/* One key of an aggregation, summed over CPUs. */
struct bootstrap_agg_row {
	const void *key;             /* info->key_size bytes */
	uint64_t count;
	const uint64_t *sums;        /* info->n_sums */
	const uint64_t *hist;        /* BOOTSTRAP_HIST_BUCKETS (see bootstrap_protocol.h), or NULL */
};

struct bootstrap_agg_table {
	const struct bootstrap_aggregation_info *info;
	size_t n_rows;
	const struct bootstrap_agg_row *rows;  /* in no particular order */
};

struct bootstrap_aggregates {
	uint64_t timestamp_ns;       /* wall clock when read, as event timestamps are */
	uint64_t interval_ns;        /* BOOTSTRAP_AGG_DELTA: since the previous delta read */
	size_t n_tables;
	const struct bootstrap_agg_table *tables;
};

enum bootstrap_agg_view {
	BOOTSTRAP_AGG_TOTALS,        /* everything since bootstrap_open() */
	BOOTSTRAP_AGG_DELTA,         /* what changed since the previous DELTA read (or the open):
				        rows with no new event are left out */
};

/* Reads every aggregation of the selected events.
 * *out is the caller's until bootstrap_aggregates_free(). Returns 0 or -errno. Not to be
 * called concurrently on one instance. */
int bootstrap_aggregates_read(struct bootstrap *b, enum bootstrap_agg_view view, struct bootstrap_aggregates **out);
void bootstrap_aggregates_free(struct bootstrap_aggregates *a);
/* One NDJSON line (with '\n') for row `row` of table t, returning the size needed like
 * bootstrap_event_json(): {"aggregate":…,"event_type":…,"timestamp_ns":…,"key":{…},
 * "count":…,"sum":{…},"hist":{"field":…,"buckets":[{"ge":…,"lt":…,"count":…}…]}}. */
size_t bootstrap_aggregate_json(const struct bootstrap_aggregates *a, const struct bootstrap_agg_table *t,
				size_t row, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
