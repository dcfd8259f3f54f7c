/* loader.c: bootstrap_open() and bootstrap_close(): checks the machine, sizes and
 * loads the BPF object, sets the in-kernel filters, maps the arena, attaches the
 * selected events and builds the epoll set that bootstrap_poll() waits on. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "aggregate.h"
#include "bootstrap.skel.h"
#include "clock.h"
#include "internal.h"

#define DEFAULT_RINGBUF_BYTES (4u << 20)
#define DEFAULT_ARENA_BYTES (4u << 20)
#define MIN_ARENA_BYTES (64u << 10)
#define DEFAULT_WAKEUP_MS 50

/* libbpf's log hook is process-wide, and libbpf may be the embedder's too: its warnings
 * (verifier logs on a failed load) go on to the hook set before the first open (libbpf's
 * own, printing to stderr, or the embedder's); its chatter is dropped unless
 * BOOTSTRAP_LIBBPF_DEBUG is set, then printed to stderr. */
static libbpf_print_fn_t previous_print;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return previous_print ? previous_print(level, fmt, ap) : 0;
	return getenv("BOOTSTRAP_LIBBPF_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

static void setup_libbpf_once(void)
{
	previous_print = libbpf_set_print(libbpf_print);
}

static size_t pow2_at_least(size_t v)
{
	size_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* The fields of opts this caller's struct has (it may be an older, shorter one). */
static struct bootstrap_opts read_opts(const struct bootstrap_opts *opts)
{
	struct bootstrap_opts o = { 0 };

	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	o.sz = sizeof(o);
	return o;
}

static int check_machine(const struct bootstrap *b)
{
	struct bootstrap_env env;

	bootstrap_env_probe(&env);
	if (!env.can_trace) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "tracing needs root, or CAP_BPF and CAP_PERFMON (run it with sudo)");
		return -EPERM;
	}
	if (!env.btf) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing; "
		       "it needs CONFIG_DEBUG_INFO_BTF=y)");
		return -ENOTSUP;
	}
	return 0;
}

static int size_maps(struct bootstrap *b, const struct bootstrap_opts *o)
{
	size_t ring = pow2_at_least(o->ringbuf_bytes ? o->ringbuf_bytes : DEFAULT_RINGBUF_BYTES);
	size_t region = pow2_at_least(o->arena_bytes_per_cpu ? o->arena_bytes_per_cpu : DEFAULT_ARENA_BYTES);
	struct bootstrap_bpf *s = b->skel;
	int err;

	if (ring < (size_t)getpagesize())
		ring = getpagesize();
	if (region < MIN_ARENA_BYTES) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "arena_bytes_per_cpu %zu is below the minimum %u",
		       o->arena_bytes_per_cpu, MIN_ARENA_BYTES);
		return -EINVAL;
	}
	err = bpf_map__set_max_entries(s->maps.bs_events_rb, ring);
	err = err ?: bpf_map__set_value_size(s->maps.bs_arena, bs_arena_stride(region));
	err = err ?: bpf_map__set_max_entries(s->maps.bs_arena, b->ncpu);
	err = err ?: bpf_map__set_max_entries(s->maps.bs_arena_ctl, b->ncpu);
	if (err)
		return err;
	s->rodata->bs_arena_mask = region - 1;
	s->rodata->bs_wake_ring_bytes = ring / 4;
	s->rodata->bs_wake_arena_bytes = region / 4;
	s->rodata->bs_follow_children = o->follow_children;
	err = bs_agg_size_maps(b, o->aggregate_entries);
	if (err) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "aggregate_entries %zu cannot be set: %s", o->aggregate_entries, strerror(-err));
		return err;
	}
	b->arena.region = region;
	b->map_bytes_planned = ring + (uint64_t)b->ncpu * (bs_arena_stride(region) + sizeof(struct bootstrap_arena_ctl) +
						    BOOTSTRAP_N_EVENTS * sizeof(struct bootstrap_kcounters));
	return 0;
}

static int load(struct bootstrap *b, const struct bootstrap_opts *o)
{
	bool filter_pids = o->n_pids > 0;
	int err;

	err = bs_set_autoload(b);
	if (err)
		return err;
	bpf_program__set_autoload(b->skel->progs.track_fork, filter_pids && o->follow_children);
	bpf_program__set_autoload(b->skel->progs.track_free, filter_pids);
	err = size_maps(b, o);
	if (err)
		return err;
	err = bootstrap_bpf__load(b->skel);
	if (err == -E2BIG || err == -ENOMEM)
		bs_log(b, BOOTSTRAP_LOG_WARN, "map creation too large (%llu bytes for %u CPUs): lower "
		       "ringbuf_bytes or arena_bytes_per_cpu", (unsigned long long)b->map_bytes_planned, b->ncpu);
	else if (err == -EPERM)
		bs_log(b, BOOTSTRAP_LOG_WARN, "loading BPF programs was refused: it needs root, or CAP_BPF and CAP_PERFMON");
	else if (err)
		bs_log(b, BOOTSTRAP_LOG_WARN, "loading the BPF object failed: %s", strerror(-err));
	return err;
}

static uint64_t boot_to_wall_ns(void)
{
	return bs_clock_ns(CLOCK_REALTIME) - bs_clock_ns(CLOCK_BOOTTIME);
}

/* Filters take effect before any program is attached, so no unwanted event slips out. */
static int configure(struct bootstrap *b, const struct bootstrap_opts *o)
{
	struct bootstrap_bpf__bss *bss = b->skel->bss;
	int fd = bpf_map__fd(b->skel->maps.bs_traced_tgids);
	__u8 one = 1;

	bss->bs_self_tgid = getpid();
	bss->bs_boot_to_wall_ns = boot_to_wall_ns();
	for (size_t i = 0; i < o->n_pids; i++) {
		__u32 tgid = o->pids[i];

		if (bpf_map_update_elem(fd, &tgid, &one, BPF_ANY))
			return -errno;
	}
	bss->bs_filter_pids = o->n_pids > 0;
	if (o->comm) {
		if (strlen(o->comm) >= BOOTSTRAP_COMM_LEN) {
			bs_log(b, BOOTSTRAP_LOG_WARN, "comm '%s' is longer than the kernel's 15 bytes", o->comm);
			return -EINVAL;
		}
		strncpy((char *)bss->bs_comm_filter, o->comm, BOOTSTRAP_COMM_LEN);
		bss->bs_filter_comm = 1;
	}
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++)
		bss->bs_enabled[i] = b->selected[i];
	return 0;
}

static int map_arena(struct bootstrap *b)
{
	struct bootstrap_bpf *s = b->skel;
	size_t page = getpagesize();

	b->arena_mem_len = ((size_t)b->ncpu * bs_arena_stride(b->arena.region) + page - 1) / page * page;
	b->ctl_mem_len = ((size_t)b->ncpu * sizeof(struct bootstrap_arena_ctl) + page - 1) / page * page;
	b->arena_mem = mmap(NULL, b->arena_mem_len, PROT_READ, MAP_SHARED, bpf_map__fd(s->maps.bs_arena), 0);
	if (b->arena_mem == MAP_FAILED) {
		b->arena_mem = NULL;
		return -errno;
	}
	b->ctl_mem = mmap(NULL, b->ctl_mem_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			  bpf_map__fd(s->maps.bs_arena_ctl), 0);
	if (b->ctl_mem == MAP_FAILED) {
		b->ctl_mem = NULL;
		return -errno;
	}
	b->arena.consumed = calloc(b->ncpu, sizeof(*b->arena.consumed));
	b->arena.done = calloc((size_t)b->ncpu * bs_arena_done_words(b->arena.region), sizeof(*b->arena.done));
	if (!b->arena.consumed || !b->arena.done)
		return -ENOMEM;
	bs_arena_init(&b->arena, b->arena_mem, b->ctl_mem, b->arena.consumed, b->arena.done, b->ncpu,
		      b->arena.region);
	return 0;
}

static int attach(struct bootstrap *b, bool strict)
{
	int err = bs_attach_targets(b, strict);

	if (err)
		return err;
	if (bpf_program__autoload(b->skel->progs.track_fork) &&
	    !(b->track_links[0] = bpf_program__attach(b->skel->progs.track_fork)))
		return -errno;
	if (bpf_program__autoload(b->skel->progs.track_free) &&
	    !(b->track_links[1] = bpf_program__attach(b->skel->progs.track_free)))
		return -errno;
	return 0;
}

/* Stack frames are named at delivery: a symbolizer when a selected event has a stack. */
static int open_symbolizer(struct bootstrap *b)
{
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		for (uint32_t f = 0; b->selected[i] && f < bootstrap_events[i].n_fields; f++) {
			if (bootstrap_events[i].fields[f].type == BOOTSTRAP_T_STACK)
				return (b->sym = bootstrap_symbolizer_new()) ? 0 : -ENOMEM;
		}
	}
	return 0;
}

static int add_epoll(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* One fd for the caller: the ring buffer's, a periodic timer (bounds delivery latency,
 * since the kernel side wakes us only past a backlog threshold) and the stop eventfd. */
static int setup_epoll(struct bootstrap *b, unsigned int wakeup_ms)
{
	struct itimerspec period = { 0 };
	int err;

	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	b->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	b->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->epfd < 0 || b->timerfd < 0 || b->stopfd < 0)
		return -errno;
	period.it_interval.tv_sec = wakeup_ms / 1000;
	period.it_interval.tv_nsec = (wakeup_ms % 1000) * 1000000L;
	period.it_value = period.it_interval;
	if (timerfd_settime(b->timerfd, 0, &period, NULL))
		return -errno;
	err = add_epoll(b->epfd, bpf_map__fd(b->skel->maps.bs_events_rb));
	err = err ?: add_epoll(b->epfd, b->timerfd);
	return err ?: add_epoll(b->epfd, b->stopfd);
}

int bootstrap_open(const struct bootstrap_opts *opts, struct bootstrap **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct bootstrap_opts o = read_opts(opts);
	const char *tracefs;
	char bad[128];
	struct bootstrap *b;
	int err, ncpu;

	*out = NULL;
	pthread_once(&once, setup_libbpf_once);
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->epfd = b->timerfd = b->stopfd = -1;
	b->log = o.log;
	b->log_ctx = o.log_ctx;
	err = check_machine(b);
	if (err)
		goto fail;
	err = bootstrap_select_events(o.events, b->selected, bad, sizeof(bad));
	if (err) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "no event matches '%s'", bad);
		goto fail;
	}
	tracefs = bs_ensure_tracefs(b);
	err = tracefs ? bs_plan_targets(b, &o, tracefs) : -ENOENT;
	if (err)
		goto fail;
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		err = ncpu ? ncpu : -EINVAL;
		goto fail;
	}
	b->ncpu = ncpu;
	b->skel = bootstrap_bpf__open();
	if (!b->skel) {
		err = -errno;
		bs_log(b, BOOTSTRAP_LOG_WARN, "opening the BPF object failed: %s", strerror(-err));
		goto fail;
	}
	err = load(b, &o);
	if (err)
		goto fail;
	err = configure(b, &o);
	if (err) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "setting the in-kernel filters failed: %s", strerror(-err));
		goto fail;
	}
	err = map_arena(b);
	if (err) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "mapping the payload arena failed: %s", strerror(-err));
		goto fail;
	}
	err = attach(b, o.strict);
	err = err ?: open_symbolizer(b);
	if (err)
		goto fail;
	err = bs_ringbuf_map(&b->ring, bpf_map__fd(b->skel->maps.bs_events_rb),
			  bpf_map__max_entries(b->skel->maps.bs_events_rb));
	if (err) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "mapping the ring buffer failed: %s", strerror(-err));
		goto fail;
	}
	err = setup_epoll(b, o.wakeup_ms ? o.wakeup_ms : DEFAULT_WAKEUP_MS);
	if (err) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "setting up epoll, timer and stop fds failed: %s", strerror(-err));
		goto fail;
	}
	b->opened_ns = bs_clock_ns(CLOCK_MONOTONIC);
	*out = b;
	return 0;
fail:
	bootstrap_close(b);
	return err;
}

void bootstrap_close(struct bootstrap *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_links; i++)
		bpf_link__destroy(b->links[i]);
	free(b->links);
	free(b->targets);
	for (int i = 0; i < 2; i++)
		bpf_link__destroy(b->track_links[i]);
	bs_ringbuf_unmap(&b->ring);
	free(b->arena.consumed);
	free(b->arena.done);
	if (b->arena_mem)
		munmap(b->arena_mem, b->arena_mem_len);
	if (b->ctl_mem)
		munmap(b->ctl_mem, b->ctl_mem_len);
	bs_agg_free(b);
	bootstrap_bpf__destroy(b->skel);
	bootstrap_symbolizer_free(b->sym);
	if (b->epfd >= 0)
		close(b->epfd);
	if (b->timerfd >= 0)
		close(b->timerfd);
	if (b->stopfd >= 0)
		close(b->stopfd);
	free(b);
}
