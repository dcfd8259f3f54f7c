/* kallsyms.c: see kallsyms.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kallsyms.h"

/* Address, type, a name of up to KSYM_NAME_LEN (512) and a module's name. */
#define LINE_MAX_BYTES 1024

/* Parses line (without its newline) into sym; false when it is not "ADDR T NAME". */
static bool parse_line(char *line, const char *types, struct bs_ksym *sym)
{
	char *end, *tab;

	sym->addr = strtoull(line, &end, 16);
	if (end == line || end[0] != ' ' || !end[1] || !strchr(types, end[1]) || end[2] != ' ' || !end[3])
		return false;
	sym->type = end[1];
	sym->name = end + 3;
	sym->module = NULL;
	if ((tab = strchr(end + 3, '\t'))) {
		*tab = '\0';
		sym->module = tab + 1;
	}
	return true;
}

int bs_kallsyms_each(const char *path, const char *types, int (*fn)(void *ctx, const struct bs_ksym *sym),
		     void *ctx)
{
	char line[LINE_MAX_BYTES];
	bool partial = false;  /* the buffer holds the rest of a line too long for it */
	int ret = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		bool whole = (len && line[len - 1] == '\n') || feof(f);
		struct bs_ksym sym;

		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (!partial && whole && parse_line(line, types, &sym))
			ret = fn(ctx, &sym);
		partial = !whole;
	}
	fclose(f);
	return ret;
}
