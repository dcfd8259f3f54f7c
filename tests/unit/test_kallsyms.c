/* test_kallsyms.c: bs_kallsyms_each() passes the symbols of the asked types with their
 * module, and passes over a line too long for its buffer whole: its tail, which may
 * read like a line of its own, is no symbol. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kallsyms.h"

struct seen {
	char text[1024];
	size_t len;
	int stop_at;  /* return non-zero at this symbol (1-based), 0: never */
	int n;
};

static int record(void *ctx, const struct bs_ksym *sym)
{
	struct seen *s = ctx;

	s->len += snprintf(s->text + s->len, sizeof(s->text) - s->len, "%llx %c %s %s;", (unsigned long long)sym->addr,
			   sym->type, sym->name, sym->module ? sym->module : "-");
	return ++s->n == s->stop_at ? 7 : 0;
}

static char path[] = "/tmp/bs-kallsyms-XXXXXX";

static void write_fixture(void)
{
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	static const char tail[] = "ffffffff81000010 T forged_tail";
	char name[1100];

	cr_assert_not_null(f);
	/* Past the line's first 1023 bytes (the reader's buffer, with its NUL) comes what
	 * reads as a line by itself. */
	memset(name, 'a', sizeof(name));
	memcpy(name + 1023 - strlen("ffffffff81000200 t "), tail, sizeof(tail));
	fprintf(f, "ffffffff81000000 T _stext\n"
		   "ffffffff81000100 D some_data\n"
		   "ffffffff81000200 t %s\n"
		   "0000000000000000 t hidden_address\n"
		   "ffffffffc0000000 t ext4_fill_super\t[ext4]\n"
		   "ffffffff81000300 W weak_one\n"
		   "ffffffff81000400 T no_newline_at_end", name);
	fclose(f);
}

Test(kallsyms, types_modules_and_long_lines)
{
	struct seen s = { 0 };

	write_fixture();
	cr_assert_eq(bs_kallsyms_each(path, "tT", record, &s), 0);
	unlink(path);
	cr_assert_str_eq(s.text, "ffffffff81000000 T _stext -;0 t hidden_address -;ffffffffc0000000 t ext4_fill_super [ext4];"
			 "ffffffff81000400 T no_newline_at_end -;");
}

Test(kallsyms, stops_when_asked)
{
	struct seen s = { .stop_at = 2 };

	write_fixture();
	cr_assert_eq(bs_kallsyms_each(path, "tTwW", record, &s), 7);
	unlink(path);
	cr_assert_eq(s.n, 2);
}

Test(kallsyms, missing_file)
{
	struct seen s = { 0 };

	cr_assert_eq(bs_kallsyms_each("/nonexistent/kallsyms", "tT", record, &s), -ENOENT);
	cr_assert_eq(s.n, 0);
}
