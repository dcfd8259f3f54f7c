/* targets.c: what an event attaches to, and whether this machine has it.
 *
 * A target is parsed per kind and each target is checked before anything is loaded, so
 * a missing one is skipped with one line saying which and why instead of an attach
 * error deep in libbpf. What differs between kinds is their operations (kind.h), chosen
 * here from the generated table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kind.h"
#include "targets.h"

const char *bootstrap_kind_name(enum bootstrap_kind kind)
{
	return (unsigned int)kind < BOOTSTRAP_N_KINDS ? bootstrap_kinds[kind].name : "unknown";
}

const char *bs_target_syntax(const struct bootstrap_event_info *ev)
{
	const struct bootstrap_kind_info *k = &bootstrap_kinds[ev->kind];

	return ev->target && k->syntax_declared ? k->syntax_declared : k->syntax;
}

int bs_target_set_name(struct bs_target *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->name, sizeof(t->name), fmt, ap);
	va_end(ap);
	return n > 0 && (size_t)n < sizeof(t->name) ? 0 : -ENAMETOOLONG;
}

int bs_target_parse(enum bootstrap_kind kind, const char *text, const char *declared, struct bs_target *t)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	return bs_kind_ops[kind]->parse(text, declared, t);
}

int bs_kind_check(enum bootstrap_kind kind, char *why, size_t cap)
{
	return bs_kind_ops[kind]->available ? bs_kind_ops[kind]->available(why, cap) : 0;
}

int bs_target_check(struct bs_target *t, const char *tracefs, char *why, size_t cap)
{
	return bs_kind_ops[t->kind]->check(t, tracefs, why, cap);
}

/* Event `index`'s target `target` (NULL: its declared one) parsed into t. */
static int parse_event_target(int index, const char *target, struct bs_target *t, char *why, size_t cap)
{
	const struct bootstrap_event_info *ev;
	int err;

	if (index < 0 || index >= BOOTSTRAP_N_EVENTS) {
		snprintf(why, cap, "no event %d in this build", index);
		return -EINVAL;
	}
	ev = &bootstrap_events[index];
	if (!target)
		target = ev->target;
	if (!target) {
		/* Whatever the target, a kernel without the kind cannot have it. */
		err = bs_kind_check(ev->kind, why, cap);
		if (!err)
			snprintf(why, cap, "target given at run time");
		return err ? err : -ENOENT;
	}
	err = bs_target_parse(ev->kind, target, ev->target, t);
	if (err == -ENAMETOOLONG)
		snprintf(why, cap, "'%s' is too long for a target (at most %d bytes)", target, BOOTSTRAP_TARGET_NAME_MAX - 1);
	else if (err)
		snprintf(why, cap, "'%s' is not a %s target (%s)", target, bootstrap_kind_name(ev->kind), bs_target_syntax(ev));
	return err;
}

int bootstrap_target_parse(int index, const char *target, char *why, size_t cap)
{
	struct bs_target t;

	return parse_event_target(index, target, &t, why, cap);
}

int bootstrap_target_check(int index, const char *target, char *why, size_t cap)
{
	struct bootstrap_env env;
	struct bs_target t;
	int err = parse_event_target(index, target, &t, why, cap);

	if (err)
		return err;
	bootstrap_env_probe(&env);
	return bs_target_check(&t, env.tracefs, why, cap);
}
