/* minidebug.c: MiniDebugInfo, the section .gnu_debugdata of a stripped file: an xz
 * stream of an ELF file whose .symtab names the functions .dynsym lacks (its static
 * ones), as Fedora and others ship their programs and libraries.
 *
 * The stream is the file author's: it may decompress to any size, or need any amount
 * of memory to decode. It is read from the file a chunk at a time and decompressed
 * here with liblzma, the decoder limited to BS_MINIDEBUG_DECODER_MEM, its output to
 * BS_MINIDEBUG_MAX_OUT, all of it within the file's reading deadline; a stream past
 * any of them is given up, never read further. libdwfl never sees the stream (symfile.c
 * leaves the section's bytes zero), so it cannot decompress it without these limits.
 * Only the names of the functions are kept, not the decompressed file.
 */
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "minidebug.h"

#define IN_CHUNK (64u << 10)
#define FIRST_OUT (1u << 20)
/* The longest name kept, and how many symbols are looked at between two looks at the clock. */
#define NAME_MAX_BYTES 4096
#define DEADLINE_EVERY 4096

static bool past(uint64_t deadline_ns)
{
	return bs_clock_ns(CLOCK_MONOTONIC) > deadline_ns;
}

/* The section .gnu_debugdata, or NULL when there is none or the file has a .symtab
 * (which names every function already). */
static Elf_Scn *debugdata_section(Elf *elf, GElf_Shdr *found)
{
	Elf_Scn *scn = NULL, *debugdata = NULL;
	size_t names;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &names))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			return NULL;
		name = elf_strptr(elf, names, sh.sh_name);
		if (sh.sh_type == SHT_PROGBITS && name && strcmp(name, ".gnu_debugdata") == 0) {
			debugdata = scn;
			*found = sh;
		}
	}
	return debugdata;
}

/* The xz stream of bytes [off, off + len) of fd into *out (malloc'd), *out_len bytes. */
static int decompress(int fd, uint64_t off, uint64_t len, uint64_t deadline_ns, char **out, size_t *out_len)
{
	lzma_stream strm = LZMA_STREAM_INIT;
	uint8_t *in = malloc(IN_CHUNK), *buf = NULL;
	size_t cap = 0;
	lzma_ret ret = LZMA_OK;
	int err = 0;

	if (!in || lzma_stream_decoder(&strm, BS_MINIDEBUG_DECODER_MEM, 0) != LZMA_OK) {
		free(in);
		return -ENOMEM;
	}
	while (!err && ret != LZMA_STREAM_END) {
		if (strm.avail_in == 0 && len) {
			ssize_t n = pread(fd, in, len < IN_CHUNK ? len : IN_CHUNK, (off_t)off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) { /* truncated meanwhile: the stream ends early */
				err = n < 0 ? -errno : -EBADMSG;
				break;
			}
			strm.next_in = in;
			strm.avail_in = (size_t)n;
			off += (uint64_t)n;
			len -= (uint64_t)n;
		}
		if (strm.avail_out == 0) {
			size_t grown = cap ? 2 * cap : FIRST_OUT;
			uint8_t *p;

			if (cap == BS_MINIDEBUG_MAX_OUT) {
				err = -EFBIG;
				break;
			}
			if (grown > BS_MINIDEBUG_MAX_OUT)
				grown = BS_MINIDEBUG_MAX_OUT;
			if (!(p = realloc(buf, grown))) {
				err = -ENOMEM;
				break;
			}
			buf = p;
			strm.next_out = buf + cap;
			strm.avail_out = grown - cap;
			cap = grown;
		}
		ret = lzma_code(&strm, len ? LZMA_RUN : LZMA_FINISH);
		if (ret == LZMA_MEMLIMIT_ERROR || ret == LZMA_MEM_ERROR)
			err = -ENOMEM;
		else if (ret != LZMA_OK && ret != LZMA_STREAM_END)
			err = -EBADMSG;  /* not xz, corrupt, or cut short (LZMA_BUF_ERROR) */
		else if (past(deadline_ns))
			err = -ETIMEDOUT;
	}
	*out_len = cap - strm.avail_out;
	lzma_end(&strm);
	free(in);
	if (err)
		free(buf);
	else
		*out = (char *)buf;
	return err;
}

static bool is_function(const GElf_Sym *sym)
{
	int type = GELF_ST_TYPE(sym->st_info);

	return (type == STT_FUNC || type == STT_GNU_IFUNC) && sym->st_shndx != SHN_UNDEF;
}

/* The defined functions of the decompressed file's .symtab, names copied out: a first
 * pass sizes what the second fills. Its names may overlap (one long string every
 * symbol points into): a name is at most NAME_MAX_BYTES (longer ones are left out) and
 * all of them at most BS_MINIDEBUG_MAX_OUT, within the deadline. */
static int collect(struct bs_minidebug *md, Elf *elf, uint64_t deadline_ns)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *data = NULL;
	size_t n_syms, n_funcs = 0, name_bytes = 0, used = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			break;
	}
	if (!scn || !(data = elf_getdata(scn, NULL)))
		return -EBADMSG;
	n_syms = data->d_size / gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 1; i < n_syms; i++) {
			GElf_Sym sym;
			const char *name;
			size_t len;

			if (i % DEADLINE_EVERY == 0 && past(deadline_ns))
				return -ETIMEDOUT;
			if (!gelf_getsym(data, (int)i, &sym) || !is_function(&sym) ||
			    !(name = elf_strptr(elf, sh.sh_link, sym.st_name)) ||
			    (len = strnlen(name, NAME_MAX_BYTES) + 1) == 1 || len > NAME_MAX_BYTES)
				continue;
			if (pass == 0) {
				n_funcs++;
				if ((name_bytes += len) > BS_MINIDEBUG_MAX_OUT)
					return -EFBIG;
				continue;
			}
			memcpy(md->names + used, name, len);
			md->funcs[md->n_funcs++] = (struct bs_func){ sym.st_value, sym.st_size, md->names + used,
								     GELF_ST_BIND(sym.st_info) == STB_LOCAL };
			used += len;
		}
		if (pass == 0 && n_funcs) {
			md->funcs = calloc(n_funcs, sizeof(*md->funcs));
			md->names = malloc(name_bytes);
			if (!md->funcs || !md->names)
				return -ENOMEM;
			md->held = n_funcs * sizeof(*md->funcs) + name_bytes;
		} else if (pass == 0) {
			break;
		}
	}
	return 0;
}

int bs_minidebug_read(struct bs_minidebug *md, Elf *elf, int fd, uint64_t deadline_ns)
{
	GElf_Shdr sh;
	char *image = NULL;
	size_t size = 0;
	Elf *mini;
	int err;

	memset(md, 0, sizeof(*md));
	if (!debugdata_section(elf, &sh))
		return 0;
	if ((err = decompress(fd, sh.sh_offset, sh.sh_size, deadline_ns, &image, &size)))
		return err;
	mini = elf_memory(image, size);
	err = mini && elf_kind(mini) == ELF_K_ELF ? collect(md, mini, deadline_ns) : -EBADMSG;
	elf_end(mini);
	free(image);
	if (err)
		bs_minidebug_free(md);
	return err;
}

void bs_minidebug_free(struct bs_minidebug *md)
{
	free(md->funcs);
	free(md->names);
	memset(md, 0, sizeof(*md));
}
