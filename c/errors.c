/* errors.c: the library's log channel and bootstrap_strerror(). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void bs_log(const struct bootstrap *b, enum bootstrap_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b && b->log)
		b->log(b->log_ctx, level, msg);
	else if (level == BOOTSTRAP_LOG_WARN)
		fprintf(stderr, "bootstrap: %s\n", msg);
}

const char *bootstrap_strerror(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		return "not permitted: tracing needs root, or CAP_BPF and CAP_PERFMON";
	case ENOTSUP:
		return "not supported by this kernel (BTF or a BPF feature is missing)";
	case ENOENT:
		return "a tracepoint or kernel interface is missing";
	case E2BIG:
		return "map creation too large: lower ringbuf_bytes or arena_bytes_per_cpu";
	case ENOMEM:
		return "out of memory (for maps: lower ringbuf_bytes or arena_bytes_per_cpu)";
	case EINVAL:
		return "invalid argument";
	case ECANCELED:
		return "stopped";
	default:
		return strerror(-err);
	}
}
