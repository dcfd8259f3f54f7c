/* env.c: privileges, BTF and tracefs: what tracing needs from the machine, probed
 * before anything is loaded so that a missing piece gets a message a person can act on. */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const char *const tracefs_roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

static bool has_events_dir(const char *root)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/events", root);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *mounted_tracefs(void)
{
	for (size_t i = 0; i < sizeof(tracefs_roots) / sizeof(tracefs_roots[0]); i++) {
		if (has_events_dir(tracefs_roots[i]))
			return tracefs_roots[i];
	}
	return NULL;
}

void bootstrap_env_probe(struct bootstrap_env *env)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[2] = { 0 };

	memset(env, 0, sizeof(*env));
	env->root = geteuid() == 0;
	if (syscall(SYS_capget, &hdr, caps) == 0) {
#define HAS_CAP(c) ((caps[(c) / 32].effective >> ((c) % 32)) & 1)
		env->cap_bpf = HAS_CAP(CAP_BPF);
		env->cap_perfmon = HAS_CAP(CAP_PERFMON);
		env->cap_sys_admin = HAS_CAP(CAP_SYS_ADMIN);
#undef HAS_CAP
	}
	env->can_trace = env->root || env->cap_sys_admin || (env->cap_bpf && env->cap_perfmon);
	env->btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	env->tracefs = mounted_tracefs();
}

bool bootstrap_tracepoint_exists(const char *tracefs, const char *type_name)
{
	char path[512];
	struct stat st;

	if (!tracefs)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s", tracefs, type_name);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *bootstrap_tracefs_mount(void)
{
	const char *root = mounted_tracefs();

	if (root)
		return root;
	if (mount("tracefs", tracefs_roots[0], "tracefs", 0, NULL) == 0 && has_events_dir(tracefs_roots[0]))
		return tracefs_roots[0];
	return NULL;
}

const char *bs_ensure_tracefs(const struct bootstrap *b)
{
	bool was_mounted = mounted_tracefs() != NULL;
	const char *root = bootstrap_tracefs_mount();

	if (!root)
		bs_log(b, BOOTSTRAP_LOG_WARN, "tracefs is not mounted and mounting it at %s failed: %s",
		       tracefs_roots[0], strerror(errno));
	else if (!was_mounted)
		bs_log(b, BOOTSTRAP_LOG_INFO, "mounted tracefs at %s", root);
	return root;
}
