/* perf_event.h: CPU sampling targets, parsed and attached (internal to the library). */
#ifndef BOOTSTRAP_PERF_EVENT_H
#define BOOTSTRAP_PERF_EVENT_H

#include <linux/types.h>

struct bootstrap;
struct bpf_program;
struct bs_target;

/* The kernel's default perf_event_max_sample_rate (it may lower it at run time). */
#define BS_PERF_MAX_FREQUENCY 100000

/* "cpu-clock@49Hz", "49Hz" or "49": 0, or -EINVAL. */
int bs_perf_target_parse(const char *text, struct bs_target *t);
/* One software CPU-clock event per online CPU (offline ones are skipped with a note),
 * each running prog; the links go to b->links. 0 or -errno. */
int bs_attach_perf_event(struct bootstrap *b, struct bpf_program *prog, const struct bs_target *t, __u64 cookie);

#endif
