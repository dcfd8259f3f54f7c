/* check.c: `./example check`: whether this machine can trace, one ✓/✗ line per
 * requirement and per event (its target, and why it is missing), and a non-zero status
 * when tracing cannot work at all. It only looks (bootstrap_env_probe,
 * bootstrap_target_check), except that it mounts tracefs when it may and it is missing,
 * as tracing itself would. */
#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "bootstrap.h"
#include "cli.h"

#define OK "\u2713"
#define NO "\u2717"

static void line(bool ok, const char *what, const char *detail)
{
	printf("%s %-11s %s\n", ok ? OK : NO, what, detail);
}

static bool check_kernel(void)
{
	struct utsname u;
	char detail[sizeof(u.release) + sizeof(u.machine) + 16];

	if (uname(&u) != 0) {
		line(false, "kernel", "uname() failed");
		return false;
	}
	snprintf(detail, sizeof(detail), "Linux %s (%s)", u.release, u.machine);
	line(true, "kernel", detail);
	return true;
}

static bool check_privileges(const struct bootstrap_env *env)
{
	char detail[256];

	snprintf(detail, sizeof(detail), "%s; CAP_BPF %s, CAP_PERFMON %s, CAP_SYS_ADMIN %s%s",
		 env->root ? "root" : "not root",
		 env->cap_bpf ? "yes" : "no", env->cap_perfmon ? "yes" : "no",
		 env->cap_sys_admin ? "yes" : "no",
		 env->can_trace ? "" : " (tracing needs root, CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON: "
				       "run it with sudo)");
	line(env->can_trace, "privileges", detail);
	return env->can_trace;
}

/* Where tracefs is mounted per the mount table: the probe cannot tell "not mounted"
 * from "mounted but not readable by this user" (tracefs is root-only by default). */
static bool tracefs_in_mount_table(char *dir, size_t cap)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	bool found = false;

	if (!f)
		return false;
	while (!found && (m = getmntent(f)))
		if (strcmp(m->mnt_type, "tracefs") == 0) {
			snprintf(dir, cap, "%s", m->mnt_dir);
			found = true;
		}
	endmntent(f);
	return found;
}

/* Returns why the events cannot be checked, or NULL when they can. */
static const char *check_tracefs(struct bootstrap_env *env)
{
	char detail[512], dir[256];
	const char *unknown = NULL;

	if (env->tracefs) {
		snprintf(detail, sizeof(detail), "mounted at %s", env->tracefs);
	} else if (env->can_trace && (env->tracefs = bootstrap_tracefs_mount())) {
		/* What tracing would do first anyway: a fresh boot often has it unmounted. */
		snprintf(detail, sizeof(detail), "was not mounted: mounted now at %s", env->tracefs);
	} else if (tracefs_in_mount_table(dir, sizeof(dir))) {
		snprintf(detail, sizeof(detail), "mounted at %s but not readable by this user", dir);
		unknown = "unknown, tracefs is not readable";
	} else {
		snprintf(detail, sizeof(detail), "not mounted (the tracer mounts it at /sys/kernel/tracing "
			 "when it runs as root; or: mount -t tracefs nodev /sys/kernel/tracing)");
		unknown = "unknown, tracefs is not mounted";
	}
	line(env->tracefs != NULL, "tracefs", detail);
	return unknown;
}

/* The option that gives a generic probe/KIND event its targets ("--kprobe FUNC") in
 * option[], or false. */
static bool probe_option(const struct bootstrap_event_info *ev, char *option, size_t cap)
{
	const struct bootstrap_kind_info *k = &bootstrap_kinds[ev->kind];

	if (strncmp(ev->type_name, "probe/", 6) != 0 || strcmp(ev->type_name + 6, k->name) != 0 || !k->arg_name)
		return false;
	snprintf(option, cap, "--%s %s", k->name, k->arg_name);
	return true;
}

/* One line per event: its target and whether this machine has it. An event whose
 * targets are given at run time can be traced when this kernel has its kind. Returns
 * how many can be traced. */
static int check_events(const char *unknown)
{
	int n = 0;

	printf("events:\n");
	for (int i = 0; i < BOOTSTRAP_N_EVENTS; i++) {
		const struct bootstrap_event_info *ev = &bootstrap_events[i];
		char option_text[64];
		const char *option = probe_option(ev, option_text, sizeof(option_text)) ? option_text : NULL;
		char why[512] = "";
		int err = unknown ? -ENOENT : bootstrap_target_check(i, NULL, why, sizeof(why));
		bool ok = !err || (!ev->target && err == -ENOENT);

		printf("  %s %s (%s%s%s, id %u%s)", ok ? OK : NO, ev->type_name, bootstrap_kind_name(ev->kind),
		       ev->target ? " " : "", ev->target ? ev->target : "", ev->id, ev->opt_in ? ", opt-in" : "");
		if (unknown)
			printf(": %s\n", unknown);
		else if (err)
			printf(": %s%s%s%s\n", why, option && ok ? " (" : "", option && ok ? option : "", option && ok ? ")" : "");
		else
			putchar('\n');
		n += ok;
	}
	return n;
}

int run_check(void)
{
	struct bootstrap_env env;
	const char *unknown;
	bool ok;
	int n;

	bootstrap_env_probe(&env);
	ok = check_kernel();
	line(env.btf, "BTF", env.btf ? "/sys/kernel/btf/vmlinux" :
	     "/sys/kernel/btf/vmlinux is missing (the kernel needs CONFIG_DEBUG_INFO_BTF=y)");
	ok &= env.btf;
	ok &= check_privileges(&env);
	unknown = check_tracefs(&env);
	ok &= !unknown;
	n = check_events(unknown);
	ok &= n > 0;
	if (ok)
		printf("tracing works here: %d of %d events available\n", n, BOOTSTRAP_N_EVENTS);
	else
		printf("tracing cannot work here: see the %s lines above\n", NO);
	return fflush(stdout) == 0 && ok ? EXIT_OK : EXIT_RUNTIME;
}
