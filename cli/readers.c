/* readers.c: who is at the other end of ./example's output, so that a system-wide trace
 * can leave them out. Traced, `./example | jq` would feed on itself: jq writes what it
 * read, the write (content included) is an event, the event is printed, jq writes it.
 *
 * The chain, found again at every refresh because readers come and go:
 *  - a pipe or FIFO: every process but the tracer that holds it open, found by its
 *    inode in /proc/PID/fd (jq, less, tee, a log shipper; a shell or sudo that kept
 *    the write end too);
 *  - a pseudo-terminal: the nearest ancestor holding its master (sudo with use_pty,
 *    script), when it copies what it reads to a stdout of its own; then, by the same
 *    rules, whatever is at the other end of that stdout. A master holder whose stdout
 *    is /dev/null or a socket (tmux, sshd, a terminal emulator) displays or sends what
 *    it reads rather than copying it, and stays traced (docs/cli.md, "Exclusions").
 *
 * Exclusion is granted only to the tracer's own pipeline: a relay (an ancestor), and a
 * holder of a pipe in the session of the process whose output it is (the tracer, or a
 * relay) or one that held it at the first look. Anyone may open a FIFO of mode 0666,
 * and any process of jq's user /proc/<jq>/fd/0: were every holder left out, such a
 * process and the children it forks would vanish from the trace. A holder that came
 * later from elsewhere stays traced, and -v names it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/major.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "readers.h"

/* Relays of relays (sudo inside script(1) is two); the bound also ends a cycle. */
#define MAX_HOPS 4
/* How far up a pty's relay is looked for: sudo's is the tracer's grandparent. */
#define MAX_ANCESTORS 64
#define PTMX_MINOR 2
#define DEV_NULL_MINOR 3

/* What the chain needs of /proc/PID/stat. */
struct proc_ids {
	pid_t ppid;
	pid_t session;
	unsigned long long start;  /* since boot, in clock ticks: with the pid, one process */
};

/* One hop of the chain: a process's output, and how the messages name them. */
struct stream {
	pid_t pid;
	int fd;
	struct proc_ids ids;       /* of pid: its session is the pipeline's */
	char owner[40];            /* "the tracer", "pid 12 (sudo)" */
	char name[64];
};

/* The processes found by one refresh. */
struct found {
	struct reader *v;
	size_t n, cap;
	int err;
};

static bool proc_path(char *buf, size_t cap, pid_t pid, const char *what, int fd)
{
	int n = fd < 0 ? snprintf(buf, cap, "/proc/%d/%s", (int)pid, what)
		       : snprintf(buf, cap, "/proc/%d/%s/%d", (int)pid, what, fd);

	return n > 0 && (size_t)n < cap;
}

/* What pid's fd refers to (following the magic link), false once it is gone. */
static bool fd_stat(pid_t pid, int fd, struct stat *st)
{
	char path[64];

	return proc_path(path, sizeof(path), pid, "fd", fd) && stat(path, st) == 0;
}

static bool statfs_fd(pid_t pid, int fd, struct statfs *fs)
{
	char path[64];

	return proc_path(path, sizeof(path), pid, "fd", fd) && statfs(path, fs) == 0;
}

/* The number after "key:" in /proc/PID/fdinfo/FD (flags are octal there). */
static bool fdinfo_value(pid_t pid, int fd, const char *key, int base, unsigned long *out)
{
	size_t klen = strlen(key);
	char path[64], line[256];
	bool found = false;
	FILE *f;

	if (!proc_path(path, sizeof(path), pid, "fdinfo", fd) || !(f = fopen(path, "re")))
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			*out = strtoul(line + klen + 1, NULL, base);
			found = true;
		}
	fclose(f);
	return found;
}

static void read_comm(pid_t pid, char comm[16])
{
	char path[64];
	FILE *f;

	strcpy(comm, "?");
	if (!proc_path(path, sizeof(path), pid, "comm", -1) || !(f = fopen(path, "re")))
		return;
	if (fgets(comm, 16, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

/* Fields 7 to 21 of /proc/PID/stat, between the session and the start time. */
#define SKIP_15 "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"

/* pid's ids from /proc/PID/stat; false once pid is gone. The comm before them may hold
 * spaces and parentheses: the fields start after the last ')'. */
static bool read_ids(pid_t pid, struct proc_ids *ids)
{
	char path[64], buf[1024], *p;
	size_t n = 0;
	FILE *f;

	if (!proc_path(path, sizeof(path), pid, "stat", -1) || !(f = fopen(path, "re")))
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && sscanf(p + 1, " %*c %d %*d %d " SKIP_15 " %llu", &ids->ppid, &ids->session, &ids->start) == 3;
}

/* The parent's pid, 0 when there is none (or pid is gone). */
static pid_t parent_of(pid_t pid)
{
	struct proc_ids ids;

	return read_ids(pid, &ids) ? ids.ppid : 0;
}

typedef bool (*fd_match)(pid_t pid, int fd, const struct stat *st, const void *ctx);

/* The first fd of pid that match accepts, or -1. */
static int find_fd(pid_t pid, fd_match match, const void *ctx)
{
	char path[64];
	struct dirent *e;
	int found = -1;
	DIR *d;

	if (!proc_path(path, sizeof(path), pid, "fd", -1) || !(d = opendir(path)))
		return -1;
	while (found < 0 && (e = readdir(d))) {
		struct stat st;
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, 0) == 0 && match(pid, fd, &st, ctx))
			found = fd;
	}
	closedir(d);
	return found;
}

static bool same_file(pid_t pid, int fd, const struct stat *st, const void *ctx)
{
	const struct stat *want = ctx;

	(void)pid;
	(void)fd;
	return st->st_dev == want->st_dev && st->st_ino == want->st_ino;
}

/* /dev/ptmx (or /dev/pts/ptmx) opened on the master of pty *index. */
static bool master_of(pid_t pid, int fd, const struct stat *st, const void *ctx)
{
	unsigned long index;

	return S_ISCHR(st->st_mode) && major(st->st_rdev) == TTYAUX_MAJOR && minor(st->st_rdev) == PTMX_MINOR &&
	       fdinfo_value(pid, fd, "tty-index", 10, &index) && index == *(const unsigned int *)ctx;
}

static const struct reader *find(const struct reader *v, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].pid == pid)
			return &v[i];
	return NULL;
}

__attribute__((format(printf, 4, 5)))
static struct reader *found_add(struct found *f, pid_t pid, bool own, const char *fmt, ...)
{
	struct reader *r;
	va_list ap;

	if (find(f->v, f->n, pid))
		return NULL;
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 8;
		struct reader *grown = realloc(f->v, cap * sizeof(*grown));

		if (!grown) {
			f->err = -ENOMEM;
			return NULL;
		}
		f->v = grown;
		f->cap = cap;
	}
	r = &f->v[f->n++];
	r->pid = pid;
	r->own = own;
	read_comm(pid, r->comm);
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return r;
}

static int compare_pids(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Whether pid may hold the pipe though it did not at the last scan. An anonymous pipe
 * cannot be opened by path: a process gets it from a holder by forking, as a pid not
 * seen before, so only the new processes and the holders need a look (a look at every
 * fd costs about 4 us each). A named FIFO anyone may open at any time. */
static bool worth_a_look(const struct readers *r, bool anonymous, pid_t pid)
{
	return !anonymous || !r->seen.v || find(r->set, r->n, pid) || find(r->late, r->n_late, pid) ||
	       !bsearch(&pid, r->seen.v, r->seen.n, sizeof(pid), compare_pids);
}

static void pid_list_free(struct pid_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static bool pid_list_add(struct pid_list *l, pid_t pid)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		pid_t *grown = realloc(l->v, cap * sizeof(*grown));

		if (!grown)
			return false;
		l->v = grown;
		l->cap = cap;
	}
	l->v[l->n++] = pid;
	return true;
}

static bool is_founder(const struct readers *r, pid_t pid, unsigned long long start)
{
	for (size_t i = 0; i < r->n_founders; i++)
		if (r->founders[i].pid == pid && r->founders[i].start == start)
			return true;
	return false;
}

/* Remembers a holder of the first look; false when out of memory. */
static bool founder_add(struct readers *r, pid_t pid, unsigned long long start)
{
	if (r->n_founders == r->founders_cap) {
		size_t cap = r->founders_cap ? 2 * r->founders_cap : 8;
		struct founder *grown = realloc(r->founders, cap * sizeof(*grown));

		if (!grown)
			return false;
		r->founders = grown;
		r->founders_cap = cap;
	}
	r->founders[r->n_founders++] = (struct founder){ .pid = pid, .start = start };
	return true;
}

/* pid, holding the pipe s writes to on fd, added to f: excluded when it belongs to the
 * pipeline, else named as one that stays traced. */
static void add_holder(struct readers *r, struct found *f, const struct stream *s, pid_t pid, int fd)
{
	unsigned long flags = 0;
	struct proc_ids ids;
	char holds[128];

	if (!read_ids(pid, &ids))
		return;
	fdinfo_value(pid, fd, "flags", 8, &flags);
	if ((flags & O_ACCMODE) == O_WRONLY)
		snprintf(holds, sizeof(holds), "holds the write end of %s, a pipe, too", s->name);
	else
		snprintf(holds, sizeof(holds), "reads %s, a pipe", s->name);
	/* A process group lies within its session, so this covers both. Nobody can join a
	 * session but by being forked in it. */
	if (ids.session == s->ids.session) {
		found_add(f, pid, true, "%s, in the session of %s", holds, s->owner);
	} else if (!r->looked || is_founder(r, pid, ids.start)) {
		/* Not remembered (out of memory), it is traced again from the next look. */
		if (!r->looked && !founder_add(r, pid, ids.start))
			f->err = -ENOMEM;
		found_add(f, pid, true, "%s, since the trace started", holds);
	} else {
		found_add(f, pid, false, "%s, taken up after the trace started, outside the session of %s", holds,
			  s->owner);
	}
}

/* Every process but the tracer and the stream's own holding the pipe s writes to. */
static void add_holders(struct readers *r, struct found *f, const struct stream *s, const struct stat *pipe)
{
	struct statfs fs;
	bool anonymous = statfs_fd(s->pid, s->fd, &fs) && fs.f_type == PIPEFS_MAGIC;
	struct pid_list seen = { 0 };
	bool complete = true;
	pid_t self = getpid();
	struct dirent *e;
	DIR *proc;

	/* What the last scan saw says nothing about another pipe. */
	if (pipe->st_dev != r->pipe_dev || pipe->st_ino != r->pipe_ino) {
		pid_list_free(&r->seen);
		r->pipe_dev = pipe->st_dev;
		r->pipe_ino = pipe->st_ino;
	}
	if (!(proc = opendir("/proc")))
		return;
	while ((e = readdir(proc))) {
		char *end;
		pid_t pid = (pid_t)strtol(e->d_name, &end, 10);
		int fd;

		if (*end || pid <= 0)
			continue;
		complete &= pid_list_add(&seen, pid);
		if (pid != self && pid != s->pid && worth_a_look(r, anonymous, pid) &&
		    (fd = find_fd(pid, same_file, pipe)) >= 0)
			add_holder(r, f, s, pid, fd);
	}
	closedir(proc);
	pid_list_free(&r->seen);
	/* Short of memory for the list, the next scan looks at every process again. */
	if (complete)
		qsort(seen.v, seen.n, sizeof(*seen.v), compare_pids);
	else
		pid_list_free(&seen);
	r->seen = seen;
}

/* The nearest ancestor of pid holding the master of pty index, 0 when none does. */
static pid_t master_holder(pid_t pid, unsigned int index)
{
	for (int i = 0; i < MAX_ANCESTORS && (pid = parent_of(pid)) > 0; i++)
		if (find_fd(pid, master_of, &index) >= 0)
			return pid;
	return 0;
}

/* Whether a master holder copies to a stdout of its own (sudo, script), rather than
 * displaying or sending what it reads (tmux and sshd: stdout /dev/null; a terminal
 * emulator: often a socket to the journal). */
static bool copies_to_stdout(pid_t pid)
{
	struct stat st;

	if (!fd_stat(pid, STDOUT_FILENO, &st) || S_ISSOCK(st.st_mode))
		return false;
	return !S_ISCHR(st.st_mode) || st.st_rdev != makedev(MEM_MAJOR, DEV_NULL_MINOR);
}

/* The relay of the pty s writes to, added to f and made the next hop; false when the
 * chain ends here. */
static bool follow_relay(struct found *f, struct stream *s, const struct stat *pty)
{
	unsigned int index = minor(pty->st_rdev);
	pid_t relay = master_holder(s->pid, index);
	struct reader *r;

	/* An ancestor: nobody becomes one later. */
	if (!relay || !copies_to_stdout(relay) || !read_ids(relay, &s->ids))
		return false;
	r = found_add(f, relay, true, "relays %s, pty %u, to its own stdout", s->name, index);
	if (!r)
		return false;
	s->pid = relay;
	s->fd = STDOUT_FILENO;
	snprintf(s->owner, sizeof(s->owner), "pid %d (%s)", (int)relay, r->comm);
	snprintf(s->name, sizeof(s->name), "the stdout of %s", s->owner);
	return true;
}

static void find_chain(struct readers *r, struct found *f)
{
	struct stream s = { .pid = getpid(), .fd = r->fd, .owner = "the tracer" };
	struct stat st;

	if (!read_ids(s.pid, &s.ids)) {
		f->err = errno ? -errno : -EINVAL;
		return;
	}
	snprintf(s.name, sizeof(s.name), "the tracer's %s", r->fd == STDOUT_FILENO ? "stdout" : "output");
	for (int hop = 0; hop < MAX_HOPS && fd_stat(s.pid, s.fd, &st); hop++) {
		if (S_ISFIFO(st.st_mode)) {
			add_holders(r, f, &s, &st);
			return;
		}
		if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != UNIX98_PTY_SLAVE_MAJOR || !follow_relay(f, &s, &st))
			return;
	}
}

bool readers_possible(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || isatty(fd));
}

void readers_init(struct readers *r, int fd, bool verbose)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->verbose = verbose;
}

/* Every exclusion is said: what the trace leaves out is never a secret. */
static void exclude(struct bootstrap *b, const struct reader *p)
{
	int err = bootstrap_exclude_pid(b, p->pid, true);

	if (err)
		fprintf(stderr, "example: cannot exclude pid %d (%s): %s\n", (int)p->pid, p->comm, strerror(-err));
	else
		fprintf(stderr, "example: excluded pid %d (%s): %s\n", (int)p->pid, p->comm, p->why);
}

static void trace_again(struct bootstrap *b, const struct reader *p)
{
	int err = bootstrap_exclude_pid(b, p->pid, false);

	if (err)
		fprintf(stderr, "example: cannot trace pid %d (%s) again: %s\n", (int)p->pid, p->comm, strerror(-err));
	else
		fprintf(stderr, "example: pid %d (%s) traced again: no longer at the other end of the output\n",
			(int)p->pid, p->comm);
}

/* Moves f's entries of the pipeline to the front, in order; returns how many. */
static size_t own_first(struct found *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].own) {
			struct reader t = f->v[i];

			memmove(&f->v[n + 1], &f->v[n], (i - n) * sizeof(t));
			f->v[n++] = t;
		}
	return n;
}

/* The holders that stay traced: named once each (with -v) while they hold the output. */
static void keep_late(struct readers *r, const struct reader *v, size_t n)
{
	struct reader *late = n ? malloc(n * sizeof(*late)) : NULL;

	for (size_t i = 0; i < n; i++)
		if (r->verbose && !find(r->late, r->n_late, v[i].pid))
			fprintf(stderr, "example: pid %d (%s) stays traced: %s\n", (int)v[i].pid, v[i].comm, v[i].why);
	/* Short of memory, one may be named again. */
	if (late)
		memcpy(late, v, n * sizeof(*late));
	free(r->late);
	r->late = late;
	r->n_late = late ? n : 0;
}

void readers_refresh(struct readers *r, struct bootstrap *b)
{
	struct found now = { 0 };
	size_t n_own;

	find_chain(r, &now);
	r->looked = true;
	if (now.err)
		fprintf(stderr, "example: looking for the output's readers: %s\n", strerror(-now.err));
	n_own = own_first(&now);
	for (size_t i = 0; i < r->n; i++)
		if (!find(now.v, n_own, r->set[i].pid))
			trace_again(b, &r->set[i]);
	/* One that could not be excluded stays in the set all the same: said only once. */
	for (size_t i = 0; i < n_own; i++)
		if (!find(r->set, r->n, now.v[i].pid))
			exclude(b, &now.v[i]);
	keep_late(r, now.v + n_own, now.n - n_own);
	free(r->set);
	r->set = now.v;
	r->n = n_own;
}

void readers_free(struct readers *r)
{
	free(r->set);
	free(r->late);
	free(r->founders);
	pid_list_free(&r->seen);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}
