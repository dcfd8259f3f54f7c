/* outfile.c: -o FILE, opened by a tracer that runs as root. In a directory another user
 * can write to (/tmp), FILE may be a name that user planted: a symlink to a file of
 * root's, which the trace would truncate and overwrite, or a file of theirs, which would
 * hand them the trace (typed lines, TLS plaintext). So the last component is never
 * followed, and an existing FILE is looked at through the descriptor that will be
 * written (fstat), not by its name before opening it, which the other user could change
 * in between. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

#define TRACE_MODE 0600

/* Who ran the tracer: sudo's caller when sudo said so (SUDO_UID, SUDO_GID), else the
 * real user. */
struct invoker {
	uid_t uid;
	bool sudo;             /* uid is sudo's caller: a new file is given to them */
	gid_t gid;             /* (gid_t)-1 when SUDO_GID is not set */
};

/* An id from the environment; false when unset or not a plain decimal id. */
static bool env_id(const char *name, unsigned int *out)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	/* (unsigned) -1 means "no change" to chown. */
	if (errno || *end || v >= UINT_MAX)
		return false;
	*out = (unsigned int)v;
	return true;
}

static struct invoker invoker(void)
{
	struct invoker who = { .uid = getuid(), .gid = (gid_t)-1 };
	unsigned int id;

	if (env_id("SUDO_UID", &id)) {
		who.uid = id;
		who.sudo = true;
		if (env_id("SUDO_GID", &id))
			who.gid = id;
	}
	return who;
}

/* A new file: 0600 whatever the umask, and the invoking user's, so that they can read
 * their trace (as tcpdump -Z does). */
static int created(int fd, const struct invoker *who)
{
	if ((who->sudo && fchown(fd, who->uid, who->gid)) || fchmod(fd, TRACE_MODE)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Whether an existing FILE (st, from its own descriptor) is refused, and why. */
static bool refused(const struct stat *st, const struct invoker *who, char *why, size_t cap)
{
	if (S_ISLNK(st->st_mode))
		snprintf(why, cap, "it is a symbolic link");
	/* Only root makes devices: one at FILE was put there by the administrator, not
	 * planted (and -o /dev/null is how a benchmark leaves out the writing). */
	else if (S_ISCHR(st->st_mode) && st->st_uid == 0)
		return false;
	else if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode))
		snprintf(why, cap, "it is neither a regular file, a FIFO nor a device of root's");
	else if (st->st_uid != 0 && st->st_uid != who->uid)
		snprintf(why, cap, "it belongs to uid %u, neither root nor the invoking user (uid %u)",
			 (unsigned int)st->st_uid, (unsigned int)who->uid);
	/* Another name of the same file may be one nobody meant to overwrite (a hard link
	 * to a file of root's, where fs.protected_hardlinks is off). */
	else if (S_ISREG(st->st_mode) && st->st_nlink > 1)
		snprintf(why, cap, "it has %lu hard links", (unsigned long)st->st_nlink);
	else
		return false;
	return true;
}

/* An existing FILE: held by an O_PATH descriptor (which opens neither a FIFO nor a
 * symlink's target), checked, then opened for writing through that descriptor, so the
 * file written is the file checked. */
static int existing(const char *path, const struct invoker *who, char *why, size_t cap)
{
	int held = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC), fd, err = 0;
	char self[32];
	struct stat st;

	if (held < 0)
		return -errno;
	if (fstat(held, &st))
		err = -errno;
	else if (refused(&st, who, why, cap))
		err = -EPERM;
	if (err) {
		close(held);
		return err;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", held);
	/* A FIFO waits here for its reader, as it always has. */
	fd = open(self, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	err = fd < 0 ? -errno : 0;
	close(held);
	if (!err && S_ISREG(st.st_mode) && (ftruncate(fd, 0) || fchmod(fd, TRACE_MODE))) {
		err = -errno;
		close(fd);
	}
	return err ? err : fd;
}

int outfile_open(const char *path, char *why, size_t why_cap)
{
	struct invoker who = invoker();
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, TRACE_MODE);

	if (why_cap)
		why[0] = '\0';
	if (fd >= 0)
		return created(fd, &who);
	/* O_EXCL also fails on a symlink, dangling or not: existing() says so. */
	return errno == EEXIST ? existing(path, &who, why, why_cap) : -errno;
}
