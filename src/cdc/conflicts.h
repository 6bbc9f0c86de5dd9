/*
 * Unique-key conflicts between channels. Two events of different rows (so
 * maybe different channels) can touch the same value of a unique index other
 * than the primary key: a row deletes or changes it, another row then takes
 * it. Applied out of order the second would fail (or a swap would deadlock
 * on itself). The reader keeps, for each unique value recently touched, the
 * channel and vsn of the last event touching it; an event touching a value
 * whose last toucher is another channel's event not yet committed must wait
 * until that channel has committed that vsn.
 */
#ifndef VOYAGER_CDC_CONFLICTS_H
#define VOYAGER_CDC_CONFLICTS_H

#include "cdc/apply.h"

#include <stdint.h>

typedef struct conflicts conflicts;

/* committed(channel, arg): the highest vsn that channel has committed. */
typedef int64_t (*conflicts_committed_fn)(int channel, void *arg);

/* Caller frees with conflicts_free(). */
conflicts *conflicts_new(conflicts_committed_fn committed, void *arg);
void conflicts_free(conflicts *c);

/*
 * Add to it->deps what it must wait for, then record it (routed to channel)
 * as the last toucher of every unique value it touches.
 */
void conflicts_check(conflicts *c, cdc_item *it, int channel);

/* Entries in the map (for tests and memory bounds). */
size_t conflicts_size(const conflicts *c);

#endif
