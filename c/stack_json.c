/* stack_json.c: a stack field in an NDJSON line: an array of frames, innermost first,
 * each named by the event's symbolizer ("symbol+0xOFF (module)") or, without a name,
 * an address ("0xADDR (module+0xOFFSET_IN_ITS_FILE)", "0xADDR"). */
#include <stdlib.h>
#include <string.h>

#include "event_json.h"
#include "symbolize.h"

#define CHUNK 128

static void frame(struct json_writer *w, const struct bootstrap_symbol *sym, uint64_t addr)
{
	char text[512], *big;
	size_t n = bootstrap_frame_format(sym, addr, text, sizeof(text));

	if (n < sizeof(text)) {
		bs_jw_string(w, text, n);
	} else if ((big = malloc(n + 1))) {
		bootstrap_frame_format(sym, addr, big, n + 1);
		bs_jw_string(w, big, n);
		free(big);
	} else {
		bs_jw_string(w, text, sizeof(text) - 1);
	}
}

void bs_json_stack(struct json_writer *w, const struct bootstrap_event *ev, const struct bootstrap_field_value *v,
		   bool kernel)
{
	struct bootstrap_symbol syms[CHUNK];
	uint64_t addrs[CHUNK];
	size_t n_frames, done;

	if (v->lost || !v->data) {
		JW_LIT(w, "null");
		return;
	}
	n_frames = v->len / sizeof(uint64_t);
	JW_LIT(w, "[");
	for (done = 0; done < n_frames;) {
		size_t n = n_frames - done < CHUNK ? n_frames - done : CHUNK;

		memcpy(addrs, v->data + done * sizeof(uint64_t), n * sizeof(uint64_t));
		memset(syms, 0, n * sizeof(*syms));
		if (ev->symbolizer)
			bs_symbolize(ev->symbolizer, kernel ? 0 : (pid_t)ev->hdr->pid, ev->hdr->upid, addrs, n, done, syms);
		for (size_t i = 0; i < n; i++) {
			if (done + i)
				JW_LIT(w, ",");
			frame(w, &syms[i], addrs[i]);
		}
		done += n;
	}
	JW_LIT(w, "]");
}
