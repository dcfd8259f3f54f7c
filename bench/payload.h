/* payload.h: the bytes wload writes, so a captured payload can be checked byte by byte.
 *
 * Payload number SEQ (0, 1, 2, ...) of SIZE bytes is:
 *   bytes 0..15  SEQ as 15 zero-padded decimal digits, then ':'
 *   bytes 16..   table[off .. off + SIZE - 16), off = (SEQ * 40503) mod 65536
 * where table is 65536 alphanumeric bytes from the LCG x = x * 1103515245 + 12345 (mod 2^32),
 * x0 = 1, byte = ALNUM[(x >> 16) mod 62], stored twice in a row so a window never wraps.
 * The offset multiplier is odd, so 65536 consecutive payloads all start at different
 * offsets: a payload overwritten by another one does not look right by accident.
 * bench/check.py implements the same definition; change both together.
 */
#ifndef BENCH_PAYLOAD_H
#define BENCH_PAYLOAD_H

#include <stddef.h>
#include <string.h>

#define PAYLOAD_TABLE_LEN 65536u
#define PAYLOAD_PREFIX_LEN 16u
#define PAYLOAD_MAX_SIZE 65536u

static const char payload_alnum[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* table must hold 2 * PAYLOAD_TABLE_LEN bytes. */
static inline void payload_table(char *table)
{
	unsigned int x = 1;

	for (unsigned int i = 0; i < PAYLOAD_TABLE_LEN; i++) {
		x = x * 1103515245u + 12345u;
		table[i] = payload_alnum[(x >> 16) % 62];
	}
	memcpy(table + PAYLOAD_TABLE_LEN, table, PAYLOAD_TABLE_LEN);
}

/* buf gets payload number seq of size bytes (size <= PAYLOAD_MAX_SIZE). */
static inline void payload_fill(char *buf, size_t size, unsigned long long seq, const char *table)
{
	char prefix[PAYLOAD_PREFIX_LEN];
	unsigned long long v = seq;
	size_t off = (size_t)((seq * 40503u) % PAYLOAD_TABLE_LEN);

	prefix[PAYLOAD_PREFIX_LEN - 1] = ':';
	for (int i = PAYLOAD_PREFIX_LEN - 2; i >= 0; i--) {
		prefix[i] = (char)('0' + v % 10);
		v /= 10;
	}
	if (size <= PAYLOAD_PREFIX_LEN) {
		memcpy(buf, prefix, size);
		return;
	}
	memcpy(buf, prefix, PAYLOAD_PREFIX_LEN);
	memcpy(buf + PAYLOAD_PREFIX_LEN, table + off, size - PAYLOAD_PREFIX_LEN);
}

#endif
