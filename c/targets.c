/* targets.c: what an event attaches to, and whether this machine has it.
 *
 * A target is parsed per kind (tracepoint "category/name", kprobe "function", uprobe
 * "binary:function"), a library name is resolved to a path the way the dynamic loader
 * searches, and each target is checked before anything is loaded, so a missing one is
 * skipped with one line saying which and why instead of an attach error deep in libbpf.
 * A binary or library is opened as anything another user may control is
 * (bs_open_regular: never blocking, a regular file only): a library is found by name
 * in directories, and even a path given on the command line may name a FIFO.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "open_safe.h"
#include "perf_event.h"
#include "targets.h"

const char *bootstrap_kind_name(enum bootstrap_kind kind)
{
	static const char *const names[] = {
		[BOOTSTRAP_KIND_TRACEPOINT] = "tracepoint", [BOOTSTRAP_KIND_KPROBE] = "kprobe",
		[BOOTSTRAP_KIND_KRETPROBE] = "kretprobe",   [BOOTSTRAP_KIND_UPROBE] = "uprobe",
		[BOOTSTRAP_KIND_URETPROBE] = "uretprobe",   [BOOTSTRAP_KIND_XDP] = "xdp",
		[BOOTSTRAP_KIND_PERF_EVENT] = "perf_event",
	};

	return (unsigned int)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

static bool is_regular_file(const char *path)
{
	struct stat st;
	int fd = bs_open_regular(path, &st);

	if (fd < 0)
		return false;
	close(fd);
	return true;
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

/* A function looked up by name as libbpf 1.1 does it when it attaches a uprobe
 * (elf_find_func_offset), so that whatever it would refuse is said here in one line,
 * before anything is loaded, rather than in its own words at attach time: .dynsym
 * first, then .symtab; STT_FUNC symbols only (an IFUNC is not one); "name" also matches
 * "name@VERSION"; two non-weak matches are ambiguous, also across the tables once one
 * matched; an undefined (imported) symbol matches with offset 0, which is refused. */
struct sym_search {
	const char *name;
	size_t len;
	bool qualified;   /* name has "@@": matched as a prefix */
	bool matched;     /* a match was found (libbpf: ret >= 0) */
	long offset;      /* its file offset: > 0 is a place to attach */
	bool ifunc;       /* an IFUNC of that name was passed over */
};

static bool sym_name_matches(const struct sym_search *s, const char *sname)
{
	return strncmp(sname, s->name, s->len) == 0 &&
	       (s->qualified || sname[s->len] == '\0' || sname[s->len] == '@');
}

/* Searches the first section of `type`; false when a match is ambiguous. */
static bool search_symbols(Elf *elf, Elf64_Word type, struct sym_search *s)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	int last_bind = -1;

	while ((scn = elf_nextscn(elf, scn)) && !(gelf_getshdr(scn, &sh) && sh.sh_type == type))
		;
	if (!scn || !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
		return true;
	for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Shdr sym_sh;
		GElf_Sym sym;
		const char *sname;
		int bind;

		if (!gelf_getsym(data, (int)i, &sym) || !(sname = elf_strptr(elf, sh.sh_link, sym.st_name)) ||
		    !sym_name_matches(s, sname))
			continue;
		s->ifunc |= GELF_ST_TYPE(sym.st_info) == STT_GNU_IFUNC;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		bind = GELF_ST_BIND(sym.st_info);
		if (s->matched && last_bind != STB_WEAK && bind != STB_WEAK)
			return false;
		if ((s->matched && bind == STB_WEAK) || !gelf_getshdr(elf_getscn(elf, sym.st_shndx), &sym_sh))
			continue;
		s->matched = true;
		s->offset = (long)(sym.st_value - sym_sh.sh_addr + sym_sh.sh_offset);
		last_bind = bind;
	}
	return true;
}

/* 0 when libbpf can attach a uprobe to `function` in the ELF file; else why not. */
static int find_function(Elf *elf, const char *path, const char *function, char *why, size_t cap)
{
	struct sym_search s = { .name = function, .len = strlen(function), .qualified = strstr(function, "@@") != NULL };
	bool unique = search_symbols(elf, SHT_DYNSYM, &s);

	if (unique && s.offset <= 0)
		unique = search_symbols(elf, SHT_SYMTAB, &s);
	if (unique && s.offset > 0)
		return 0;
	/* An import matched first: whatever came after it, that is the reason. */
	if (s.matched && s.offset <= 0)
		snprintf(why, cap, "%s does not define %s, it imports it: probe the library that defines it",
			 path, function);
	else if (!unique)
		snprintf(why, cap, "%s has more than one function %s (static functions of one name in several "
			 "files?), and a uprobe by name cannot tell them apart", path, function);
	else if (s.ifunc)
		snprintf(why, cap, "%s in %s is an indirect function (IFUNC), which cannot be probed by name: "
			 "probe the implementation it resolves to", function, path);
	else
		snprintf(why, cap, "%s has no function symbol %s", path, function);
	return unique ? -ENOENT : -ENOTUNIQ;
}

static int check_elf_function(const char *path, const char *function, char *why, size_t cap)
{
	struct stat st;
	int fd, err;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	fd = bs_open_regular(path, &st);
	if (fd < 0) {
		snprintf(why, cap, fd == -EINVAL ? "%s is not a regular file" : "cannot open %s: %s", path, strerror(-fd));
		return fd;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		snprintf(why, cap, "%s is not an ELF file", path);
		err = -ENOEXEC;
	} else {
		err = find_function(elf, path, function, why, cap);
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

const char *bs_target_syntax(const struct bootstrap_event_info *ev)
{
	switch (ev->kind) {
	case BOOTSTRAP_KIND_TRACEPOINT:
		return "category/name";
	case BOOTSTRAP_KIND_KPROBE:
	case BOOTSTRAP_KIND_KRETPROBE:
		return "a kernel function";
	case BOOTSTRAP_KIND_XDP:
		return "a network interface";
	case BOOTSTRAP_KIND_PERF_EVENT:
		return "cpu-clock@FREQUENCYHz";
	default:
		return ev->target ? "binary:function, or binary alone to keep the declared function" : "binary:function";
	}
}

int bs_target_parse(enum bootstrap_kind kind, const char *text, const char *declared, struct bs_target *t)
{
	const char *colon = strchr(text, ':'), *slash = strchr(text, '/');
	int n;

	memset(t, 0, sizeof(*t));
	t->kind = kind;
	switch (kind) {
	case BOOTSTRAP_KIND_TRACEPOINT:
		if (!slash || slash == text || !slash[1] || strchr(slash + 1, '/') || strpbrk(text, " \t:"))
			return -EINVAL;
		n = snprintf(t->name, sizeof(t->name), "%s", text);
		break;
	case BOOTSTRAP_KIND_KPROBE:
	case BOOTSTRAP_KIND_KRETPROBE:
		if (!*text || strpbrk(text, " \t:/"))
			return -EINVAL;
		n = snprintf(t->function, sizeof(t->function), "%s", text);
		snprintf(t->name, sizeof(t->name), "%s", t->function);
		break;
	case BOOTSTRAP_KIND_PERF_EVENT:
		return bs_perf_target_parse(text, t);
	case BOOTSTRAP_KIND_XDP: /* an interface name */
		if (colon || !*text || strchr(text, '/') || strlen(text) >= IF_NAMESIZE)
			return -EINVAL;
		n = snprintf(t->name, sizeof(t->name), "%s", text);
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
		if (n == 0 || !t->function[0] || strpbrk(t->function, " \t:") || n >= (int)sizeof(t->binary))
			return -EINVAL;
		snprintf(t->binary, sizeof(t->binary), "%.*s", n, text);
		n = snprintf(t->name, sizeof(t->name), "%s:%s", t->binary, t->function);
		break;
	}
	return n > 0 && (size_t)n < sizeof(t->name) ? 0 : -ENAMETOOLONG;
}

int bs_kind_check(enum bootstrap_kind kind, char *why, size_t cap)
{
	if ((kind == BOOTSTRAP_KIND_KPROBE || kind == BOOTSTRAP_KIND_KRETPROBE) && !kprobes_available()) {
		snprintf(why, cap, "this kernel has no kprobes (CONFIG_KPROBES is off)");
		return -ENOTSUP;
	}
	return 0;
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
		err = bs_kind_check(t->kind, why, cap);
		if (err)
			return err;
		if (!kernel_has_function(t->function)) {
			snprintf(why, cap, "no kernel function %s (not in /proc/kallsyms)", t->function);
			return -ENOENT;
		}
		return 0;
	case BOOTSTRAP_KIND_PERF_EVENT: /* the software clock is always there */
		return 0;
	case BOOTSTRAP_KIND_XDP:
		if (if_nametoindex(t->name))
			return 0;
		snprintf(why, cap, "no network interface %s here", t->name);
		return -ENODEV;
	default:
		err = bs_resolve_binary(t->binary, t->path, sizeof(t->path));
		if (err) {
			snprintf(why, cap, !strchr(t->binary, '/') ? "library %s not found where the dynamic loader looks" :
				 access(t->binary, F_OK) == 0 ? "binary %s is not a regular file" : "binary %s does not exist",
				 t->binary);
			return err;
		}
		err = check_elf_function(t->path, t->function, why, cap);
		if (!err && t->pid > 0 && kill(t->pid, 0) && errno == ESRCH) {
			snprintf(why, cap, "no process %d", (int)t->pid);
			err = -ESRCH;
		}
		return err;
	}
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
		out->arg_size[n++] = size == 1 || size == 2 || size == 4 || size == 8 ? size : 0;
	}
	fclose(f);
	return 0;
}
