/* json_writer.c: JSON numbers and strings for the generated event serializers.
 *
 * Everything is on the per-event hot path, so there is no allocation and no stdio.
 * Strings are scanned eight bytes at a time while they are plain ASCII, by a byte-class
 * table otherwise, and copied in runs; integers are formatted two digits at a time.
 */
#include "json_writer.h"

#include <arpa/inet.h>
#include <string.h>

/* Appends n bytes, or as many as still fit: truncated output stays a prefix of the
 * full output and len keeps counting towards the size needed. */
static inline void put(struct json_writer *w, const void *src, size_t n)
{
	size_t room = w->len < w->cap ? w->cap - w->len : 0;

	if (n <= room) {
		/* n == 0 skips memcpy: buf may be NULL in a measuring writer. */
		if (n)
			memcpy(w->buf + w->len, src, n);
	} else if (room) {
		memcpy(w->buf + w->len, src, room);
	}
	w->len += n;
}

static inline void put1(struct json_writer *w, char c)
{
	if (w->len < w->cap)
		w->buf[w->len] = c;
	w->len++;
}

void bs_jw_raw(struct json_writer *w, const char *s, size_t n)
{
	put(w, s, n);
}

size_t bs_jw_finish(struct json_writer *w)
{
	if (w->len < w->cap)
		w->buf[w->len] = '\0';
	return w->len;
}

void bs_jw_bool(struct json_writer *w, bool v)
{
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

static const char digit_pairs[200] =
	"00010203040506070809" "10111213141516171819"
	"20212223242526272829" "30313233343536373839"
	"40414243444546474849" "50515253545556575859"
	"60616263646566676869" "70717273747576777879"
	"80818283848586878889" "90919293949596979899";

/* Writes v's digits so that they end just before end; returns their count. */
static size_t format_u64(char *end, uint64_t v)
{
	char *p = end;

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return (size_t)(end - p);
}

void bs_jw_u64(struct json_writer *w, uint64_t v)
{
	char tmp[20];
	size_t n = format_u64(tmp + sizeof(tmp), v);

	put(w, tmp + sizeof(tmp) - n, n);
}

void bs_jw_s64(struct json_writer *w, int64_t v)
{
	char tmp[21];
	/* Negate in unsigned arithmetic: -INT64_MIN does not fit in int64_t. */
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t n = format_u64(tmp + sizeof(tmp), mag);

	if (v < 0)
		tmp[sizeof(tmp) - ++n] = '-';
	put(w, tmp + sizeof(tmp) - n, n);
}

/* Byte classes. A UTF-8 lead byte's class is its sequence length. */
enum {
	P = 0, /* copied as is */
	E = 1, /* needs a JSON escape: control bytes, DEL, '"', '\\' */
	B = 5, /* never valid here: continuation bytes, C0, C1 (overlong) and F5..FF */
};

static const unsigned char byte_class[256] = {
	/* 0x00 */ E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E,
	/* 0x10 */ E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E,
	/* 0x20 */ P, P, E, P, P, P, P, P, P, P, P, P, P, P, P, P,
	/* 0x30 */ P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
	/* 0x40 */ P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
	/* 0x50 */ P, P, P, P, P, P, P, P, P, P, P, P, E, P, P, P,
	/* 0x60 */ P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,
	/* 0x70 */ P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, E,
	/* 0x80 */ B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B,
	/* 0x90 */ B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B,
	/* 0xa0 */ B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B,
	/* 0xb0 */ B, B, B, B, B, B, B, B, B, B, B, B, B, B, B, B,
	/* 0xc0 */ B, B, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	/* 0xd0 */ 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	/* 0xe0 */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	/* 0xf0 */ 4, 4, 4, 4, 4, B, B, B, B, B, B, B, B, B, B, B,
};

/* Length of the longest prefix of p (a lead byte of a need-byte sequence, avail bytes
 * left) that can start a well-formed sequence. It equals need when the sequence is
 * complete; otherwise it is the maximal subpart that one U+FFFD replaces. The second
 * byte's range is what excludes overlongs (E0, F0), surrogates (ED) and code points
 * above U+10FFFF (F4); later bytes are plain continuation bytes. */
static size_t utf8_prefix(const unsigned char *p, size_t avail, unsigned need)
{
	unsigned char lo = p[0] == 0xe0 ? 0xa0 : p[0] == 0xf0 ? 0x90 : 0x80;
	unsigned char hi = p[0] == 0xed ? 0x9f : p[0] == 0xf4 ? 0x8f : 0xbf;
	size_t i;

	if (avail < 2 || p[1] < lo || p[1] > hi)
		return 1;
	for (i = 2; i < need && i < avail; i++)
		if ((p[i] & 0xc0) != 0x80)
			break;
	return i;
}

static void put_escape(struct json_writer *w, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	switch (c) {
	case '"':  put(w, "\\\"", 2); return;
	case '\\': put(w, "\\\\", 2); return;
	case '\n': put(w, "\\n", 2); return;
	case '\r': put(w, "\\r", 2); return;
	case '\t': put(w, "\\t", 2); return;
	case '\b': put(w, "\\b", 2); return;
	case '\f': put(w, "\\f", 2); return;
	}
	char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
	put(w, u, sizeof(u));
}

/* Whether eight bytes all go out unchanged as ASCII: each in 0x20..0x7e and none '"'
 * or '\\'. A byte sets its high bit in one of the terms exactly when it needs
 * attention; carries and borrows only start at such a byte, so the answer is exact. */
static inline bool plain8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u;
	uint64_t x, q, b;

	memcpy(&x, p, 8);
	q = x ^ ones * '"';
	b = x ^ ones * '\\';
	return !((x | (x + ones) | (x - ones * 0x20) | (q - ones) | (b - ones)) & ones * 0x80);
}

void bs_jw_string(struct json_writer *w, const void *bytes, size_t n)
{
	const unsigned char *p, *end, *run;

	/* Also keeps NULL + 0 out of the pointer arithmetic below. */
	if (n == 0) {
		put(w, "\"\"", 2);
		return;
	}
	p = bytes;
	end = p + n;
	run = p; /* start of the pending run of bytes that go out unchanged */
	put1(w, '"');
	while (p < end) {
		unsigned k;
		size_t m;

		while (end - p >= 8 && plain8(p))
			p += 8;
		while (p < end && byte_class[*p] == P)
			p++;
		if (p == end)
			break;
		k = byte_class[*p];
		if (k == E) {
			put(w, run, (size_t)(p - run));
			put_escape(w, *p++);
			run = p;
			continue;
		}
		m = k == B ? 1 : utf8_prefix(p, (size_t)(end - p), k);
		if (m == k) {
			/* Valid multi-byte sequence: part of the run. */
			p += m;
			continue;
		}
		put(w, run, (size_t)(p - run));
		put(w, "\xef\xbf\xbd", 3);
		p += m;
		run = p;
	}
	put(w, run, (size_t)(p - run));
	put1(w, '"');
}

void bs_jw_string_list(struct json_writer *w, const void *bytes, size_t n)
{
	const char *p, *end;

	if (n == 0) {
		put(w, "[]", 2);
		return;
	}
	p = bytes;
	end = p + n;
	put1(w, '[');
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		const char *stop = nul ? nul : end;

		if (p != bytes)
			put1(w, ',');
		bs_jw_string(w, p, (size_t)(stop - p));
		/* Past the NUL; when it was the block's last byte the loop ends here, so a
		 * trailing NUL adds no empty string. */
		p = nul ? nul + 1 : end;
	}
	put1(w, ']');
}

void bs_jw_ip(struct json_writer *w, const uint8_t addr[16])
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char text[INET6_ADDRSTRLEN];
	bool v4 = memcmp(addr, v4_mapped, sizeof(v4_mapped)) == 0;

	inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? addr + 12 : addr, text, sizeof(text));
	JW_LIT(w, "\"");
	bs_jw_raw(w, text, strlen(text));
	JW_LIT(w, "\"");
}
