/* event_json.h: what the generated serializers (json.gen.c) and the generic part of
 * bootstrap_event_json() share (internal to the library). */
#ifndef BOOTSTRAP_EVENT_JSON_H
#define BOOTSTRAP_EVENT_JSON_H

#include "bootstrap.h"
#include "json_writer.h"

typedef void (*bs_payload_json_fn)(struct json_writer *w, const struct bootstrap_event *ev);

/* The payload object of each event, indexed by event index (generated). */
extern const bs_payload_json_fn bs_payload_json[BOOTSTRAP_N_EVENTS];

/* One variable field's value: a string, an array of strings, or null when lost. */
void bs_json_var(struct json_writer *w, const struct bootstrap_field_value *v, enum bootstrap_type type);

/* An integer shown by name (pkt.proto): names[v] as a string, or v when it has none. */
void bs_json_named(struct json_writer *w, uint64_t v, const char *const *names, uint32_t n_names);

#endif
