/* attach.c: which targets each selected event attaches to, and attaching them.
 *
 * Before load, bs_plan_targets() turns the schema's declared targets and the caller's
 * run-time ones (opts.attach) into a list of checked targets; an event left with none is
 * not loaded. After load, bs_attach_targets() attaches every target's handler (and its
 * companion: a return point's entry stash, a syscall entry's retry at the exit) with the
 * target's number as the BPF cookie, and fills the table that number indexes. One call
 * per kind below is all that differs between kinds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "bootstrap.skel.h"
#include "internal.h"
#include "targets.h"

static int add_target(struct bootstrap *b, int event, const char *text, pid_t pid, bool strict, const char *tracefs)
{
	const struct bootstrap_event_info *ev = &bootstrap_events[event];
	const char *companion = bs_event_progs[event].companion_target;
	struct bs_target t;
	char why[512];
	int err;

	if (b->n_targets == BOOTSTRAP_MAX_TARGETS) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "more than %d attach targets", BOOTSTRAP_MAX_TARGETS);
		return -E2BIG;
	}
	err = bs_target_parse(ev->kind, text, ev->target, &t);
	if (err) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "%s: '%s' is not a %s target (%s)", ev->type_name, text,
		       bootstrap_kind_name(ev->kind), ev->kind == BOOTSTRAP_KIND_TRACEPOINT ? "category/name" :
		       ev->kind <= BOOTSTRAP_KIND_KRETPROBE ? "a kernel function" : "binary:function, or binary");
		return err;
	}
	t.pid = pid;
	err = bs_target_check(&t, tracefs, why, sizeof(why));
	if (!err && companion && !bootstrap_tracepoint_exists(tracefs, companion)) {
		snprintf(why, sizeof(why), "no tracepoint %s on this kernel", companion);
		err = -ENOENT;
	}
	if (err) {
		/* The target too, unless the event's name says it (a tracepoint): the reason
		 * may not name it ("this kernel has no kprobes"), and an event may have many. */
		const char *on = strcmp(t.name, ev->type_name) ? t.name : NULL;

		bs_log(b, BOOTSTRAP_LOG_WARN, "%s %s%s%s: %s: %s", bootstrap_kind_name(ev->kind), ev->type_name,
		       on ? " on " : "", on ? on : "", why, strict ? "failing (strict)" : "skipped");
		return strict ? err : 0;
	}
	t.event = event;
	b->targets[b->n_targets++] = t;
	return 0;
}

int bs_plan_targets(struct bootstrap *b, const struct bootstrap_opts *o, const char *tracefs)
{
	bool overridden[BOOTSTRAP_N_EVENTS] = { false };
	int err, n = 0;

	b->targets = calloc(BOOTSTRAP_MAX_TARGETS, sizeof(*b->targets));
	if (!b->targets)
		return -ENOMEM;
	/* Run-time targets first: they select their event and replace its declared one. */
	for (size_t k = 0; k < o->n_attach; k++) {
		const struct bootstrap_attach *a = &o->attach[k];
		int i = a->event ? bootstrap_event_index(a->event) : -1;

		if (i < 0) {
			bs_log(b, BOOTSTRAP_LOG_WARN, "attach: no event '%s' in this build", a->event ? a->event : "(null)");
			return -EINVAL;
		}
		if (!a->target && !bootstrap_events[i].target) {
			bs_log(b, BOOTSTRAP_LOG_WARN, "attach: %s has no declared target: name one",
			       bootstrap_events[i].type_name);
			return -EINVAL;
		}
		b->selected[i] = overridden[i] = true;
		err = add_target(b, i, a->target ? a->target : bootstrap_events[i].target, a->pid, o->strict, tracefs);
		if (err)
			return err;
	}
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (b->selected[i] && !overridden[i] && bootstrap_events[i].target) {
			err = add_target(b, i, bootstrap_events[i].target, 0, o->strict, tracefs);
			if (err)
				return err;
		}
	}
	/* What is left selected is what has a target here. */
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		bool any = false;

		for (size_t k = 0; k < b->n_targets && !any; k++)
			any = b->targets[k].event == i;
		b->selected[i] = any;
		n += any;
	}
	if (n == 0) {
		bs_log(b, BOOTSTRAP_LOG_WARN, "none of the selected events can be traced on this machine");
		return -ENOENT;
	}
	return 0;
}

static struct bpf_link *attach_one(struct bpf_program *prog, enum bootstrap_kind kind, const struct bs_target *t,
				   const char *tracepoint, __u64 cookie)
{
	switch (kind) {
	case BOOTSTRAP_KIND_TRACEPOINT: {
		LIBBPF_OPTS(bpf_tracepoint_opts, opts, .bpf_cookie = cookie);
		char category[BOOTSTRAP_TARGET_NAME_MAX];
		const char *slash = strchr(tracepoint, '/');

		snprintf(category, sizeof(category), "%.*s", (int)(slash - tracepoint), tracepoint);
		return bpf_program__attach_tracepoint_opts(prog, category, slash + 1, &opts);
	}
	case BOOTSTRAP_KIND_KPROBE:
	case BOOTSTRAP_KIND_KRETPROBE: {
		LIBBPF_OPTS(bpf_kprobe_opts, opts, .bpf_cookie = cookie, .retprobe = kind == BOOTSTRAP_KIND_KRETPROBE);

		return bpf_program__attach_kprobe_opts(prog, t->function, &opts);
	}
	case BOOTSTRAP_KIND_UPROBE:
	case BOOTSTRAP_KIND_URETPROBE: {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie, .func_name = t->function,
			    .retprobe = kind == BOOTSTRAP_KIND_URETPROBE);

		return bpf_program__attach_uprobe_opts(prog, t->pid ? t->pid : -1, t->path, 0, &opts);
	}
	}
	errno = EINVAL;
	return NULL;
}

static struct bpf_program *program(const struct bootstrap *b, const char *name)
{
	return name ? bpf_object__find_program_by_name(b->skel->obj, name) : NULL;
}

int bs_set_autoload(struct bootstrap *b)
{
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		struct bpf_program *prog = program(b, bs_event_progs[i].prog);
		struct bpf_program *companion = program(b, bs_event_progs[i].companion);

		if (!prog || (bs_event_progs[i].companion && !companion)) {
			bs_log(b, BOOTSTRAP_LOG_WARN, "the BPF object lacks the programs of %s", bootstrap_events[i].type_name);
			return -ENOENT;
		}
		bpf_program__set_autoload(prog, b->selected[i]);
		if (companion)
			bpf_program__set_autoload(companion, b->selected[i]);
	}
	return 0;
}

/* The handler of target k, after its companion (an entry stash must be in place before
 * the return it serves, or the first returns would all miss their entry). */
static int attach_target(struct bootstrap *b, size_t k)
{
	const struct bs_target *t = &b->targets[k];
	const struct bs_event_progs *p = &bs_event_progs[t->event];
	const struct bootstrap_event_info *ev = &bootstrap_events[t->event];
	struct bpf_link *link;

	if (p->companion) {
		link = attach_one(program(b, p->companion), p->companion_kind, t,
				  p->companion_target ? p->companion_target : t->name, k);
		if (!link)
			return -errno;
		b->links[b->n_links++] = link;
	}
	link = attach_one(program(b, p->prog), ev->kind, t, t->name, k);
	if (!link)
		return -errno;
	b->links[b->n_links++] = link;
	return 0;
}

int bs_attach_targets(struct bootstrap *b, const char *tracefs, bool strict)
{
	int fd = bpf_map__fd(b->skel->maps.bs_targets);
	bool attached[BOOTSTRAP_N_EVENTS] = { false };
	int n = 0;

	b->links = calloc(2 * b->n_targets, sizeof(*b->links));
	if (!b->links)
		return -ENOMEM;
	for (size_t k = 0; k < b->n_targets; k++) {
		const struct bs_target *t = &b->targets[k];
		struct bootstrap_target entry = { 0 };
		__u32 slot = k;
		int err;

		snprintf(entry.name, sizeof(entry.name), "%s", t->name);
		if (t->kind == BOOTSTRAP_KIND_TRACEPOINT)
			bs_tracepoint_layout(tracefs, t->name, &entry);
		if (bpf_map_update_elem(fd, &slot, &entry, BPF_ANY))
			return -errno;
		/* A held syscall entry needs its exit attached: say so before the entry runs. */
		if (bs_event_progs[t->event].retries)
			b->skel->bss->retry_enabled[t->event] = 1;
		err = attach_target(b, k);
		if (err) {
			bs_log(b, BOOTSTRAP_LOG_WARN, "attaching %s to %s failed: %s%s", bootstrap_events[t->event].type_name,
			       t->name, strerror(-err), strict ? "" : " (target skipped)");
			if (strict)
				return err;
			continue;
		}
		attached[t->event] = true;
	}
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (b->selected[i] && !attached[i]) {
			b->selected[i] = false;
			b->skel->bss->enabled[i] = 0;
		}
		n += b->selected[i];
	}
	return n ? 0 : -ENOENT;
}
