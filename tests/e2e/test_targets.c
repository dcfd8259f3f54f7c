/* test_targets.c: a uprobe's library name is found where the dynamic loader finds it,
 * also on a system without /etc/ld.so.conf (a minimal image, an initramfs), where the
 * loader still searches its own directories, Debian's multiarch ones among them. The
 * file is hidden in a mount namespace of a child, so the machine is left as it was.
 * Needs root (mount namespaces) and libssl.so.3 installed, as the TLS tests do. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootstrap.h"

/* In a child whose /etc/ld.so.conf is empty (or missing, as in the VM's initramfs) and
 * LD_LIBRARY_PATH unset: bootstrap_target_check() of target for event, its reason
 * copied to why. */
static int check_without_ld_so_conf(const char *event, const char *target, char why[512])
{
	char empty[] = "/tmp/bootstrap-ld-so-conf-XXXXXX";
	char *shared = mmap(NULL, 512, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd, status;
	pid_t child;

	cr_assert_neq(shared, MAP_FAILED);
	fd = mkstemp(empty);
	cr_assert_geq(fd, 0);
	close(fd);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		if (access("/etc/ld.so.conf", F_OK) == 0 &&
		    (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		     mount(empty, "/etc/ld.so.conf", NULL, MS_BIND, NULL))) {
			snprintf(shared, 512, "hiding /etc/ld.so.conf: %s", strerror(errno));
			_exit(2);
		}
		unsetenv("LD_LIBRARY_PATH");
		_exit(bootstrap_target_check(bootstrap_event_index(event), target, shared, 512) ? 1 : 0);
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	unlink(empty);
	snprintf(why, 512, "%s", shared);
	munmap(shared, 512);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 2, "%s", why);
	return WEXITSTATUS(status);
}

Test(targets, library_found_in_the_loader_directories_without_ld_so_conf)
{
	char why[512];

	cr_assert_eq(check_without_ld_so_conf("ssl/ssl_read", "libssl.so.3:SSL_read", why), 0, "%s", why);
	/* And a name the loader would not find is still not found. */
	cr_assert_eq(check_without_ld_so_conf("ssl/ssl_read", "libbootstrap-nosuch.so.1:SSL_read", why), 1);
	cr_assert_str_eq(why, "library libbootstrap-nosuch.so.1 not found where the dynamic loader looks");
}
