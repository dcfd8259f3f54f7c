/* test_overload.c: conservation under overload. With a deliberately tiny ring buffer and
 * arena, a child opens and writes as fast as it can: every event is either delivered or
 * counted as dropped, and every delivered payload is byte-exact (or marked lost).
 * E2E_OVERLOAD_OPENS and E2E_OVERLOAD_WRITES set the storm's size (the emulated VM of
 * tests/vm runs a tenth of it in time). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace_child.h"

#define WRITE_SIZE 32768
#define PATH "/etc/hostname"

/* Write i carries its sequence number first, then bytes derived from it. */
static void fill(unsigned char *buf, uint32_t seq)
{
	memcpy(buf, &seq, sizeof(seq));
	for (size_t i = sizeof(seq); i < WRITE_SIZE; i++)
		buf[i] = (unsigned char)(seq * 7 + i * 13 + (i >> 9));
}

static uint32_t n_opens, n_writes;


static int storm(void *arg)
{
	static unsigned char buf[WRITE_SIZE];
	char path[] = PATH;
	int null = open("/dev/null", O_WRONLY);

	(void)arg;
	dup2(null, 1);
	for (uint32_t i = 0; i < n_opens; i++)
		close(open(path, O_RDONLY));
	for (uint32_t i = 0; i < n_writes; i++) {
		fill(buf, i);
		if (write(1, buf, WRITE_SIZE) != WRITE_SIZE)
			return 1;
	}
	return 0;
}

struct tally {
	uint64_t opens, open_names_lost, writes, write_content_lost, corrupt;
	unsigned char expect[WRITE_SIZE];
};

static bool same(const struct bootstrap_field_value *v, const char *s)
{
	return v->len == strlen(s) && memcmp(v->data, s, v->len) == 0;
}

static void check_event(void *ctx, const struct bootstrap_event *ev)
{
	const struct bootstrap_field_value *v = &ev->vars[0];
	struct tally *t = ctx;
	uint32_t seq;

	if (ev->hdr->event_index == BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT) {
		t->opens++;
		if (v->lost)
			t->open_names_lost++;
		else if (!same(v, PATH) && !same(v, "/dev/null"))
			t->corrupt++;
	} else if (ev->hdr->event_index == BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE) {
		t->writes++;
		if (v->lost) {
			t->write_content_lost++;
			return;
		}
		memcpy(&seq, v->data, sizeof(seq));
		fill(t->expect, seq);
		if (v->len != WRITE_SIZE || seq >= n_writes || memcmp(v->data, t->expect, WRITE_SIZE))
			t->corrupt++;
	}
}

Test(overload, delivered_plus_counted_losses_equals_generated, .timeout = 600)
{
	static struct tally t;
	const struct bootstrap_event_stats *opens, *writes;
	struct trace_opts o = {
		.events = "syscalls/sys_enter_openat,syscalls/sys_enter_write",
		.ringbuf_bytes = 16 << 10,
		.arena_bytes_per_cpu = 64 << 10,
		.keep_nothing = true,
		.on_event = check_event,
		.ctx = &t,
	};
	struct trace_result r;

	n_opens = count_from_env("E2E_OVERLOAD_OPENS", 200000);
	n_writes = count_from_env("E2E_OVERLOAD_WRITES", 20000);
	trace_child(&o, storm, NULL, &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	opens = &r.stats.events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT];
	writes = &r.stats.events[BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_WRITE];
	cr_log_info("openat: delivered %lu, ring full %lu, names lost %lu; write: delivered %lu, "
		    "ring full %lu, content lost %lu",
		    t.opens, opens->ringbuf_full, t.open_names_lost, t.writes, writes->ringbuf_full,
		    t.write_content_lost);
	cr_assert_eq(t.corrupt, 0, "%lu delivered payloads were not byte-exact", t.corrupt);
	cr_assert_eq(r.stats.arena_lapped, 0);
	/* + 1: the child's open of /dev/null. */
	/* Tracepoint handlers never interleave on a CPU: the arena guard drops none. */
	cr_assert_eq(opens->arena_busy + writes->arena_busy, 0);
	cr_assert_eq(t.opens + opens->ringbuf_full + opens->arena_busy, n_opens + 1);
	cr_assert_eq(t.writes + writes->ringbuf_full + writes->arena_busy, n_writes);
	cr_assert_eq(opens->delivered, t.opens);
	cr_assert_eq(opens->emitted, t.opens);
	cr_assert_eq(writes->emitted, t.writes);
	/* Each lost field is counted in the kernel, none silently. */
	cr_assert_eq(opens->fields_lost + opens->read_faults, t.open_names_lost);
	cr_assert_eq(writes->fields_lost + writes->read_faults, t.write_content_lost);
	cr_assert_eq(writes->payload_bytes_lost, writes->fields_lost * WRITE_SIZE);
}
