/* clock.h: reading a clock in nanoseconds, the one definition the library, ./example and
 * the tests share. Header-only: it defines no symbol in the archive, so the CLI includes
 * it without depending on anything but the public API of the library. */
#ifndef BOOTSTRAP_CLOCK_H
#define BOOTSTRAP_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t bs_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

#endif
