/* kind_ufunc.c: the kinds of a function in a program or library: uprobe, uretprobe.
 *
 * A target is "binary:function", or "binary" alone keeping the declared function; the
 * binary is a path or a library name, resolved as the dynamic loader would
 * (libpath.c), and opened as anything another user may control is (bs_open_regular:
 * never blocking, a regular file only): even a path given on the command line may
 * name a FIFO. The function is checked as libbpf will look it up, so that whatever it
 * would refuse is said before anything is loaded, in one line. */
#include <errno.h>
#include <gelf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "kind.h"
#include "libpath.h"
#include "open_safe.h"
#include "targets.h"

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

static int parse(const char *text, const char *declared, struct bs_target *t)
{
	const char *colon = strchr(text, ':');
	int n;

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
	return bs_target_set_name(t, "%s:%s", t->binary, t->function);
}

static int check(struct bs_target *t, const char *tracefs, char *why, size_t cap)
{
	int err = bs_resolve_binary(t->binary, t->path, sizeof(t->path));

	(void)tracefs;
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

static int attach(struct bootstrap *b, struct bpf_program *prog, const struct bs_target *t, bool retprobe,
		  __u64 cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie, .func_name = t->function, .retprobe = retprobe);

	return bs_add_link(b, bpf_program__attach_uprobe_opts(prog, t->pid ? t->pid : -1, t->path, 0, &opts));
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

const struct bs_kind_ops bs_kind_uprobe_ops = { .parse = parse, .check = check, .attach = attach_entry };
const struct bs_kind_ops bs_kind_uretprobe_ops = { .parse = parse, .check = check, .attach = attach_return };
