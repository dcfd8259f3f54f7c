/* test_json_writer.c: exact output of the JSON writer, its truncation contract, and a
 * seeded random sweep checking that arbitrary bytes always give valid JSON. */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json_writer.h"

/* U+FFFD as UTF-8. Kept a separate literal so a following hex digit is not absorbed
 * into its last \x escape. */
#define R "\xef\xbf\xbd"

/* Printable rendering of bytes for failure messages. */
static const char *show(const char *s, size_t n)
{
	static char out[4][1024];
	static int slot;
	char *o = out[slot++ & 3];
	size_t k = 0;

	for (size_t i = 0; i < n && k + 5 < sizeof(out[0]); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f)
			o[k++] = (char)c;
		else
			k += (size_t)sprintf(o + k, "<%02x>", c);
	}
	o[k] = '\0';
	return o;
}

static void expect_bytes(const char *got, size_t gotn, const char *want, size_t wantn)
{
	cr_assert(gotn == wantn && memcmp(got, want, wantn) == 0,
		  "got  %s (%zu bytes)\nwant %s (%zu bytes)",
		  show(got, gotn), gotn, show(want, wantn), wantn);
}

/* Runs one writer call into a large buffer and compares the whole output. */
#define EXPECT_OUT(want, call)                                               \
	do {                                                                 \
		char buf_[4096];                                             \
		struct json_writer w_;                                       \
		bs_jw_init(&w_, buf_, sizeof(buf_));                            \
		struct json_writer *w = &w_;                                 \
		call;                                                        \
		size_t n_ = bs_jw_finish(w);                                    \
		expect_bytes(buf_, n_, want, sizeof(want) - 1);              \
		cr_assert(buf_[n_] == '\0');                                 \
	} while (0)

/* in and want are literals; want is the string's content, quotes are added here. */
#define EXPECT_STR(in, want) \
	EXPECT_OUT("\"" want "\"", bs_jw_string(w, in, sizeof(in) - 1))
#define EXPECT_LIST(in, want) \
	EXPECT_OUT(want, bs_jw_string_list(w, in, sizeof(in) - 1))

Test(json_writer, unsigned_integers)
{
	EXPECT_OUT("0", bs_jw_u64(w, 0));
	EXPECT_OUT("7", bs_jw_u64(w, 7));
	EXPECT_OUT("10", bs_jw_u64(w, 10));
	EXPECT_OUT("99", bs_jw_u64(w, 99));
	EXPECT_OUT("100", bs_jw_u64(w, 100));
	EXPECT_OUT("1000", bs_jw_u64(w, 1000));
	EXPECT_OUT("4294967296", bs_jw_u64(w, 4294967296u));
	EXPECT_OUT("18446744073709551615", bs_jw_u64(w, UINT64_MAX));
}

Test(json_writer, signed_integers)
{
	EXPECT_OUT("0", bs_jw_s64(w, 0));
	EXPECT_OUT("-1", bs_jw_s64(w, -1));
	EXPECT_OUT("-10", bs_jw_s64(w, -10));
	EXPECT_OUT("42", bs_jw_s64(w, 42));
	EXPECT_OUT("9223372036854775807", bs_jw_s64(w, INT64_MAX));
	EXPECT_OUT("-9223372036854775808", bs_jw_s64(w, INT64_MIN));
}

/* Every digit count and both sides of each power of ten, against printf. */
Test(json_writer, integers_match_printf)
{
	uint64_t p = 1;

	for (int d = 0; d < 20; d++, p *= 10) {
		uint64_t vs[] = { p - 1, p, p + 1, p * 3 + 7 };

		for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
			char want[32], buf[32];
			struct json_writer w;
			int64_t s = (int64_t)vs[i];

			bs_jw_init(&w, buf, sizeof(buf));
			bs_jw_u64(&w, vs[i]);
			expect_bytes(buf, w.len, want,
				     (size_t)sprintf(want, "%" PRIu64, vs[i]));
			bs_jw_init(&w, buf, sizeof(buf));
			bs_jw_s64(&w, -s);
			expect_bytes(buf, w.len, want,
				     (size_t)sprintf(want, "%" PRId64, -s));
		}
	}
}

Test(json_writer, booleans_and_literals)
{
	EXPECT_OUT("true", bs_jw_bool(w, true));
	EXPECT_OUT("false", bs_jw_bool(w, false));
	EXPECT_OUT(",\"fd\":3", (JW_LIT(w, ",\"fd\":"), bs_jw_u64(w, 3)));
	EXPECT_OUT("a\0b", bs_jw_raw(w, "a\0b", 3));
	EXPECT_OUT("", bs_jw_raw(w, "", 0));
}

Test(json_writer, plain_strings)
{
	EXPECT_STR("", "");
	EXPECT_OUT("\"\"", bs_jw_string(w, NULL, 0));
	EXPECT_STR("hello, world", "hello, world");
	EXPECT_STR(" ~/{}[]:'", " ~/{}[]:'");
}

/* Each special byte, and the plain bytes next to them, at every offset of a string
 * long enough to be scanned in 8-byte words. */
Test(json_writer, special_byte_at_every_offset)
{
	static const struct {
		unsigned char c;
		const char *out;
	} cases[] = {
		{ 0x00, "\\u0000" }, { 0x1f, "\\u001f" }, { 0x0a, "\\n" },
		{ '"', "\\\"" },     { '\\', "\\\\" },    { 0x7f, "\\u007f" },
		{ 0x80, R },         { 0xff, R },          { 0xc3, R },
		{ 0x20, " " },       { 0x21, "!" },        { 0x23, "#" },
		{ 0x5b, "[" },       { 0x5d, "]" },        { 0x7e, "~" },
	};
	const char text[] = "abcdefghijklmnopqrstuvw";

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		for (size_t at = 0; at < sizeof(text) - 1; at++) {
			char in[sizeof(text)], want[64], buf[64];
			struct json_writer w;
			int wantn;

			memcpy(in, text, sizeof(text));
			in[at] = (char)cases[k].c;
			wantn = sprintf(want, "\"%.*s%s%s\"", (int)at, text, cases[k].out,
					text + at + 1);
			bs_jw_init(&w, buf, sizeof(buf));
			bs_jw_string(&w, in, sizeof(text) - 1);
			expect_bytes(buf, w.len, want, (size_t)wantn);
		}
	}
}

Test(json_writer, quotes_and_backslashes)
{
	EXPECT_STR("\"", "\\\"");
	EXPECT_STR("\\", "\\\\");
	EXPECT_STR("a\"b\\c\\\"", "a\\\"b\\\\c\\\\\\\"");
}

Test(json_writer, short_escapes)
{
	EXPECT_STR("\n\r\t\b\f", "\\n\\r\\t\\b\\f");
	EXPECT_STR("a\nb", "a\\nb");
}

Test(json_writer, every_control_byte)
{
	for (unsigned c = 0; c < 0x80; c++) {
		const char *shortform = NULL;
		char in = (char)c, want[16], buf[16];
		struct json_writer w;

		if (c >= 0x20 && c != 0x7f)
			continue;
		switch (c) {
		case '\n': shortform = "n"; break;
		case '\r': shortform = "r"; break;
		case '\t': shortform = "t"; break;
		case '\b': shortform = "b"; break;
		case '\f': shortform = "f"; break;
		}
		if (shortform)
			sprintf(want, "\"\\%s\"", shortform);
		else
			sprintf(want, "\"\\u%04x\"", c);
		bs_jw_init(&w, buf, sizeof(buf));
		bs_jw_string(&w, &in, 1);
		expect_bytes(buf, w.len, want, strlen(want));
	}
	EXPECT_STR("\x01", "\\u0001");
	EXPECT_STR("\x1f", "\\u001f");
	EXPECT_STR("\x7f", "\\u007f");
	EXPECT_STR("\x1b[0m", "\\u001b[0m");
	EXPECT_STR("a\0b", "a\\u0000b");
	EXPECT_STR("\0\0", "\\u0000\\u0000");
}

Test(json_writer, valid_utf8_unchanged)
{
	EXPECT_STR("\xc2\x80", "\xc2\x80");                 /* U+0080 */
	EXPECT_STR("caf\xc3\xa9", "caf\xc3\xa9");           /* é */
	EXPECT_STR("\xdf\xbf", "\xdf\xbf");                 /* U+07FF */
	EXPECT_STR("\xe0\xa0\x80", "\xe0\xa0\x80");         /* U+0800 */
	EXPECT_STR("\xe2\x82\xac", "\xe2\x82\xac");         /* € */
	EXPECT_STR("\xed\x9f\xbf", "\xed\x9f\xbf");         /* U+D7FF */
	EXPECT_STR("\xee\x80\x80", "\xee\x80\x80");         /* U+E000 */
	EXPECT_STR("\xef\xbf\xbf", "\xef\xbf\xbf");         /* U+FFFF */
	EXPECT_STR("\xf0\x90\x80\x80", "\xf0\x90\x80\x80"); /* U+10000 */
	EXPECT_STR("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"); /* 😀 */
	EXPECT_STR("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	EXPECT_STR("\xe6\x97\xa5\"\n", "\xe6\x97\xa5\\\"\\n");
}

Test(json_writer, truncated_sequences)
{
	EXPECT_STR("\xe2\x82" "A", R "A");
	EXPECT_STR("\xe2\x82", R);
	EXPECT_STR("\xc3", R);
	EXPECT_STR("x\xc3", "x" R);
	EXPECT_STR("\xf0\x9f\x98", R);
	EXPECT_STR("\xf0\x9f\x98" "A", R "A");
	EXPECT_STR("\xf0\x9f" "\xf0\x9f\x98\x80", R "\xf0\x9f\x98\x80");
	/* The byte after the invalid part is never swallowed, even when it is special. */
	EXPECT_STR("\xc3\"", R "\\\"");
	EXPECT_STR("\xe2\n", R "\\n");
	EXPECT_STR("\xe2\x82\\", R "\\\\");
	EXPECT_STR("\xf0\x9f\x98\0", R "\\u0000");
	EXPECT_STR("\xc3\xc3\xa9", R "\xc3\xa9");
}

Test(json_writer, lone_continuation_bytes)
{
	EXPECT_STR("\x80", R);
	EXPECT_STR("\xbf", R);
	EXPECT_STR("a\x80" "b", "a" R "b");
	EXPECT_STR("\x80\x80", R R);
	EXPECT_STR("\xc3\xa9\xa9", "\xc3\xa9" R);
}

Test(json_writer, overlong_forms)
{
	EXPECT_STR("\xc0\x80", R R);
	EXPECT_STR("\xc0\xaf", R R);
	EXPECT_STR("\xc1\xbf", R R);
	EXPECT_STR("\xe0\x80\x80", R R R);
	EXPECT_STR("\xe0\x9f\xbf", R R R);
	EXPECT_STR("\xf0\x80\x80\x80", R R R R);
	EXPECT_STR("\xf0\x8f\xbf\xbf", R R R R);
}

Test(json_writer, surrogates)
{
	EXPECT_STR("\xed\xa0\x80", R R R);   /* U+D800 */
	EXPECT_STR("\xed\xbf\xbf", R R R);   /* U+DFFF */
	EXPECT_STR("\xed\xa0\xbd\xed\xb8\x80", R R R R R R); /* CESU-8 pair */
}

Test(json_writer, above_max_code_point)
{
	EXPECT_STR("\xf4\x90\x80\x80", R R R R);
	EXPECT_STR("\xf5\x80\x80\x80", R R R R);
	EXPECT_STR("\xf7\xbf\xbf\xbf", R R R R);
	EXPECT_STR("\xf8\x88\x80\x80\x80", R R R R R);
	EXPECT_STR("\xfe", R);
	EXPECT_STR("\xff" "A", R "A");
}

/* The examples of Unicode 15, chapter 3, tables 3-8 to 3-11. */
Test(json_writer, unicode_standard_examples)
{
	EXPECT_STR("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
		   "a" R R R "b" R "c" R R "d");
	EXPECT_STR("\xc0\xaf\xe0\x80\xbf\xf0\x81\x82\x41", R R R R R R R R "A");
	EXPECT_STR("\xed\xa0\x80\xed\xbf\xbf\xed\xaf\x41", R R R R R R R R "A");
	EXPECT_STR("\xf4\x91\x92\x93\xff\x41\x80\xbf\x42", R R R R R "A" R R "B");
	EXPECT_STR("\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41", R R R R "A");
}

Test(json_writer, string_lists)
{
	EXPECT_OUT("[]", bs_jw_string_list(w, "", 0));
	EXPECT_OUT("[]", bs_jw_string_list(w, NULL, 0));
	EXPECT_LIST("\0", "[\"\"]");
	EXPECT_LIST("a\0", "[\"a\"]");
	EXPECT_LIST("ls\0-l\0/tmp\0", "[\"ls\",\"-l\",\"/tmp\"]");
	EXPECT_LIST("ls\0-l\0/tm", "[\"ls\",\"-l\",\"/tm\"]");   /* cut short */
	EXPECT_LIST("a", "[\"a\"]");
	EXPECT_LIST("a\0\0b\0", "[\"a\",\"\",\"b\"]");
	EXPECT_LIST("a\0\0", "[\"a\",\"\"]");
	EXPECT_LIST("\0\0", "[\"\",\"\"]");
	EXPECT_LIST("x\"\0\n\0", "[\"x\\\"\",\"\\n\"]");
	/* A sequence cut by the separator is invalid on its own. */
	EXPECT_LIST("\xe2\x82\0\xac\0", "[\"" R "\",\"" R "\"]");
}

/* One of everything, so that truncation is tried inside every kind of output. */
static void emit_mixed(struct json_writer *w)
{
	static const char path[] =
		"/tmp/a\"b\\\n\x01\xc3\xa9\xe2\x82" "A\xf0\x9f\x98\x80\xff";
	static const char argv[] = "sh\0-c\0\0echo \"\xe2\x82\xac\"\0";

	JW_LIT(w, "{\"pid\":");
	bs_jw_u64(w, 123456789);
	JW_LIT(w, ",\"ret\":");
	bs_jw_s64(w, INT64_MIN);
	JW_LIT(w, ",\"ok\":");
	bs_jw_bool(w, false);
	JW_LIT(w, ",\"path\":");
	bs_jw_string(w, path, sizeof(path) - 1);
	JW_LIT(w, ",\"argv\":");
	bs_jw_string_list(w, argv, sizeof(argv) - 1);
	JW_LIT(w, "}");
}

#define EMIT_MIXED_OUT                                                         \
	"{\"pid\":123456789,\"ret\":-9223372036854775808,\"ok\":false,"            \
	"\"path\":\"/tmp/a\\\"b\\\\\\n\\u0001\xc3\xa9" R "A\xf0\x9f\x98\x80" R "\","  \
	"\"argv\":[\"sh\",\"-c\",\"\",\"echo \\\"\xe2\x82\xac\\\"\"]}"

Test(json_writer, truncation_keeps_prefix_and_exact_length)
{
	char full[512];
	struct json_writer w;
	size_t fulln;

	bs_jw_init(&w, full, sizeof(full));
	emit_mixed(&w);
	fulln = bs_jw_finish(&w);
	expect_bytes(full, fulln, EMIT_MIXED_OUT, sizeof(EMIT_MIXED_OUT) - 1);

	for (size_t cap = 0; cap <= fulln + 2; cap++) {
		unsigned char buf[600];
		size_t n;

		memset(buf, 0xa5, sizeof(buf));
		bs_jw_init(&w, (char *)buf, cap);
		emit_mixed(&w);
		n = bs_jw_finish(&w);
		cr_assert_eq(n, fulln, "cap %zu: len %zu, want %zu", cap, n, fulln);
		cr_assert_eq(w.len, fulln);
		cr_assert(memcmp(buf, full, cap < fulln ? cap : fulln) == 0,
			  "cap %zu: output is not a prefix of the full output", cap);
		/* A NUL only when there is room after the output; nothing past cap. */
		size_t from = cap;
		if (fulln < cap) {
			cr_assert_eq(buf[fulln], 0, "cap %zu: no NUL at %zu", cap, fulln);
			from = fulln + 1;
		}
		for (size_t i = from; i < sizeof(buf); i++)
			cr_assert_eq(buf[i], 0xa5, "cap %zu: byte %zu overwritten", cap, i);
	}
}

Test(json_writer, measuring_writer)
{
	struct json_writer w;
	char full[512];
	size_t fulln;

	bs_jw_init(&w, full, sizeof(full));
	emit_mixed(&w);
	fulln = bs_jw_finish(&w);

	bs_jw_init(&w, NULL, 0);
	emit_mixed(&w);
	cr_assert_eq(bs_jw_finish(&w), fulln);
}

Test(json_writer, finish_places_nul)
{
	char buf[8];
	struct json_writer w;

	memset(buf, 'x', sizeof(buf));
	bs_jw_init(&w, buf, sizeof(buf));
	JW_LIT(&w, "abc");
	cr_assert_eq(bs_jw_finish(&w), 3);
	cr_assert(memcmp(buf, "abc\0xxxx", 8) == 0);

	/* Exact fit: no room for the NUL, so none is written. */
	memset(buf, 'x', sizeof(buf));
	bs_jw_init(&w, buf, 4);
	JW_LIT(&w, "abcd");
	cr_assert_eq(bs_jw_finish(&w), 4);
	cr_assert(memcmp(buf, "abcdxxxx", 8) == 0);

	/* Writing may go on after a finish: it overwrites the NUL. */
	bs_jw_init(&w, buf, sizeof(buf));
	JW_LIT(&w, "ab");
	bs_jw_finish(&w);
	JW_LIT(&w, "cd");
	cr_assert_eq(bs_jw_finish(&w), 4);
	cr_assert_str_eq(buf, "abcd");
}

/* ---- validity sweep ---- */

/* Strictly well-formed UTF-8 (RFC 3629): no overlongs, surrogates or > U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp, min;
		size_t len;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Checks the JSON string token at s[*pos] and decodes it into out (the writer only
 * emits \u escapes below 0x80, so anything else fails). Advances *pos past it. */
static bool parse_string(const unsigned char *s, size_t n, size_t *pos,
			 unsigned char *out, size_t *outn)
{
	size_t i = *pos, o = 0, start;

	if (i >= n || s[i++] != '"')
		return false;
	start = i;
	while (i < n && s[i] != '"') {
		unsigned char c = s[i++];

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (i >= n)
			return false;
		switch (s[i++]) {
		case '"':  out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case 'n':  out[o++] = '\n'; break;
		case 'r':  out[o++] = '\r'; break;
		case 't':  out[o++] = '\t'; break;
		case 'b':  out[o++] = '\b'; break;
		case 'f':  out[o++] = '\f'; break;
		case 'u': {
			int h[4];

			if (n - i < 4)
				return false;
			for (int k = 0; k < 4; k++)
				if ((h[k] = hexval(s[i + k])) < 0)
					return false;
			if (h[0] || h[1] || h[2] > 7)
				return false;
			out[o++] = (unsigned char)(h[2] << 4 | h[3]);
			i += 4;
			break;
		}
		default:
			return false;
		}
	}
	if (i >= n || !utf8_valid(s + start, i - start))
		return false;
	*pos = i + 1;
	*outn = o;
	return true;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Bytes chosen to land on every boundary of the UTF-8 and escape rules. */
static const unsigned char edge_bytes[] = {
	0x00, 0x08, 0x0a, 0x1f, 0x20, 0x22, 0x41, 0x5c, 0x7e, 0x7f, 0x80, 0x8f, 0x90,
	0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
};

static void random_bytes(unsigned char *s, size_t n, int mode)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t r = rng();

		if (mode == 0)
			s[i] = (unsigned char)r;
		else if (mode == 1)
			s[i] = edge_bytes[r % sizeof(edge_bytes)];
		else    /* mostly text, sometimes something else */
			s[i] = r % 8 ? (unsigned char)(0x20 + (r >> 8) % 95)
				     : edge_bytes[(r >> 8) % sizeof(edge_bytes)];
	}
}

/* Writes s as a string (truncated writer too) and checks the result is valid JSON
 * that decodes back to s whenever s was valid UTF-8. */
static void check_any_string(const unsigned char *s, size_t n)
{
	unsigned char out[2048], dec[2048], small[64];
	struct json_writer w;
	size_t len, pos = 0, decn;

	bs_jw_init(&w, (char *)out, sizeof(out));
	bs_jw_string(&w, s, n);
	len = bs_jw_finish(&w);
	cr_assert(len < sizeof(out));
	cr_assert(parse_string(out, len, &pos, dec, &decn) && pos == len,
		  "invalid JSON for input %s: %s", show((const char *)s, n),
		  show((const char *)out, len));
	if (utf8_valid(s, n))
		cr_assert(decn == n && memcmp(dec, s, n) == 0,
			  "valid UTF-8 %s altered", show((const char *)s, n));

	bs_jw_init(&w, (char *)small, sizeof(small));
	bs_jw_string(&w, s, n);
	cr_assert_eq(w.len, len);
	cr_assert(memcmp(small, out, len < sizeof(small) ? len : sizeof(small)) == 0);
}

static void check_any_list(const unsigned char *s, size_t n)
{
	unsigned char out[4096], dec[2048];
	struct json_writer w;
	size_t len, pos = 1, decn, items = 0, nuls = 0;

	bs_jw_init(&w, (char *)out, sizeof(out));
	bs_jw_string_list(&w, s, n);
	len = bs_jw_finish(&w);
	cr_assert(len < sizeof(out) && len >= 2 && out[0] == '[' && out[len - 1] == ']');
	while (pos < len - 1) {
		if (items)
			cr_assert(out[pos++] == ',', "list items not comma-separated: %s",
				  show((const char *)out, len));
		cr_assert(parse_string(out, len, &pos, dec, &decn),
			  "invalid list %s", show((const char *)out, len));
		items++;
	}
	for (size_t i = 0; i < n; i++)
		nuls += s[i] == 0;
	/* One item per NUL-terminated string, plus a last unterminated one. */
	cr_assert_eq(items, nuls + (n && s[n - 1] != 0));
}

Test(json_writer, all_single_bytes_give_valid_json)
{
	for (unsigned c = 0; c < 256; c++) {
		unsigned char s[3] = { 'a', (unsigned char)c, 'b' };

		check_any_string(s + 1, 1);
		check_any_string(s, 3);
		check_any_list(s + 1, 1);
	}
}

Test(json_writer, random_bytes_give_valid_json)
{
	unsigned char s[256];

	for (int iter = 0; iter < 6000; iter++) {
		size_t n = rng() % (iter < 3000 ? 16 : sizeof(s));

		random_bytes(s, n, iter % 3);
		check_any_string(s, n);
		check_any_list(s, n);
	}
}
