/* embed.c: what an embedding agent does, linked with libbootstrap.a -lelf -lz only.
 * Two instances side by side in one process, each tracing its own child: one delivers
 * through bootstrap_poll(), the other through the program's own epoll loop on
 * bootstrap_epoll_fd(). Each must see exactly its child's open, nothing of the other's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootstrap.h"

struct tracee {
	const char *path;        /* what the child opens */
	pid_t pid;
	int go;                  /* write end of the pipe the child waits on */
	struct bootstrap *b;
	int own_opens, other_opens;
};

static pid_t spawn(const char *path, int *go)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		char name[64];

		close(p[1]);
		snprintf(name, sizeof(name), "%s", path); /* on the stack: readable at syscall entry */
		_exit(read(p[0], &c, 1) == 1 && open(name, O_RDONLY) < 0 ? 0 : 1);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

static int on_event(void *ctx, const struct bootstrap_event *ev)
{
	struct tracee *t = ctx;

	if (ev->hdr->event_index != BOOTSTRAP_EV_SYSCALLS_SYS_ENTER_OPENAT || ev->vars[0].lost)
		return 0;
	if (ev->vars[0].len == strlen(t->path) && memcmp(ev->vars[0].data, t->path, ev->vars[0].len) == 0)
		t->own_opens++;
	else
		t->other_opens++;
	return 0;
}

static int open_tracer(struct tracee *t)
{
	struct bootstrap_opts o = { .sz = sizeof(o), .events = "syscalls/sys_enter_openat",
				    .pids = &t->pid, .n_pids = 1, .follow_children = true };
	int err = bootstrap_open(&o, &t->b);

	if (err)
		fprintf(stderr, "embed: bootstrap_open: %s\n", bootstrap_strerror(err));
	return err;
}

int main(void)
{
	struct tracee a = { .path = "/nonexistent/embed-a" }, c = { .path = "/nonexistent/embed-b" };
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int epfd, status, failed = 0;

	a.pid = spawn(a.path, &a.go);
	c.pid = spawn(c.path, &c.go);
	if (a.pid < 0 || c.pid < 0 || open_tracer(&a) || open_tracer(&c))
		return 1;
	if (write(a.go, "x", 1) != 1 || write(c.go, "x", 1) != 1)
		return 1;
	waitpid(a.pid, &status, 0);
	waitpid(c.pid, &status, 0);

	/* Instance a: the library's own poll. */
	for (int i = 0; i < 100 && a.own_opens == 0; i++) {
		if (bootstrap_poll(a.b, 100, on_event, &a) < 0)
			break;
	}
	/* Instance c: our epoll loop; the fd turns readable at the latest on the delivery timer. */
	epfd = epoll_create1(0);
	epoll_ctl(epfd, EPOLL_CTL_ADD, bootstrap_epoll_fd(c.b), &ev);
	for (int i = 0; i < 100 && c.own_opens == 0; i++) {
		if (epoll_wait(epfd, &out, 1, 1000) == 1 && bootstrap_poll(c.b, 0, on_event, &c) < 0)
			break;
	}
	close(epfd);

	if (a.own_opens != 1 || a.other_opens != 0) {
		fprintf(stderr, "embed: callback instance saw %d own, %d foreign opens\n", a.own_opens, a.other_opens);
		failed++;
	}
	if (c.own_opens != 1 || c.other_opens != 0) {
		fprintf(stderr, "embed: epoll instance saw %d own, %d foreign opens\n", c.own_opens, c.other_opens);
		failed++;
	}
	bootstrap_close(a.b);
	bootstrap_close(c.b);
	printf("embed: %d passed, %d failed\n", 2 - failed, failed);
	return failed ? 1 : 0;
}
