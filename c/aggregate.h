/* aggregate.h: the library's side of in-kernel aggregation (internal). The reflection
 * table and the map names are generated (aggregate.gen.c); reading, deltas and JSON
 * are c/aggregate.c. */
#ifndef BOOTSTRAP_AGGREGATE_H
#define BOOTSTRAP_AGGREGATE_H

#include "bootstrap.h"

/* The name of each aggregation's map in the BPF object, by aggregation index. */
extern const char *const bs_agg_maps[BOOTSTRAP_N_AGGREGATIONS];

struct bootstrap;
struct bs_agg_state;

/* Sets every aggregation map's bound before load. */
int bs_agg_size_maps(struct bootstrap *b, size_t entries);
void bs_agg_free(struct bootstrap *b);

#endif
