/* event_json.c: bootstrap_event_json(): one NDJSON line per event, keys in the order of
 * the output contract; the payload object comes from the event's generated serializer. */
#include <string.h>

#include "event_json.h"

void bs_json_var(struct json_writer *w, const struct bootstrap_field_value *v, enum bootstrap_type type)
{
	if (v->lost || !v->data)
		JW_LIT(w, "null");
	else if (type == BOOTSTRAP_T_BYTES)
		jw_string(w, v->data, v->len);
	else
		jw_string_list(w, v->data, v->len);
}

/* ,"truncated":["a","b"] or ,"lost":[...] when any variable field has that flag. */
static void flag_list(struct json_writer *w, const struct bootstrap_event *ev, bool lost)
{
	const struct bootstrap_event_info *info = ev->info;
	bool first = true;

	for (uint32_t i = 0; i < info->n_fields; i++) {
		const struct bootstrap_field_info *f = &info->fields[i];
		const struct bootstrap_field_value *v;

		if (f->var_index < 0)
			continue;
		v = &ev->vars[f->var_index];
		if (!(lost ? v->lost : v->truncated))
			continue;
		if (first)
			lost ? JW_LIT(w, ",\"lost\":[\"") : JW_LIT(w, ",\"truncated\":[\"");
		else
			JW_LIT(w, ",\"");
		jw_raw(w, f->name, strlen(f->name));
		JW_LIT(w, "\"");
		first = false;
	}
	if (!first)
		JW_LIT(w, "]");
}

size_t bootstrap_event_json(const struct bootstrap_event *ev, char *buf, size_t cap)
{
	const struct bootstrap_header *h = ev->hdr;
	struct json_writer w;

	jw_init(&w, buf, cap);
	JW_LIT(&w, "{\"event_id\":");
	jw_u64(&w, h->event_id);
	JW_LIT(&w, ",\"event_type\":\"");
	jw_raw(&w, ev->info->type_name, strlen(ev->info->type_name));
	JW_LIT(&w, "\",\"timestamp_ns\":");
	jw_u64(&w, h->timestamp_ns);
	JW_LIT(&w, ",\"pid\":");
	jw_u64(&w, h->pid);
	JW_LIT(&w, ",\"tid\":");
	jw_u64(&w, h->tid);
	JW_LIT(&w, ",\"ppid\":");
	jw_u64(&w, h->ppid);
	JW_LIT(&w, ",\"upid\":");
	jw_u64(&w, h->upid);
	JW_LIT(&w, ",\"uppid\":");
	jw_u64(&w, h->uppid);
	JW_LIT(&w, ",\"uid\":");
	jw_u64(&w, h->uid);
	JW_LIT(&w, ",\"cgroup_id\":");
	jw_u64(&w, h->cgroup_id);
	JW_LIT(&w, ",\"comm\":");
	jw_string(&w, h->comm, strnlen(h->comm, sizeof(h->comm)));
	JW_LIT(&w, ",\"payload\":");
	bs_payload_json[ev->info - bootstrap_events](&w, ev);
	flag_list(&w, ev, false);
	flag_list(&w, ev, true);
	JW_LIT(&w, "}\n");
	return jw_finish(&w);
}
