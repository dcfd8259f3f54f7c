/* test_open_safe.c: bs_open_regular() opens a regular file, and refuses without
 * opening (so without blocking) a FIFO that has no writer, a device reached through a
 * symlink, and a directory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "open_safe.h"

static char dir[] = "/tmp/bs-open-safe-XXXXXX";
static char path[sizeof(dir) + 32];

static const char *in_dir(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	static const char *const names[] = { "file", "fifo", "null" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(in_dir(names[i]));
	rmdir(dir);
}

TestSuite(open_safe, .init = setup, .fini = teardown, .timeout = 60);

Test(open_safe, regular_file)
{
	struct stat st, want;
	int fd = open(in_dir("file"), O_WRONLY | O_CREAT | O_EXCL, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "elf", 3), 3);
	close(fd);
	cr_assert_eq(stat(in_dir("file"), &want), 0);
	fd = bs_open_regular(in_dir("file"), &st);
	cr_assert_geq(fd, 0);
	cr_assert_eq(st.st_ino, want.st_ino);
	cr_assert_eq(st.st_size, 3);
	cr_assert_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(fd);
}

/* Opening a FIFO for reading waits for a writer: refused before any open. */
Test(open_safe, fifo_is_refused)
{
	struct stat st;

	cr_assert_eq(mkfifo(in_dir("fifo"), 0600), 0);
	cr_assert_eq(bs_open_regular(in_dir("fifo"), &st), -EINVAL);
}

Test(open_safe, device_behind_a_symlink_is_refused)
{
	struct stat st;

	cr_assert_eq(symlink("/dev/null", in_dir("null")), 0);
	cr_assert_eq(bs_open_regular(in_dir("null"), &st), -EINVAL);
}

Test(open_safe, directory_is_refused)
{
	struct stat st;

	cr_assert_eq(bs_open_regular(dir, &st), -EINVAL);
}

Test(open_safe, missing_file)
{
	struct stat st;

	cr_assert_eq(bs_open_regular(in_dir("absent"), &st), -ENOENT);
}
