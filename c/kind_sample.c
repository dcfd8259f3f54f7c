/* kind_sample.c: the kind of CPU sampling, perf_event. A target "cpu-clock@49Hz" (or
 * "49Hz", "49") is the software CPU clock of every online CPU firing 49 times a second,
 * at most BOOTSTRAP_MAX_FREQUENCY; every machine has it. It attaches as one perf event
 * per CPU, each running the event's program with the target's cookie. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "internal.h"
#include "kind.h"
#include "targets.h"

static int parse(const char *text, const char *declared, struct bs_target *t)
{
	const char *digits = strncmp(text, "cpu-clock@", 10) == 0 ? text + 10 : text;
	char *end;
	unsigned long hz;

	(void)declared;
	if (*digits < '1' || *digits > '9')
		return -EINVAL;
	errno = 0;
	hz = strtoul(digits, &end, 10);
	if (errno || (*end && strcmp(end, "Hz") != 0) || hz > BOOTSTRAP_MAX_FREQUENCY)
		return -EINVAL;
	t->frequency = hz;
	return bs_target_set_name(t, "cpu-clock@%luHz", hz);
}

/* The software clock is always there. */
static int check(struct bs_target *t, const char *tracefs, char *why, size_t cap)
{
	(void)t, (void)tracefs, (void)why, (void)cap;
	return 0;
}

static int attach(struct bootstrap *b, struct bpf_program *prog, const struct bs_target *t, const char *where,
		  __u64 cookie)
{
	LIBBPF_OPTS(bpf_perf_event_opts, opts, .bpf_cookie = cookie);
	unsigned int attached = 0;

	(void)where;
	for (unsigned int cpu = 0; cpu < b->ncpu; cpu++) {
		/* Opened disabled: the attach enables it once the program is set. */
		struct perf_event_attr attr = {
			.size = sizeof(attr), .type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_CPU_CLOCK,
			.freq = 1, .sample_freq = t->frequency, .disabled = 1,
		};
		struct bpf_link *link;
		int err, fd = syscall(__NR_perf_event_open, &attr, -1, (int)cpu, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0 && errno == ENODEV) {
			bs_log(b, BOOTSTRAP_LOG_INFO, "%s: CPU %u is offline: not sampled", t->name, cpu);
			continue;
		}
		if (fd < 0) {
			err = -errno;
			bs_log(b, BOOTSTRAP_LOG_WARN, "%s: perf_event_open on CPU %u failed: %s", t->name, cpu,
			       strerror(errno));
			return err;
		}
		/* The link owns the perf event: destroying it closes the fd. */
		link = bpf_program__attach_perf_event_opts(prog, fd, &opts);
		if (!link) {
			err = -errno;
			close(fd);
			return err;
		}
		err = bs_add_link(b, link);
		if (err)
			return err;
		attached++;
	}
	return attached ? 0 : -ENODEV;
}

const struct bs_kind_ops bs_kind_perf_event_ops = { .parse = parse, .check = check, .attach = attach };
