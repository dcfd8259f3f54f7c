/* stack_folded.c: an event's stacks as one line of folded stacks, the input of
 * flamegraph.pl, inferno and speedscope: "comm;outermost;...;innermost", the user stack
 * then the kernel one (a kernel stack continues the user one, from the syscall in), each
 * frame the function's name alone (offsets would split one function into as many frames
 * as it has instructions), a kernel frame with the usual "_[k]" suffix, a frame without
 * a name as "[module]" or "[unknown]", a lost stack as "[lost]". The one writer of this
 * format, so that every embedder's flame graph reads alike. */
#include <string.h>

#include "symbolize.h"

#define CHUNK 128

/* snprintf's contract for a line built in pieces: len counts every byte, buf holds what fits. */
struct line {
	char *buf;
	size_t cap, len;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->len < l->cap)
		memcpy(l->buf + l->len, s, l->len + n < l->cap ? n : l->cap - l->len);
	l->len += n;
}

/* A name as one frame: ';' separates frames and the count follows the last blank. */
static void put_name(struct line *l, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		put(l, c == ';' || c <= ' ' || c == 0x7f ? "_" : &s[i], 1);
	}
}

static void put_frame(struct line *l, const struct bootstrap_symbol *sym, bool kernel)
{
	put(l, ";", 1);
	if (sym->name) {
		put_name(l, sym->name, strlen(sym->name));
	} else if (sym->module) {
		put(l, "[", 1);
		put_name(l, sym->module, strlen(sym->module));
		put(l, "]", 1);
	} else {
		put(l, "[unknown]", 9);
	}
	if (kernel)
		put(l, "_[k]", 4);
}

/* One stack field, outermost frame first: resolved in chunks from its outer end. */
static void put_stack(struct line *l, const struct bootstrap_event *ev, const struct bootstrap_field_value *v,
		      bool kernel)
{
	struct bootstrap_symbol syms[CHUNK];
	uint64_t addrs[CHUNK];
	size_t end;

	if (v->lost || !v->data) {
		put(l, ";[lost]", 7);
		return;
	}
	for (end = v->len / sizeof(uint64_t); end;) {
		size_t n = end < CHUNK ? end : CHUNK, first = end - n;

		memcpy(addrs, v->data + first * sizeof(uint64_t), n * sizeof(uint64_t));
		memset(syms, 0, n * sizeof(*syms));
		if (ev->symbolizer)
			bs_symbolize(ev->symbolizer, kernel ? 0 : (pid_t)ev->hdr->pid, ev->hdr->upid, addrs, n, first, syms);
		while (n--)
			put_frame(l, &syms[n], kernel);
		end = first;
	}
}

size_t bootstrap_event_folded(const struct bootstrap_event *ev, char *buf, size_t cap)
{
	const struct bootstrap_event_info *info = ev->info;
	struct line l = { .buf = buf, .cap = cap };
	bool any = false;

	for (uint32_t i = 0; i < info->n_fields && !any; i++)
		any = info->fields[i].type == BOOTSTRAP_T_STACK;
	if (!any) {
		if (cap)
			buf[0] = '\0';
		return 0;
	}
	put_name(&l, ev->hdr->comm, strnlen(ev->hdr->comm, sizeof(ev->hdr->comm)));
	for (int kernel = 0; kernel < 2; kernel++) {
		for (uint32_t i = 0; i < info->n_fields; i++) {
			const struct bootstrap_field_info *fi = &info->fields[i];

			if (fi->type == BOOTSTRAP_T_STACK && fi->kernel_stack == kernel)
				put_stack(&l, ev, &ev->vars[fi->var_index], kernel);
		}
	}
	if (l.len < cap)
		buf[l.len] = '\0';
	return l.len;
}
