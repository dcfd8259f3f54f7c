/* test_profile.c: CPU sampling (profile/cpu) end to end: a busy child's samples name
 * its functions in order in the user stack, a clock-reading loop's the vDSO's function
 * and, unwound through the vDSO, its callers,
 * a read() loop's name kernel functions,
 * and the sampling rate per CPU is the declared frequency, and one given at run time.
 * Needs root and BTF. */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "trace_child.h"
#include "vdso_image.h"

#define BURN "build/tests/fixtures/burn"
/* The declared rate of profile/cpu (events.toml) and one given at run time: another
 * rate, kept low because under emulation (the VM run) each sample is costly, and the
 * rate tests sample twice (the tracer and the kernel's own sampler). */
#define DECLARED_HZ 49
#define RUNTIME_HZ 97
#define STR(x) #x
#define XSTR(x) STR(x)

static int burn(void *mode)
{
	execl(BURN, BURN, (const char *)mode, "2", (char *)NULL);
	return 127;
}

/* The JSON array of a stack field in an event's line ("" when absent). */
static const char *stack_json(const struct captured *c, const char *field, char *out, size_t cap)
{
	char key[32];
	const char *at, *end;

	snprintf(key, sizeof(key), "\"%s\":[", field);
	/* Frames hold ']' ("([kernel])"): the array ends at a quote and ']'. */
	if (!(at = strstr(c->json, key)) || at[strlen(key)] == ']' || !(end = strstr(at, "\"]")))
		return "";
	end++;
	snprintf(out, cap, "%.*s", (int)(end - at - strlen(key)), at + strlen(key));
	return out;
}

static double seconds(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* k of n samples against the child's own split of its CPU time (getrusage), p being the
 * share of the time the samples should land in: how much of a loop is kernel time
 * depends on the machine (a hypervisor where entering a system call is costly moves a
 * third of a read() loop's samples to user mode), so no fixed share is expected. The
 * kernel splits user and system time by sampling its tick, so both counts are binomial
 * draws with one probability p; the tick is at least as frequent as the 49 Hz samples,
 * so their difference has a variance under 2 n p (1 - p). Allowed: 4 standard
 * deviations, p kept at least 1/n from 0 and 1 (a split with no tick on one side still
 * has an error). One thing the tick sees and the samples cannot: the sampling
 * interrupt's own handler (the tracer's program), system time; where it is slow (an
 * emulated CPU: a user loop was a quarter system time on PREEMPT_RT under qemu) a
 * user share is only a floor, so at_least asks for no more than that. */
static void assert_share(const char *what, size_t k, size_t n, double p, bool at_least)
{
	double q = p < 1.0 / n ? 1.0 / n : p > 1 - 1.0 / n ? 1 - 1.0 / n : p;
	double d = k - n * p;

	cr_log_info("%zu of %zu samples %s, want %s%.1f (the child's own split)", k, n, what, at_least ? "at least " : "",
		    n * p);
	cr_assert((at_least && d >= 0) || d * d <= 16 * 2 * n * q * (1 - q),
		  "%zu of %zu samples %s, want %s%.1f from the child's rusage", k, n, what, at_least ? "at least " : "",
		  n * p);
}

/* The share of the child's CPU time spent in the kernel. */
static double system_share(const struct rusage *ru)
{
	double user = seconds(ru->ru_utime), sys = seconds(ru->ru_stime);

	cr_log_info("the child's own split: %.3f s user, %.3f s system", user, sys);
	return sys / (user + sys);
}

Test(profile, user_stack_names_the_busy_function_and_its_caller)
{
	struct trace_result r;
	size_t n = 0, in_cpu = 0, in_order = 0, shown = 0;
	char buf[16384];

	trace_child(&(struct trace_opts){ .events = "profile/cpu" }, burn, "user", &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	for (size_t i = 0; i < r.n; i++) {
		const char *ustack, *callee;

		if (r.events[i].hdr.pid != (__u32)r.child)
			continue;
		if (strcmp(r.events[i].hdr.comm, "burn"))
			continue; /* before its exec: trace_child's code */
		n++;
		ustack = stack_json(&r.events[i], "ustack", buf, sizeof(buf));
		if (!(callee = strstr(ustack, "\"burn_cpu+0x"))) {
			/* in burn_caller's loop or its clock reads */
			if (!shown++)
				cr_log_info("a sample outside burn_cpu: %s", ustack);
			continue;
		}
		in_cpu++;
		in_order += strstr(callee, "\"burn_caller+0x") != NULL;
	}
	cr_log_info("%zu of %zu samples in burn_cpu, %zu of them with burn_caller as its caller", in_cpu, n, in_order);
	cr_assert_gt(n, 0);
	/* burn_cpu is all of the loop's user time but for a few instructions. */
	assert_share("in burn_cpu", in_cpu, n, 1 - system_share(&r.rusage), true);
	cr_assert_eq(in_order, in_cpu, "every sample in burn_cpu names its caller");
	trace_result_free(&r);
}

/* Whether an event's line marks its user stack truncated (unwound only in part). */
static bool ustack_cut(const struct captured *c)
{
	const char *list = strstr(c->json, ",\"truncated\":["), *end;

	return list && (end = strchr(list, ']')) && memmem(list, end - list, "\"ustack\"", 8);
}

static bool covers(const char *name, const GElf_Sym *sym, void *off)
{
	(void)name;
	return *(uint64_t *)off - sym->st_value < sym->st_size;
}

/* Whether offset off of the vDSO is within one of the functions its symbols name. */
static bool vdso_names(uint64_t off)
{
	return vdso_find_function(covers, &off);
}

/* Whether a user stack's innermost frame is the vDSO's clock_gettime: named so (of the
 * aliases at its address, the one the symbolizer always takes), or unnamed in a function
 * of the vDSO its symbols leave out (6.1's vDSO calls one out of line),
 * called from it. */
static bool in_vdso_clock_gettime(const char *ustack)
{
	static const char named[] = "\"__vdso_clock_gettime+0x";
	const char *inner;
	uint64_t off;

	if (strncmp(ustack, named, sizeof(named) - 1) == 0)
		return (inner = strchr(ustack + 1, '"')) && inner - ustack >= 9 && strncmp(inner - 9, " ([vdso])", 9) == 0;
	return sscanf(ustack, "\"0x%*x ([vdso]+0x%" SCNx64 ")\"", &off) == 1 && !vdso_names(off) &&
	       (inner = strstr(ustack, ")\",\"")) && strncmp(inner + 3, named, sizeof(named) - 1) == 0;
}

/* A child reading CLOCK_MONOTONIC in a loop spends its time in the vDSO: every sample
 * whose innermost user frame is in [vdso] is in its clock_gettime, and its stack, unwound
 * through the vDSO's own unwind tables, goes on to burn_clock and main in at least 80%
 * of them (the others marked truncated). */
Test(profile, vdso_frames_are_named)
{
	struct trace_result r;
	size_t n = 0, in_vdso = 0, in_clock = 0, whole = 0, shown = 0;
	char buf[16384];

	trace_child(&(struct trace_opts){ .events = "profile/cpu" }, burn, "clock", &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	for (size_t i = 0; i < r.n; i++) {
		const char *ustack, *end, *caller;
		size_t len;

		if (r.events[i].hdr.pid != (__u32)r.child || strcmp(r.events[i].hdr.comm, "burn"))
			continue;
		n++;
		ustack = stack_json(&r.events[i], "ustack", buf, sizeof(buf));
		len = (end = strstr(ustack, "\",")) ? (size_t)(end + 1 - ustack) : strlen(ustack);
		if (!memmem(ustack, len, "([vdso]", 7))  /* the innermost frame */
			continue;
		in_vdso++;
		if (in_vdso_clock_gettime(ustack))
			in_clock++;
		else if (!shown++)
			cr_log_info("a sample in the vDSO not named: %s", ustack);
		if ((caller = strstr(ustack, "\"burn_clock+0x")) && strstr(caller, "\"main+0x") &&
		    !ustack_cut(&r.events[i]))
			whole++;
		else if (shown++ < 2)
			cr_log_info("a sample in the vDSO not unwound to main: %s", ustack);
	}
	cr_log_info("%zu of %zu samples in the vDSO, %zu of them in __vdso_clock_gettime, %zu reaching main",
		    in_vdso, n, in_clock, whole);
	cr_assert_gt(in_vdso, 0);
	cr_assert_eq(in_clock, in_vdso);
	cr_assert_geq(5 * whole, 4 * in_vdso);
	trace_result_free(&r);
}

/* Every frame of a stack's JSON is named: "symbol+0xOFF (module)", not "0x...". */
static bool all_named(const char *frames)
{
	return *frames && !strstr(frames, "\"0x");
}

/* Whether a kernel stack is in read(): vfs_read, called (further out, later in the
 * array) from the system call entry. */
static bool in_read(const char *kstack)
{
	const char *read = strstr(kstack, "\"vfs_read+0x");

	return read && strstr(read, "\"entry_SYSCALL_64");
}

Test(profile, kernel_stack_names_kernel_functions)
{
	struct trace_result r;
	size_t n = 0, in_kernel = 0, named = 0, reads = 0;
	char buf[16384];

	trace_child(&(struct trace_opts){ .events = "profile/cpu" }, burn, "kernel", &r);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	for (size_t i = 0; i < r.n; i++) {
		const char *kstack;

		if (r.events[i].hdr.pid != (__u32)r.child)
			continue;
		n++;
		kstack = stack_json(&r.events[i], "kstack", buf, sizeof(buf));
		if (!*kstack)
			continue; /* the sample hit the loop in user mode */
		in_kernel++;
		named += all_named(kstack);
		reads += in_read(kstack);
	}
	cr_log_info("%zu samples, %zu in the kernel, %zu all named, %zu in read()", n, in_kernel, named, reads);
	cr_assert_gt(n, 0);
	assert_share("in the kernel", in_kernel, n, system_share(&r.rusage), false);
	cr_assert_eq(named, in_kernel, "every kernel frame is named from /proc/kallsyms");
	/* Clearing 64 KiB is the loop's kernel work: read() is walked to its entry. */
	cr_assert_gt(reads, 0);
	trace_result_free(&r);
}

struct spin_args {
	int report;       /* where the child writes its CPU time, ns */
	double seconds;
};

static unsigned long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int spin(void *arg)
{
	const struct spin_args *a = arg;
	unsigned long long until, used;
	volatile unsigned long x = 0;

	until = cpu_ns() + (unsigned long long)(a->seconds * 1e9);
	while (cpu_ns() < until)
		for (int i = 0; i < 100000; i++)
			x += i;
	used = cpu_ns();
	return write(a->report, &used, sizeof(used)) == sizeof(used) ? 0 : 1;
}

/* The kernel's own sampler beside the tracer's: on each CPU sampled (one, or all this
 * process may run on), a cpu-clock event at hz as the library opens them, writing each
 * sample's pid into a ring that is read once at the end. Its timer runs on the same CPU
 * as the tracer's, so where timer interrupts come late (an emulated CPU whose host
 * thread serves the other CPU too, a loaded host) one interrupt ends several periods for
 * both alike, and the samples that are lost are lost to both. */
#define REF_PAGES 16
struct ref_sampler {
	int n;
	int fd[CPU_SETSIZE];
	struct perf_event_mmap_page *ring[CPU_SETSIZE];
};

static size_t ref_bytes(void)
{
	return (1 + REF_PAGES) * (size_t)sysconf(_SC_PAGESIZE);
}

static void ref_open(struct ref_sampler *s, unsigned int hz, int cpu)
{
	cpu_set_t cpus;

	s->n = 0;
	cr_assert_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		struct perf_event_attr attr = {
			.size = sizeof(attr), .type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_CPU_CLOCK,
			.freq = 1, .sample_freq = hz, .sample_type = PERF_SAMPLE_TID,
		};
		void *ring;
		int fd;

		if (!CPU_ISSET(c, &cpus) || (cpu >= 0 && c != cpu))
			continue;
		fd = syscall(__NR_perf_event_open, &attr, -1, c, -1, PERF_FLAG_FD_CLOEXEC);
		cr_assert_geq(fd, 0, "perf_event_open on CPU %d: %s", c, strerror(errno));
		ring = mmap(NULL, ref_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		cr_assert_neq(ring, MAP_FAILED, "mmap of the reference ring: %s", strerror(errno));
		s->fd[s->n] = fd;
		s->ring[s->n++] = ring;
	}
}

/* The reference's samples of pid; closes it. Nothing was consumed, so the records lie
 * from the start of each ring to its head, which must not have reached the end. */
static size_t ref_count(struct ref_sampler *s, pid_t pid)
{
	size_t n = 0, page = (size_t)sysconf(_SC_PAGESIZE);

	for (int i = 0; i < s->n; i++) {
		const char *data = (const char *)s->ring[i] + page;
		__u64 head;

		cr_assert_eq(ioctl(s->fd[i], PERF_EVENT_IOC_DISABLE, 0), 0);
		head = __atomic_load_n(&s->ring[i]->data_head, __ATOMIC_ACQUIRE);
		cr_assert_lt(head, (__u64)REF_PAGES * page, "the reference ring filled up");
		for (__u64 off = 0; off < head;) {
			const struct perf_event_header *h = (const void *)(data + off);

			cr_assert_neq(h->type, PERF_RECORD_LOST, "the reference lost samples");
			if (h->type == PERF_RECORD_SAMPLE)
				n += *(const __u32 *)(h + 1) == (__u32)pid;
			off += h->size;
		}
		munmap(s->ring[i], ref_bytes());
		close(s->fd[i]);
	}
	return n;
}

/* A busy child sampled at hz (on one CPU, or wherever): the tracer has as many of its
 * samples as the kernel's own sampler at hz on the same CPUs in the same run. Where
 * interrupts come on time the two differ by a sample or two (their timers' phases);
 * where they come late one interrupt ends a different number of periods for each, and
 * a sample of the tracer's is missed when another BPF program runs on that CPU: taken
 * as independent counts, their difference has a variance of at most n + want, and 4
 * standard deviations are allowed. That still tells hz from twice or half of it. Its
 * samples per second of its own CPU time are shown: hz where interrupts come on time. */
static void assert_rate(const char *target, unsigned int hz, double seconds, int cpu)
{
	struct bootstrap_attach attach = { .event = "profile/cpu", .target = target };
	struct trace_opts o = { .events = "profile/cpu", .attach = target ? &attach : NULL, .n_attach = target ? 1 : 0 };
	struct spin_args a = { .seconds = seconds };
	unsigned long long used = 0;
	struct ref_sampler ref;
	struct trace_result r;
	cpu_set_t all, one;
	size_t n = 0, want;
	int report[2];

	cr_assert_eq(pipe(report), 0);
	a.report = report[1];
	/* The child is born on its CPU: pinning itself would leave its first instructions
	 * wherever it was forked. */
	CPU_ZERO(&one);
	if (cpu >= 0)
		CPU_SET(cpu, &one);
	cr_assert_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	cr_assert(cpu < 0 || sched_setaffinity(0, sizeof(one), &one) == 0);
	ref_open(&ref, hz, cpu);
	trace_child(&o, spin, &a, &r);
	want = ref_count(&ref, r.child);
	cr_assert_eq(sched_setaffinity(0, sizeof(all), &all), 0);
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0);
	cr_assert_eq(read(report[0], &used, sizeof(used)), sizeof(used));
	close(report[0]);
	close(report[1]);
	for (size_t i = 0; i < r.n; i++) {
		if (r.events[i].hdr.pid != (__u32)r.child)
			continue;
		n++;
		if (cpu >= 0)
			cr_assert_eq(r.events[i].hdr.cpu, cpu, "a sample of the child pinned to CPU %d", cpu);
	}
	cr_log_info("%s, CPU %d: %zu samples, the kernel's own sampler %zu, in %.2f s of CPU: %.1f/s",
		    target ? target : "declared", cpu, n, want, used / 1e9, n / (used / 1e9));
	cr_assert_gt(want, 0);
	cr_assert((n - (double)want) * (n - (double)want) <= 16.0 * (n + want),
		  "CPU %d: %zu samples at %u Hz, the kernel's own sampler %zu", cpu, n, hz, want);
	trace_result_free(&r);
}

Test(profile, declared_frequency_on_every_cpu)
{
	cpu_set_t cpus;

	cr_assert_eq(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &cpus))
			assert_rate(NULL, DECLARED_HZ, 2.0, cpu);
	}
}

Test(profile, frequency_given_at_run_time)
{
	assert_rate("cpu-clock@" XSTR(RUNTIME_HZ) "Hz", RUNTIME_HZ, 2.0, -1);
}

Test(profile, bad_runtime_target_is_an_error)
{
	struct bootstrap_attach attach = { .event = "profile/cpu", .target = "fast" };
	struct bootstrap_opts o = { .sz = sizeof(o), .events = "profile/cpu", .attach = &attach, .n_attach = 1,
				    .strict = true };
	struct bootstrap *b;

	cr_assert_eq(bootstrap_open(&o, &b), -EINVAL);
}
