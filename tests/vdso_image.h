/* vdso_image.h: the test's own vDSO, the image every process of its architecture maps
 * here: its function symbols, read with libelf from its .dynsym, for the tests that
 * check what the symbolizer names in a [vdso]. Include after criterion.h. */
#ifndef TESTS_VDSO_IMAGE_H
#define TESTS_VDSO_IMAGE_H

#include <gelf.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/auxv.h>

/* The first function symbol of the vDSO for which match(name, symbol, arg) is true;
 * false when none is. */
static inline bool vdso_find_function(bool (*match)(const char *, const GElf_Sym *, void *), void *arg)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR), start, end = 0;
	Elf_Scn *scn = NULL;
	bool found = false;
	char line[256];
	GElf_Shdr sh;
	FILE *maps;
	Elf *elf;

	cr_assert_not_null(maps = fopen("/proc/self/maps", "re"));
	while (!end && fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) != 2 || start != base)
			end = 0;
	}
	fclose(maps);
	cr_assert(base && end, "the vDSO is mapped");
	elf_version(EV_CURRENT);
	cr_assert_not_null(elf = elf_memory((char *)(uintptr_t)base, end - base));
	while ((scn = elf_nextscn(elf, scn)) && !found) {
		Elf_Data *data = elf_getdata(scn, NULL);

		cr_assert_not_null(gelf_getshdr(scn, &sh));
		for (size_t i = 0; sh.sh_type == SHT_DYNSYM && i < sh.sh_size / sh.sh_entsize && !found; i++) {
			GElf_Sym sym;

			cr_assert_not_null(gelf_getsym(data, (int)i, &sym));
			found = GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
				match(elf_strptr(elf, sh.sh_link, sym.st_name), &sym, arg);
		}
	}
	elf_end(elf);
	return found;
}

#endif
