/* libpath.c: a library name resolved to a path the way the dynamic loader searches
 * (LD_LIBRARY_PATH, the directories of ld.so.conf, the loader's own), for the uprobes
 * of user functions (kind_ufunc.c). A candidate is opened as anything another user may
 * control is (bs_open_regular: never blocking, a regular file only). */
#include <errno.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpath.h"
#include "open_safe.h"

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
