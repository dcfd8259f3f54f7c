/* json_writer.h: the JSON value writer that the generated per-event serializers build
 * NDJSON lines with.
 *
 * A writer appends to a caller-owned buffer and never writes past its capacity. When
 * the output does not fit, it keeps counting, so after bs_jw_finish() the length is the
 * exact size needed, like snprintf(): the caller grows the buffer and serializes again.
 * Whatever fits is byte-identical to the start of what a large enough buffer gets.
 *
 * Strings take arbitrary bytes from traced programs and always produce valid JSON:
 * control bytes are escaped and invalid UTF-8 becomes U+FFFD, one per maximal subpart
 * (Unicode's recommended substitution practice, the same as Python's
 * bytes.decode("utf-8", "replace")): a well-started sequence cut short is one U+FFFD,
 * every other byte that cannot start or continue a sequence is one of its own.
 */
#ifndef JSON_WRITER_H
#define JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct json_writer {
	char *buf;     /* output buffer */
	size_t cap;    /* its capacity */
	size_t len;    /* bytes produced so far; may exceed cap: then it is the size needed */
};

/* buf may be NULL when cap is 0: the writer then only measures. */
static inline void bs_jw_init(struct json_writer *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
}

void bs_jw_raw(struct json_writer *w, const char *s, size_t n);            /* verbatim bytes */
void bs_jw_u64(struct json_writer *w, uint64_t v);                          /* decimal */
void bs_jw_s64(struct json_writer *w, int64_t v);                           /* decimal */
void bs_jw_bool(struct json_writer *w, bool v);                             /* true / false */
/* In the string functions bytes may be NULL when n is 0. */
void bs_jw_string(struct json_writer *w, const void *bytes, size_t n);      /* "..." */
/* A block of NUL-separated strings (like /proc/PID/cmdline) as ["a","b"]. One trailing
 * NUL ends the last string; a block cut short still yields its partial last string. */
void bs_jw_string_list(struct json_writer *w, const void *bytes, size_t n);

/* A struct bootstrap_ip as text: "127.0.0.1" for an IPv4-mapped address, else "::1". */
void bs_jw_ip(struct json_writer *w, const uint8_t addr[16]);

/* NUL-terminates the output when there is room for it and returns its length. */
size_t bs_jw_finish(struct json_writer *w);

/* Verbatim string literal, e.g. JW_LIT(w, ",\"fd\":"); the "" rejects non-literals. */
#define JW_LIT(w, lit) bs_jw_raw((w), "" lit "", sizeof(lit) - 1)

#ifdef __cplusplus
}
#endif

#endif
