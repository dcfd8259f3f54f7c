/* event_json.c: bootstrap_event_json(): one NDJSON line per event, keys in the order of
 * the output contract; the payload object comes from the event's generated serializer. */
#include <string.h>

#include "event_json.h"

void bs_json_var(struct json_writer *w, const struct bootstrap_field_value *v, enum bootstrap_type type)
{
	if (v->lost || !v->data)
		JW_LIT(w, "null");
	else if (type == BOOTSTRAP_T_BYTES)
		bs_jw_string(w, v->data, v->len);
	else
		bs_jw_string_list(w, v->data, v->len);
}

void bs_json_named(struct json_writer *w, uint64_t v, const char *const *names, uint32_t n_names)
{
	if (v < n_names)
		bs_jw_string(w, names[v], strlen(names[v]));
	else
		bs_jw_u64(w, v);
}

/* The lists after the payload, in the order of the output contract. */
enum flag { FLAG_TRUNCATED, FLAG_LOST, FLAG_REREAD };

/* Whether field i carries the flag: a variable field as resolved (its bytes may also
 * be lost to a stale arena span), an integer field that can be lost by its header bit
 * (integers are never truncated); reread by its header bit (of a field that can be
 * reread), unless the field is lost. */
static bool flagged(const struct bootstrap_event *ev, uint32_t i, enum flag flag)
{
	const struct bootstrap_field_info *f = &ev->info->fields[i];
	const struct bootstrap_field_value *v;

	if (flag == FLAG_REREAD)
		return ((ev->hdr->reread_mask & ev->info->reread_fields) >> i) & 1 && !flagged(ev, i, FLAG_LOST);
	if (f->var_index < 0)
		return flag == FLAG_LOST && ((ev->hdr->lost_mask & ev->info->lossy_fields) >> i) & 1;
	v = &ev->vars[f->var_index];
	return flag == FLAG_LOST ? v->lost : v->truncated;
}

/* ,"truncated":["a","b"], ,"lost":[...] or ,"reread":[...] when any field has that flag. */
static void flag_list(struct json_writer *w, const struct bootstrap_event *ev, enum flag flag)
{
	static const char *const keys[] = { ",\"truncated\":[\"", ",\"lost\":[\"", ",\"reread\":[\"" };
	const struct bootstrap_event_info *info = ev->info;
	bool first = true;

	for (uint32_t i = 0; i < info->n_fields; i++) {
		const struct bootstrap_field_info *f = &info->fields[i];

		if (!flagged(ev, i, flag))
			continue;
		if (first)
			bs_jw_raw(w, keys[flag], strlen(keys[flag]));
		else
			JW_LIT(w, ",\"");
		bs_jw_raw(w, f->name, strlen(f->name));
		JW_LIT(w, "\"");
		first = false;
	}
	if (!first)
		JW_LIT(w, "]");
}

/* The keys from "pid" to "comm" describe the task, the same for every event of a thread
 * in a row; a storm comes from few threads. So their text is kept, per calling thread,
 * for the last task seen: a pure memo of this function's output (correct for any
 * number of instances), which saves about a third of the formatting. */
struct task_key {
	__u64 upid, uppid, cgroup_id;
	__u32 pid, tid, ppid, uid;
	char comm[BOOTSTRAP_COMM_LEN];
};

struct task_text {
	struct task_key key;
	size_t len;
	char text[320]; /* 7 numbers, the keys, and a comm of 15 bytes escaped as \u00XX */
};

static __thread struct task_text last_task;

static const struct task_text *task_text(const struct bootstrap_header *h)
{
	struct task_key key = { h->upid, h->uppid, h->cgroup_id, h->pid, h->tid, h->ppid, h->uid, { 0 } };
	struct json_writer w;

	memcpy(key.comm, h->comm, sizeof(key.comm));
	if (last_task.len && memcmp(&key, &last_task.key, sizeof(key)) == 0)
		return &last_task;
	bs_jw_init(&w, last_task.text, sizeof(last_task.text));
	JW_LIT(&w, ",\"pid\":");
	bs_jw_u64(&w, h->pid);
	JW_LIT(&w, ",\"tid\":");
	bs_jw_u64(&w, h->tid);
	JW_LIT(&w, ",\"ppid\":");
	bs_jw_u64(&w, h->ppid);
	JW_LIT(&w, ",\"upid\":");
	bs_jw_u64(&w, h->upid);
	JW_LIT(&w, ",\"uppid\":");
	bs_jw_u64(&w, h->uppid);
	JW_LIT(&w, ",\"uid\":");
	bs_jw_u64(&w, h->uid);
	JW_LIT(&w, ",\"cgroup_id\":");
	bs_jw_u64(&w, h->cgroup_id);
	JW_LIT(&w, ",\"comm\":");
	bs_jw_string(&w, h->comm, strnlen(h->comm, sizeof(h->comm)));
	last_task.key = key;
	last_task.len = w.len;
	return &last_task;
}

size_t bootstrap_event_json(const struct bootstrap_event *ev, char *buf, size_t cap)
{
	const struct bootstrap_header *h = ev->hdr;
	struct json_writer w;

	bs_jw_init(&w, buf, cap);
	JW_LIT(&w, "{\"event_id\":");
	bs_jw_u64(&w, h->event_id);
	JW_LIT(&w, ",\"event_type\":\"");
	bs_jw_raw(&w, ev->info->type_name, strlen(ev->info->type_name));
	JW_LIT(&w, "\",\"timestamp_ns\":");
	bs_jw_u64(&w, h->timestamp_ns);
	/* A packet event has no task: its keys are left out, the order kept. */
	if (bootstrap_kinds[ev->info->kind].has_task) {
		const struct task_text *task = task_text(h);

		bs_jw_raw(&w, task->text, task->len);
	}
	JW_LIT(&w, ",\"payload\":");
	bs_payload_json[ev->info - bootstrap_events](&w, ev);
	flag_list(&w, ev, FLAG_TRUNCATED);
	flag_list(&w, ev, FLAG_LOST);
	flag_list(&w, ev, FLAG_REREAD);
	JW_LIT(&w, "}\n");
	return bs_jw_finish(&w);
}
