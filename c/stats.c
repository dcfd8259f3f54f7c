/* stats.c: bootstrap_stats(): the kernel's per-CPU counters summed, user-side delivery
 * counts, and each program's recursion_misses (runs the kernel skipped). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "bootstrap.skel.h"
#include "internal.h"
#include "symbolize.h"

static void add(struct bootstrap_event_stats *to, const struct bootstrap_event_stats *from)
{
	to->delivered += from->delivered;
#define ADD(name, what) to->name += from->name;
	BOOTSTRAP_KCOUNTERS(ADD)
#undef ADD
	to->handler_runs += from->handler_runs;
	to->handler_ns += from->handler_ns;
	to->companion_runs += from->companion_runs;
	to->companion_ns += from->companion_ns;
}

static int kernel_counters(const struct bootstrap *b, __u32 index, struct bootstrap_event_stats *out)
{
	struct bootstrap_kcounters *per_cpu = calloc(b->ncpu, sizeof(*per_cpu));
	int err = 0;

	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.bs_counters), &index, per_cpu)) {
		err = -errno;
	} else {
		for (unsigned int c = 0; c < b->ncpu; c++) {
#define SUM(name, what) out->name += per_cpu[c].name;
			BOOTSTRAP_KCOUNTERS(SUM)
#undef SUM
		}
	}
	free(per_cpu);
	return err;
}

/* What the kernel charges for one map: the memlock line of its fdinfo. */
static uint64_t map_memlock(int fd)
{
	unsigned long long bytes = 0;
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && sscanf(line, "memlock: %llu", &bytes) != 1)
		;
	fclose(f);
	return bytes;
}

/* A loaded program's info, or false (not loaded, or the kernel would not say). */
static bool prog_info(const struct bootstrap *b, const char *name, struct bpf_prog_info *info)
{
	struct bpf_program *prog = name ? bpf_object__find_program_by_name(b->skel->obj, name) : NULL;
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return prog && bpf_program__fd(prog) >= 0 && bpf_obj_get_info_by_fd(bpf_program__fd(prog), info, &len) == 0;
}

static void program_times(const struct bootstrap *b, int i, struct bootstrap_event_stats *e)
{
	struct bpf_prog_info info;

	if (prog_info(b, bs_event_progs[i].prog, &info))
		e->handler_runs = info.run_cnt, e->handler_ns = info.run_time_ns;
	if (prog_info(b, bs_event_progs[i].companion, &info))
		e->companion_runs = info.run_cnt, e->companion_ns = info.run_time_ns;
}

int bootstrap_stats(const struct bootstrap *b, struct bootstrap_stats *out)
{
	struct bpf_map *map;
	struct bpf_program *prog;
	int err;

	if (out->sz < sizeof(*out))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->sz = sizeof(*out);
	for (__u32 i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		out->events[i].delivered = b->delivered[i];
		err = kernel_counters(b, i, &out->events[i]);
		if (err)
			return err;
		program_times(b, i, &out->events[i]);
		add(&out->total, &out->events[i]);
	}
	bpf_object__for_each_program(prog, b->skel->obj) {
		struct bpf_prog_info info;

		if (prog_info(b, bpf_program__name(prog), &info))
			out->recursion_misses += info.recursion_misses;
	}
	bpf_object__for_each_map(map, b->skel->obj)
		out->map_bytes += map_memlock(bpf_map__fd(map));
	out->arena_lapped = b->arena_lapped;
	if (b->sym) {
		struct bs_symbolizer_counts c;

		bs_symbolizer_counts(b->sym, &c);
		out->sym_files_skipped = c.files_skipped;
		out->sym_maps_truncated = c.maps_truncated;
		out->sym_deferred = c.deferred;
		out->sym_unwind_partial = c.unwind_partial;
		out->sym_unwound = c.unwound;
		out->sym_unwind_bytes = c.unwind_bytes;
		out->sym_unwind_ns = c.unwind_ns;
	}
	out->records_malformed = b->records_malformed;
	return 0;
}
