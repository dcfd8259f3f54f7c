/* test_unwind.c: the unwinder (bs_symbolizer_unwind) without BPF, over this process's
 * own registers and stack, copied as bpf/ustack_copy.bpf.h copies a sampled task's: a
 * chain of calls comes out whole, innermost first; a copy cut short stops early and says
 * so; a sample in the vDSO unwinds to its caller through the vDSO's own unwind tables;
 * and stack bytes an attacker chose (random words, a stack pointer at the top of the
 * address space) end in bounded frames, never outside the copy (AddressSanitizer,
 * test-sanitize). */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap.h"
#include "symbolize.h"

#define COPY 16384
#define MAX_FRAMES 127

struct sample {
	char raw[sizeof(struct bootstrap_ustack_regs) + COPY];  /* registers, then stack */
	size_t len;
};

/* Where the mapping holding addr ends (the stack's top, for a stack pointer). */
static uint64_t mapping_end(uint64_t addr)
{
	char line[512];
	uint64_t start, end, found = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	cr_assert_not_null(f);
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) == 2 && start <= addr && addr < end)
			found = end;
	fclose(f);
	cr_assert(found, "sp is mapped");
	return found;
}

/* The other frames' bytes, as the kernel reads them: not through the sanitizer's eyes
 * (their redzones are poisoned for C code, not for a copy of the stack). */
__attribute__((no_sanitize_address, noinline)) static void copy_stack(char *dst, uint64_t sp, size_t n)
{
	volatile const char *src = (const char *)(uintptr_t)sp;

	for (size_t i = 0; i < n; i++)
		dst[i] = src[i];
}

/* This point's ip, sp and bp and the stack above sp, as a sample taken here. */
__attribute__((noinline, noclone)) static void capture(struct sample *s)
{
	struct bootstrap_ustack_regs r;
	size_t room;

	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=r"(r.ip), "=r"(r.sp), "=r"(r.bp));
	room = mapping_end(r.sp) - r.sp;
	s->len = sizeof(r) + (room < COPY ? room : COPY);
	memcpy(s->raw, &r, sizeof(r));
	copy_stack(s->raw + sizeof(r), r.sp, s->len - sizeof(r));
}

volatile int sink;

__attribute__((noinline, noclone)) static void inner(struct sample *s)
{
	capture(s);
	sink++;
}

__attribute__((noinline, noclone)) static void outer(struct sample *s)
{
	inner(s);
	sink++;
}

static size_t unwind(struct bootstrap_symbolizer *sym, const struct sample *s, size_t len, uint64_t *frames,
		     bool *whole)
{
	size_t n = bs_symbolizer_unwind(sym, getpid(), 0, gettid(), s->raw, len, frames, MAX_FRAMES, whole);

	cr_assert(n >= 1 && n <= MAX_FRAMES);
	return n;
}

static struct sample s;

Test(unwind, a_chain_of_calls_comes_out_whole_innermost_first)
{
	struct bootstrap_symbolizer *sym = bootstrap_symbolizer_new();
	struct bootstrap_symbol names[MAX_FRAMES];
	struct bs_symbolizer_counts c;
	uint64_t frames[MAX_FRAMES];
	bool whole;
	size_t n;

	outer(&s);
	n = unwind(sym, &s, s.len, frames, &whole);
	cr_assert_gt(n, 3);
	cr_assert(bootstrap_symbolize(sym, getpid(), 0, frames, n, names) >= 3);
	cr_assert_str_eq(names[0].name, "capture");
	cr_assert_str_eq(names[1].name, "inner");
	cr_assert_str_eq(names[2].name, "outer");
	cr_assert(whole, "it reached the outermost frame");
	bs_symbolizer_counts(sym, &c);
	cr_assert_eq(c.unwound, 1);
	cr_assert_eq(c.unwind_partial, 0);
	cr_assert_eq(c.unwind_bytes, s.len);
	bootstrap_symbolizer_free(sym);
}

Test(unwind, a_copy_cut_short_stops_early_and_says_so)
{
	struct bootstrap_symbolizer *sym = bootstrap_symbolizer_new();
	struct bs_symbolizer_counts c;
	uint64_t frames[MAX_FRAMES];
	bool whole;

	outer(&s);
	/* The registers and no stack: only the frame the registers name. */
	cr_assert_eq(unwind(sym, &s, sizeof(struct bootstrap_ustack_regs), frames, &whole), 1);
	cr_assert_not(whole);
	bs_symbolizer_counts(sym, &c);
	cr_assert_eq(c.unwind_partial, 1);
	/* Shorter than the registers: nothing. */
	cr_assert_eq(bs_symbolizer_unwind(sym, getpid(), 0, gettid(), s.raw, 8, frames, MAX_FRAMES, &whole), 0);
	bootstrap_symbolizer_free(sym);
}

/* A sample taken on the first instruction of the vDSO's clock_gettime, called from
 * where capture() took its registers: the call pushed capture's ip below its sp. Only
 * the vDSO's unwind tables (.eh_frame, from the tracer's own image) lead from there to
 * capture; and capture's, reached past the innermost frame, on to the outermost one:
 * rbp, a frame pointer that leads astray (capture keeps none), must not be followed. */
Test(unwind, a_sample_in_the_vdso_unwinds_to_its_caller)
{
	struct bootstrap_symbolizer *sym = bootstrap_symbolizer_new();
	struct bootstrap_symbol names[MAX_FRAMES];
	struct bootstrap_ustack_regs r;
	struct bs_symbolizer_counts c;
	uint64_t frames[MAX_FRAMES];
	static char raw[sizeof(s.raw) + sizeof(uint64_t)];  /* not on the stack it copies */
	void *vdso = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD), *entry;
	bool whole;
	size_t n;

	cr_assert_not_null(vdso, "the vDSO is in the link map");
	cr_assert_not_null(entry = dlsym(vdso, "__vdso_clock_gettime"));
	outer(&s);
	memcpy(&r, s.raw, sizeof(r));
	memcpy(raw + sizeof(r), &r.ip, sizeof(r.ip));  /* the return address */
	memcpy(raw + sizeof(r) + sizeof(r.ip), s.raw + sizeof(r), s.len - sizeof(r));
	r.bp = r.sp;
	r.sp -= sizeof(r.ip);
	r.ip = (uintptr_t)entry;
	memcpy(raw, &r, sizeof(r));
	n = bs_symbolizer_unwind(sym, getpid(), 0, gettid(), raw, s.len + sizeof(r.ip), frames, MAX_FRAMES, &whole);
	cr_assert_gt(n, 4);
	cr_assert(bootstrap_symbolize(sym, getpid(), 0, frames, n, names) >= 4);
	cr_assert_str_eq(names[0].name, "__vdso_clock_gettime");
	cr_assert_str_eq(names[0].module, "[vdso]");
	cr_assert_str_eq(names[1].name, "capture");
	cr_assert_str_eq(names[2].name, "inner");
	cr_assert_str_eq(names[3].name, "outer");
	cr_assert(whole, "it reached the outermost frame");
	bs_symbolizer_counts(sym, &c);
	cr_assert_eq(c.unwind_partial, 0);
	cr_assert_eq(c.files_skipped, 0);
	dlclose(vdso);
	bootstrap_symbolizer_free(sym);
}

/* xorshift64*: the same sequence on every run. */
static uint64_t next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

Test(unwind, stack_bytes_an_attacker_chose_end_in_bounded_frames)
{
	struct bootstrap_symbolizer *sym = bootstrap_symbolizer_new();
	struct bootstrap_ustack_regs r;
	uint64_t frames[MAX_FRAMES], rng = 0x9e3779b97f4a7c15ull;
	bool whole;

	outer(&s);
	memcpy(&r, s.raw, sizeof(r));
	for (int it = 0; it < 2000; it++) {
		struct sample bad = s;
		uint64_t *words = (uint64_t *)(bad.raw + sizeof(r));
		size_t n;

		/* Random words, some of them addresses in the copy or in this program's code. */
		for (size_t i = 0; i < COPY / 8; i++) {
			uint64_t v = next(&rng);

			words[i] = v % 3 == 0 ? r.sp + v % COPY : v % 3 == 1 ? r.ip - v % 4096 : v;
		}
		if (it % 2) {  /* a stack pointer at the top of the address space */
			struct bootstrap_ustack_regs top = r;

			top.sp = UINT64_MAX - next(&rng) % 64;
			top.bp = top.sp;
			memcpy(bad.raw, &top, sizeof(top));
		}
		n = unwind(sym, &bad, sizeof(bad.raw), frames, &whole);
		cr_assert_eq(frames[0], r.ip);
		(void)n;
	}
	bootstrap_symbolizer_free(sym);
}
