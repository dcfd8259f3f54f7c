/* attach.c: which targets each selected event attaches to, and attaching them.
 *
 * Before load, bs_plan_targets() turns the schema's declared targets and the caller's
 * run-time ones (opts.attach) into a list of checked targets; an event left with none is
 * not loaded. After load, bs_attach_targets() attaches every target's handler (and its
 * companion: a return point's entry stash, a syscall entry's retry at the exit) with the
 * target's number as the BPF cookie, and fills the table that number indexes. What
 * differs between kinds is their operations (kind.h): each kind's file attaches it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "bootstrap.skel.h"
#include "internal.h"
#include "kind.h"
#include "targets.h"

/* How a target is named in messages: "probe/uprobe (uprobe /bin/bash:readline)". */
#define TARGET_FMT "%s (%s %s)"
#define TARGET_ARGS(ev, text) (ev)->type_name, bootstrap_kind_name((ev)->kind), (text)

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
		       bootstrap_kind_name(ev->kind), bs_target_syntax(ev));
		return err;
	}
	t.pid = pid;
	err = bs_target_check(&t, tracefs, why, sizeof(why));
	if (!err && companion) { /* where a companion attaches apart (a syscall's exit) */
		struct bs_target c;

		err = bs_target_parse(bs_event_progs[event].companion_kind, companion, NULL, &c);
		err = err ?: bs_target_check(&c, tracefs, why, sizeof(why));
	}
	if (err) {
		bs_log(b, BOOTSTRAP_LOG_WARN, TARGET_FMT ": %s; %s", TARGET_ARGS(ev, t.name), why,
		       strict ? "failing (strict)" : "skipped");
		return strict ? err : 0;
	}
	t.event = event;
	b->targets[b->n_targets++] = t;
	return 0;
}

/* The event of a run-time target, or -1 when it names none of this build. */
static int attach_event(const struct bootstrap_attach *a)
{
	return a->event ? bootstrap_event_index(a->event) : -1;
}

/* The targets event i is asked for, as a person reads them: "a, b, c". */
static void target_list(const struct bootstrap_opts *o, int i, bool runtime, char *out, size_t cap)
{
	const char *declared = bootstrap_events[i].target;
	size_t len = 0;

	out[0] = '\0';
	if (!runtime) {
		snprintf(out, cap, "%s", declared);
		return;
	}
	for (size_t k = 0; k < o->n_attach && len < cap; k++) {
		if (attach_event(&o->attach[k]) == i)
			len += snprintf(out + len, cap - len, "%s%s", len ? ", " : "",
					o->attach[k].target ? o->attach[k].target : declared);
	}
}

/* The targets of event i: its run-time ones when it has any, else its declared one when
 * it is selected. A kind this kernel lacks altogether (kprobes) is one warning for the
 * event, however many targets it was given. */
static int plan_event(struct bootstrap *b, const struct bootstrap_opts *o, int i, const char *tracefs)
{
	const struct bootstrap_event_info *ev = &bootstrap_events[i];
	bool runtime = false;
	char why[256], targets[256];
	int err = 0;

	for (size_t k = 0; k < o->n_attach && !runtime; k++)
		runtime = attach_event(&o->attach[k]) == i;
	if (!runtime && !(b->selected[i] && ev->target))
		return 0;
	b->selected[i] = true;
	if (bs_kind_check(ev->kind, why, sizeof(why))) {
		target_list(o, i, runtime, targets, sizeof(targets));
		bs_log(b, BOOTSTRAP_LOG_WARN, TARGET_FMT ": %s; %s", TARGET_ARGS(ev, targets), why,
		       o->strict ? "failing (strict)" : "skipped");
		return o->strict ? -ENOTSUP : 0;
	}
	if (!runtime)
		return add_target(b, i, ev->target, 0, o->strict, tracefs);
	for (size_t k = 0; k < o->n_attach && !err; k++) {
		const struct bootstrap_attach *a = &o->attach[k];

		if (attach_event(a) == i)
			err = add_target(b, i, a->target ? a->target : ev->target, a->pid, o->strict, tracefs);
	}
	return err;
}

/* Run-time targets must name an event of this build, and a target when the event
 * declares none. */
static int check_attach(const struct bootstrap *b, const struct bootstrap_opts *o)
{
	for (size_t k = 0; k < o->n_attach; k++) {
		const struct bootstrap_attach *a = &o->attach[k];
		int i = attach_event(a);

		if (i < 0) {
			bs_log(b, BOOTSTRAP_LOG_WARN, "attach: no event '%s' in this build", a->event ? a->event : "(null)");
			return -EINVAL;
		}
		if (!a->target && !bootstrap_events[i].target) {
			bs_log(b, BOOTSTRAP_LOG_WARN, "attach: %s has no declared target: name one",
			       bootstrap_events[i].type_name);
			return -EINVAL;
		}
	}
	return 0;
}

/* Whether the selection holds only events that attach to run-time targets, and none
 * was given: what to say when nothing is left to trace. */
static bool waiting_for_targets(const struct bootstrap_opts *o, const bool asked[BOOTSTRAP_N_EVENTS])
{
	bool any = false;

	if (o->n_attach)
		return false;
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (asked[i] && bootstrap_events[i].target)
			return false;
		any |= asked[i];
	}
	return any;
}

int bs_plan_targets(struct bootstrap *b, const struct bootstrap_opts *o, const char *tracefs)
{
	bool asked[BOOTSTRAP_N_EVENTS];
	int err, n = 0;

	err = check_attach(b, o);
	if (err)
		return err;
	b->targets = calloc(BOOTSTRAP_MAX_TARGETS, sizeof(*b->targets));
	if (!b->targets)
		return -ENOMEM;
	memcpy(asked, b->selected, sizeof(asked));
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		err = plan_event(b, o, i, tracefs);
		if (err)
			return err;
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
		bs_log(b, BOOTSTRAP_LOG_WARN, "%s", waiting_for_targets(o, asked) ?
		       "nothing to trace: the selected events attach only to targets given at run time "
		       "(opts.attach), and none was given" : "none of the selected events can be traced on this machine");
		return -ENOENT;
	}
	return 0;
}

int bs_add_link(struct bootstrap *b, struct bpf_link *link)
{
	struct bpf_link **grown;

	if (!link)
		return -errno;
	grown = realloc(b->links, (b->n_links + 1) * sizeof(*grown));
	if (!grown) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	b->links = grown;
	b->links[b->n_links++] = link;
	return 0;
}

static struct bpf_program *program(const struct bootstrap *b, const char *name)
{
	return name ? bpf_object__find_program_by_name(b->skel->obj, name) : NULL;
}

/* What each target's programs must know of it before load (kind.h: prepare). */
static int prepare_targets(struct bootstrap *b)
{
	for (size_t k = 0; k < b->n_targets; k++) {
		const struct bs_target *t = &b->targets[k];
		const struct bs_event_progs *p = &bs_event_progs[t->event];
		const struct bs_kind_ops *handler = bs_kind_ops[t->kind];
		const struct bs_kind_ops *companion = p->companion ? bs_kind_ops[p->companion_kind] : NULL;
		int err = handler->prepare ? handler->prepare(program(b, p->prog), t) : 0;

		if (!err && companion && companion->prepare)
			err = companion->prepare(program(b, p->companion), t);
		if (err) {
			bs_log(b, BOOTSTRAP_LOG_WARN, TARGET_FMT ": preparing its program failed: %s",
			       TARGET_ARGS(&bootstrap_events[t->event], t->name), strerror(-err));
			return err;
		}
	}
	return 0;
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
	return prepare_targets(b);
}

/* The handler of target k, after its companion (an entry stash must be in place before
 * the return it serves, or the first returns would all miss their entry). */
static int attach_target(struct bootstrap *b, size_t k)
{
	const struct bs_target *t = &b->targets[k];
	const struct bs_event_progs *p = &bs_event_progs[t->event];
	int err = 0;

	if (p->companion)
		err = bs_kind_ops[p->companion_kind]->attach(b, program(b, p->companion), t, p->companion_target, k);
	return err ?: bs_kind_ops[t->kind]->attach(b, program(b, p->prog), t, NULL, k);
}

int bs_attach_targets(struct bootstrap *b, bool strict)
{
	int fd = bpf_map__fd(b->skel->maps.bs_targets);
	bool attached[BOOTSTRAP_N_EVENTS] = { false };
	int n = 0;

	for (size_t k = 0; k < b->n_targets; k++) {
		const struct bs_target *t = &b->targets[k];
		const struct bootstrap_event_info *ev = &bootstrap_events[t->event];
		struct bootstrap_target entry = { 0 };
		__u32 slot = k;
		int err;

		snprintf(entry.name, sizeof(entry.name), "%s", t->name);
		memcpy(entry.arg_off, t->arg_off, sizeof(entry.arg_off));
		memcpy(entry.arg_size, t->arg_size, sizeof(entry.arg_size));
		if (bpf_map_update_elem(fd, &slot, &entry, BPF_ANY))
			return -errno;
		/* A held syscall entry needs its exit attached: say so before the entry runs. */
		if (bs_event_progs[t->event].retries)
			b->skel->bss->bs_retry_enabled[t->event] = 1;
		err = attach_target(b, k);
		if (err) {
			bs_log(b, BOOTSTRAP_LOG_WARN, TARGET_FMT ": attaching failed: %s; %s", TARGET_ARGS(ev, t->name),
			       strerror(-err), strict ? "failing (strict)" : "skipped");
			if (strict)
				return err;
			continue;
		}
		if (t->pid)
			bs_log(b, BOOTSTRAP_LOG_INFO, TARGET_FMT ": attached in pid %d", TARGET_ARGS(ev, t->name), (int)t->pid);
		else
			bs_log(b, BOOTSTRAP_LOG_INFO, TARGET_FMT ": attached", TARGET_ARGS(ev, t->name));
		attached[t->event] = true;
	}
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		if (b->selected[i] && !attached[i]) {
			b->selected[i] = false;
			b->skel->bss->bs_enabled[i] = 0;
		}
		n += b->selected[i];
	}
	return n ? 0 : -ENOENT;
}
