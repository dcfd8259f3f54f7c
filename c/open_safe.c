/* open_safe.c: opening a file another user may control (a library found in a
 * directory, a file a traced process maps, separate debuginfo).
 *
 * The path is first resolved with O_PATH, which reaches the inode without opening it
 * (no driver's open, no FIFO, no lease), and checked with fstat to be a regular file;
 * only that inode is then opened for reading, through /proc/self/fd, so that nothing
 * swapped in at the path in between is opened instead. The read open still carries
 * O_NONBLOCK (a lease another user holds answers EWOULDBLOCK instead of holding the
 * tracer for lease-break-time) and O_NOCTTY.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_PATH */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "open_safe.h"

int bs_open_regular(const char *path, struct stat *st)
{
	char self[64];
	int at = open(path, O_PATH | O_CLOEXEC), fd = -1, err = 0;

	if (at < 0)
		return -errno;
	if (fstat(at, st) != 0)
		err = -errno;
	else if (!S_ISREG(st->st_mode))
		err = -EINVAL;
	if (!err) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", at);
		fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		err = fd < 0 || fstat(fd, st) != 0 ? -errno : 0;
	}
	close(at);
	if (err && fd >= 0)
		close(fd);
	return err ? err : fd;
}
