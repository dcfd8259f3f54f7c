/* targets.c: what an event attaches to, and whether this machine has it.
 *
 * A target is parsed per kind (tracepoint "category/name", kprobe "function", uprobe
 * "binary:function"), a library name is resolved to a path the way the dynamic loader
 * searches, and each target is checked before anything is loaded, so a missing one is
 * skipped with one line saying which and why instead of an attach error deep in libbpf.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "targets.h"

const char *bootstrap_kind_name(enum bootstrap_kind kind)
{
	static const char *const names[] = {
		[BOOTSTRAP_KIND_TRACEPOINT] = "tracepoint", [BOOTSTRAP_KIND_KPROBE] = "kprobe",
		[BOOTSTRAP_KIND_KRETPROBE] = "kretprobe",   [BOOTSTRAP_KIND_UPROBE] = "uprobe",
		[BOOTSTRAP_KIND_URETPROBE] = "uretprobe",
	};

	return (unsigned int)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

static bool is_regular_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool try_dir(const char *dir, size_t dir_len, const char *name, char *out, size_t cap)
{
	if (dir_len == 0 || (size_t)snprintf(out, cap, "%.*s/%s", (int)dir_len, dir, name) >= cap)
		return false;
	return is_regular_file(out);
}

/* Each directory of a colon-separated list. */
static bool try_path_list(const char *list, const char *name, char *out, size_t cap)
{
	while (list && *list) {
		size_t n = strcspn(list, ":");

		if (try_dir(list, n, name, out, cap))
			return true;
		list += n + (list[n] == ':');
	}
	return false;
}

/* The directories of an ld.so.conf file, following its include lines. depth bounds
 * include loops. */
static bool try_ld_conf(const char *conf, const char *name, char *out, size_t cap, int depth)
{
	char line[512];
	bool found = false;
	FILE *f;

	if (depth > 4 || !(f = fopen(conf, "re")))
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t");

		s[strcspn(s, "#\r\n")] = '\0';
		for (size_t n = strlen(s); n && (s[n - 1] == ' ' || s[n - 1] == '\t'); n--)
			s[n - 1] = '\0';
		if (strncmp(s, "include", 7) == 0 && (s[7] == ' ' || s[7] == '\t')) {
			glob_t g;

			if (glob(s + 8 + strspn(s + 8, " \t"), 0, NULL, &g) == 0) {
				for (size_t i = 0; !found && i < g.gl_pathc; i++)
					found = try_ld_conf(g.gl_pathv[i], name, out, cap, depth + 1);
				globfree(&g);
			}
		} else if (*s == '/') {
			found = try_dir(s, strlen(s), name, out, cap);
		}
	}
	fclose(f);
	return found;
}

/* The loader's own directories, searched after ld.so.conf (its "system search path",
 * as `ld.so --help` lists it): on Debian the multiarch ones come first, and a system
 * without ld.so.conf (a minimal image, an initramfs) has its libraries only there. */
#if defined(__x86_64__)
#define MULTIARCH_DIRS "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:"
#elif defined(__aarch64__)
#define MULTIARCH_DIRS "/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu:"
#else
#define MULTIARCH_DIRS ""
#endif

int bs_resolve_binary(const char *binary, char *out, size_t cap)
{
	static const char *const defaults = MULTIARCH_DIRS "/lib:/usr/lib:/lib64:/usr/lib64";

	if (strchr(binary, '/')) {
		if ((size_t)snprintf(out, cap, "%s", binary) >= cap)
			return -ENAMETOOLONG;
		return is_regular_file(out) ? 0 : -ENOENT;
	}
	/* A bare name is a library, searched in the dynamic loader's order: the
	 * environment, the directories ldconfig caches (ld.so.conf), the defaults. */
	if (try_path_list(getenv("LD_LIBRARY_PATH"), binary, out, cap) ||
	    try_ld_conf("/etc/ld.so.conf", binary, out, cap, 0) || try_path_list(defaults, binary, out, cap))
		return 0;
	return -ENOENT;
}

/* Whether an ELF file defines a function symbol (in .symtab or .dynsym). */
static bool elf_has_function(Elf *elf, const char *function)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;
			int type;

			if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			type = GELF_ST_TYPE(sym.st_info);
			if (type != STT_FUNC && type != STT_GNU_IFUNC)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && strcmp(name, function) == 0)
				return true;
		}
	}
	return false;
}

static int check_elf_function(const char *path, const char *function, char *why, size_t cap)
{
	int fd, err = 0;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, cap, "cannot open %s: %s", path, strerror(errno));
		return err;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		snprintf(why, cap, "%s is not an ELF file", path);
		err = -ENOEXEC;
	} else if (!elf_has_function(elf, function)) {
		snprintf(why, cap, "%s has no function symbol %s", path, function);
		err = -ENOENT;
	}
	elf_end(elf);
	close(fd);
	return err;
}

static bool kprobes_available(void)
{
	/* libbpf attaches through the kprobe PMU, or the legacy tracefs interface. */
	return access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0 ||
	       access("/sys/kernel/tracing/kprobe_events", F_OK) == 0 ||
	       access("/sys/kernel/debug/tracing/kprobe_events", F_OK) == 0;
}

/* Whether /proc/kallsyms lists a text symbol of that name (a module's as "name\t[mod]"). */
static bool kernel_has_function(const char *function)
{
	char line[512], name[256], type;
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return true; /* cannot tell: let the attach say */
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %c %255s", &type, name) == 2 && (type == 't' || type == 'T'))
			found = strcmp(name, function) == 0;
	}
	fclose(f);
	return found;
}

int bs_target_parse(enum bootstrap_kind kind, const char *text, const char *declared, struct bs_target *t)
{
	const char *colon = strchr(text, ':');
	int n;

	memset(t, 0, sizeof(*t));
	t->kind = kind;
	switch (kind) {
	case BOOTSTRAP_KIND_TRACEPOINT:
		if (!strchr(text, '/') || strchr(text, '/') != strrchr(text, '/'))
			return -EINVAL;
		n = snprintf(t->name, sizeof(t->name), "%s", text);
		break;
	case BOOTSTRAP_KIND_KPROBE:
	case BOOTSTRAP_KIND_KRETPROBE:
		if (colon || !*text)
			return -EINVAL;
		n = snprintf(t->function, sizeof(t->function), "%s", text);
		snprintf(t->name, sizeof(t->name), "%s", t->function);
		break;
	default: /* uprobes: "binary:function", or "binary" keeping the declared function */
		if (colon) {
			n = (int)(colon - text);
			snprintf(t->function, sizeof(t->function), "%s", colon + 1);
		} else if (declared && strchr(declared, ':')) {
			n = (int)strlen(text);
			snprintf(t->function, sizeof(t->function), "%s", strchr(declared, ':') + 1);
		} else {
			return -EINVAL;
		}
		if (n == 0 || !t->function[0] || n >= (int)sizeof(t->binary))
			return -EINVAL;
		snprintf(t->binary, sizeof(t->binary), "%.*s", n, text);
		n = snprintf(t->name, sizeof(t->name), "%s:%s", t->binary, t->function);
		break;
	}
	return n > 0 && (size_t)n < sizeof(t->name) ? 0 : -ENAMETOOLONG;
}

int bs_target_check(struct bs_target *t, const char *tracefs, char *why, size_t cap)
{
	int err;

	switch (t->kind) {
	case BOOTSTRAP_KIND_TRACEPOINT:
		if (bootstrap_tracepoint_exists(tracefs, t->name))
			return 0;
		snprintf(why, cap, "no tracepoint %s on this kernel", t->name);
		return -ENOENT;
	case BOOTSTRAP_KIND_KPROBE:
	case BOOTSTRAP_KIND_KRETPROBE:
		if (!kprobes_available()) {
			snprintf(why, cap, "this kernel has no kprobes (CONFIG_KPROBES is off)");
			return -ENOTSUP;
		}
		if (!kernel_has_function(t->function)) {
			snprintf(why, cap, "no kernel function %s (not in /proc/kallsyms)", t->function);
			return -ENOENT;
		}
		return 0;
	default:
		err = bs_resolve_binary(t->binary, t->path, sizeof(t->path));
		if (err) {
			snprintf(why, cap, strchr(t->binary, '/') ? "binary %s does not exist" :
				 "library %s not found where the dynamic loader looks", t->binary);
			return err;
		}
		return check_elf_function(t->path, t->function, why, cap);
	}
}

int bootstrap_target_check(int index, const char *target, char *why, size_t cap)
{
	const struct bootstrap_event_info *ev;
	struct bootstrap_env env;
	struct bs_target t;
	int err;

	if (index < 0 || index >= BOOTSTRAP_N_EVENTS)
		return -EINVAL;
	ev = &bootstrap_events[index];
	if (!target)
		target = ev->target;
	if (!target) {
		snprintf(why, cap, "its target is given at run time");
		return -ENOENT;
	}
	err = bs_target_parse(ev->kind, target, ev->target, &t);
	if (err) {
		snprintf(why, cap, "'%s' is not a %s target", target, bootstrap_kind_name(ev->kind));
		return err;
	}
	bootstrap_env_probe(&env);
	return bs_target_check(&t, env.tracefs, why, cap);
}

int bs_tracepoint_layout(const char *tracefs, const char *name, struct bootstrap_target *out)
{
	char path[512], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events/%s/format", tracefs, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
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
				out->arg_off[n] = off + 8 * n, out->arg_size[n] = 8;
			break;
		}
		out->arg_off[n] = off;
		out->arg_size[n++] = size <= 8 ? size : 0;
	}
	fclose(f);
	return 0;
}
