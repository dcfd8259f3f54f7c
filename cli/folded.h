/* folded.h: --folded: samples counted by stack, written at the end as folded stacks. */
#ifndef CLI_FOLDED_H
#define CLI_FOLDED_H

#include <stdio.h>

#include "bootstrap.h"

struct folded;

struct folded *folded_new(void);
/* Counts the event's stacks; an event without stack fields is not counted. 0 or -ENOMEM. */
int folded_add(struct folded *f, const struct bootstrap_event *ev);
/* "comm;outermost;...;innermost count" lines, sorted; 0 or -errno. */
int folded_write(const struct folded *f, FILE *out);
void folded_free(struct folded *f);

#endif
