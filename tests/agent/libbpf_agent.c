/* libbpf_agent.c: an agent that uses libbpf itself and embeds libbootstrap.a, linked
 * with the libbpf of libbpf-dev (its shared library, or its archive taken whole as when
 * an agent builds libbpf in): one libbpf in the process, serving both. The agent sets
 * its own libbpf log hook, opens a tracer on its child, then opens a BPF object with
 * libbpf (argv[1]) and a broken one: its hook must still get libbpf's warnings, and
 * the tracer must see exactly the child's one open. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bootstrap.h"

#define CHILD_PATH "/nonexistent/libbpf-agent"

static int warnings;

static int agent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)fmt;
	(void)ap;
	if (level == LIBBPF_WARN)
		warnings++;
	return 0;
}

/* The whole file at path, or NULL. */
static void *slurp(const char *path, size_t *size)
{
	struct stat st;
	void *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (buf = malloc(st.st_size)) &&
	    read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*size = st.st_size;
	return buf;
}

/* Opens (without loading) the object in buf with the agent's libbpf: its programs. */
static int count_programs(const void *buf, size_t size)
{
	struct bpf_object *obj = bpf_object__open_mem(buf, size, NULL);
	struct bpf_program *prog;
	int n = 0;

	if (!obj)
		return -errno;
	bpf_object__for_each_program(prog, obj)
		n++;
	bpf_object__close(obj);
	return n;
}

static int on_event(void *ctx, const struct bootstrap_event *ev)
{
	int *opens = ctx;

	if (ev->hdr->event_index == BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT && !ev->vars[0].lost &&
	    ev->vars[0].len == strlen(CHILD_PATH) && memcmp(ev->vars[0].data, CHILD_PATH, ev->vars[0].len) == 0)
		(*opens)++;
	return 0;
}

int main(int argc, char **argv)
{
	static const char broken[] = "\177ELF, not really";
	struct bootstrap_opts o = { .sz = sizeof(o), .events = "syscalls/sys_enter_openat" };
	int go[2], opens = 0, programs, status, failed = 0;
	struct bootstrap *b;
	size_t size;
	void *obj;
	pid_t pid;
	char c;

	if (argc != 2 || !(obj = slurp(argv[1], &size))) {
		fprintf(stderr, "usage: libbpf_agent BPF_OBJECT (a readable file)\n");
		return 2;
	}
	if (libbpf_major_version() != LIBBPF_MAJOR_VERSION || libbpf_minor_version() != LIBBPF_MINOR_VERSION) {
		fprintf(stderr, "libbpf_agent: built with libbpf %d.%d, runs with %u.%u\n", LIBBPF_MAJOR_VERSION,
			LIBBPF_MINOR_VERSION, libbpf_major_version(), libbpf_minor_version());
		failed++;
	}
	libbpf_set_print(agent_print);
	if (pipe(go) || (pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		char name[] = CHILD_PATH; /* on the stack: readable at syscall entry */

		close(go[1]);
		_exit(read(go[0], &c, 1) == 1 && open(name, O_RDONLY) < 0 ? 0 : 1);
	}
	close(go[0]);
	o.pids = &pid;
	o.n_pids = 1;
	if (bootstrap_open(&o, &b)) {
		fprintf(stderr, "libbpf_agent: bootstrap_open failed\n");
		return 1;
	}

	programs = count_programs(obj, size);
	if (programs <= 0) {
		fprintf(stderr, "libbpf_agent: bpf_object__open_mem of %s: %d programs\n", argv[1], programs);
		failed++;
	}
	if (count_programs(broken, sizeof(broken)) >= 0 || warnings == 0) {
		fprintf(stderr, "libbpf_agent: a broken object gave the agent's log hook %d warnings\n", warnings);
		failed++;
	}

	if (write(go[1], "x", 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return 1;
	for (int i = 0; i < 100 && opens == 0; i++)
		if (bootstrap_poll(b, 100, on_event, &opens) < 0)
			break;
	if (opens != 1) {
		fprintf(stderr, "libbpf_agent: the tracer saw %d opens of its child, not 1\n", opens);
		failed++;
	}
	bootstrap_close(b);
	free(obj);
	printf("libbpf_agent: %d passed, %d failed\n", 4 - failed, failed);
	return failed ? 1 : 0;
}
