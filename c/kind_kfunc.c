/* kind_kfunc.c: the kinds of a kernel function: kprobe, kretprobe. A target is the
 * function's name; this machine has it when the kernel has kprobes at all and
 * /proc/kallsyms lists a text symbol of that name (a module's too). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "kallsyms.h"
#include "kind.h"
#include "targets.h"

static int parse(const char *text, const char *declared, struct bs_target *t)
{
	(void)declared;
	if (!*text || strpbrk(text, " \t:/"))
		return -EINVAL;
	snprintf(t->function, sizeof(t->function), "%s", text);
	return bs_target_set_name(t, "%s", text);
}

static int available(char *why, size_t cap)
{
	/* libbpf attaches through the kprobe PMU, or the legacy tracefs interface. */
	if (access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0 ||
	    access("/sys/kernel/tracing/kprobe_events", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/kprobe_events", F_OK) == 0)
		return 0;
	snprintf(why, cap, "this kernel has no kprobes (CONFIG_KPROBES is off)");
	return -ENOTSUP;
}

static int is_function(void *ctx, const struct bs_ksym *sym)
{
	return strcmp(sym->name, ctx) == 0;
}

static int check(struct bs_target *t, const char *tracefs, char *why, size_t cap)
{
	int err = available(why, cap);

	(void)tracefs;
	if (err)
		return err;
	/* Unreadable: cannot tell, let the attach say. */
	if (bs_kallsyms_each(BS_KALLSYMS, "tT", is_function, t->function) == 0) {
		snprintf(why, cap, "no kernel function %s (not in /proc/kallsyms)", t->function);
		return -ENOENT;
	}
	return 0;
}

static int attach(struct bootstrap *b, struct bpf_program *prog, const struct bs_target *t, bool retprobe,
		  __u64 cookie)
{
	LIBBPF_OPTS(bpf_kprobe_opts, opts, .bpf_cookie = cookie, .retprobe = retprobe);

	return bs_add_link(b, bpf_program__attach_kprobe_opts(prog, t->function, &opts));
}

static int attach_entry(struct bootstrap *b, struct bpf_program *prog, const struct bs_target *t, const char *where,
			__u64 cookie)
{
	(void)where;
	return attach(b, prog, t, false, cookie);
}

static int attach_return(struct bootstrap *b, struct bpf_program *prog, const struct bs_target *t, const char *where,
			 __u64 cookie)
{
	(void)where;
	return attach(b, prog, t, true, cookie);
}

const struct bs_kind_ops bs_kind_kprobe_ops = {
	.parse = parse, .available = available, .check = check, .attach = attach_entry,
};
const struct bs_kind_ops bs_kind_kretprobe_ops = {
	.parse = parse, .available = available, .check = check, .attach = attach_return,
};
