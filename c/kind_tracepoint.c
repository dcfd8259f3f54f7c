/* kind_tracepoint.c: the kind of a tracepoint. A target is "category/name"; this
 * machine has it when tracefs lists it, and its record's layout (the offsets of its
 * first fields) is read then, for the handlers of run-time tracepoints, which learn
 * where their arguments are from the target table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "kind.h"
#include "targets.h"

static int parse(const char *text, const char *declared, struct bs_target *t)
{
	const char *slash = strchr(text, '/');

	(void)declared;
	if (!slash || slash == text || !slash[1] || strchr(slash + 1, '/') || strpbrk(text, " \t:"))
		return -EINVAL;
	return bs_target_set_name(t, "%s", text);
}

/* The offsets of the record's first fields, from its tracefs format. */
static void read_layout(const char *tracefs, struct bs_target *t)
{
	char path[512], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events/%s/format", tracefs, t->name);
	f = fopen(path, "re");
	if (!f)
		return;
	/* "\tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;": the common_
	 * fields are the header every record starts with, __syscall_nr a syscall's number. */
	while (n < BOOTSTRAP_MAX_ARGS && fgets(line, sizeof(line), f)) {
		unsigned int off, size;
		char *field = strstr(line, "field:"), *semi;

		if (!field || !(semi = strchr(field, ';')) || sscanf(semi, ";%*[ \t]offset:%u;%*[ \t]size:%u;", &off, &size) != 2)
			continue;
		*semi = '\0';
		if (strstr(field, " common_") || strstr(field, " __syscall_nr"))
			continue;
		if (size == 48 && strstr(field, "args[6]")) { /* sys_enter_*: the six arguments */
			for (; n < BOOTSTRAP_MAX_ARGS; n++)
				t->arg_off[n] = off + 8 * n, t->arg_size[n] = 8;
			break;
		}
		t->arg_off[n] = off;
		t->arg_size[n++] = size == 1 || size == 2 || size == 4 || size == 8 ? size : 0;
	}
	fclose(f);
}

static int check(struct bs_target *t, const char *tracefs, char *why, size_t cap)
{
	if (!bootstrap_tracepoint_exists(tracefs, t->name)) {
		snprintf(why, cap, "no tracepoint %s on this kernel", t->name);
		return -ENOENT;
	}
	read_layout(tracefs, t);
	return 0;
}

static int attach(struct bootstrap *b, struct bpf_program *prog, const struct bs_target *t, const char *where,
		  __u64 cookie)
{
	LIBBPF_OPTS(bpf_tracepoint_opts, opts, .bpf_cookie = cookie);
	const char *name = where ? where : t->name, *slash = strchr(name, '/');
	char category[BOOTSTRAP_TARGET_NAME_MAX];

	snprintf(category, sizeof(category), "%.*s", (int)(slash - name), name);
	return bs_add_link(b, bpf_program__attach_tracepoint_opts(prog, category, slash + 1, &opts));
}

const struct bs_kind_ops bs_kind_tracepoint_ops = { .parse = parse, .check = check, .attach = attach };
