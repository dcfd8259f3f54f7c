/* open_safe.c: opening a file another user may control (a library found in a
 * directory, a file a traced process maps, separate debuginfo): O_NONBLOCK, because
 * open() itself blocks on a FIFO without a writer or on a file whose owner holds a
 * lease; O_NOCTTY, so that a terminal never becomes the tracer's; then fstat(), so
 * that nothing but a regular file is ever read. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "open_safe.h"

int bs_open_regular(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) != 0)
		err = -errno;
	else if (S_ISREG(st->st_mode))
		return fd;
	else
		err = -EINVAL;
	close(fd);
	return err;
}
