/*
 * The change apply's events in flight. What a table is to the router
 * (table_meta) and applying a batch to the database are the writer's
 * (source/writer.h); this is what the engine keeps around each event.
 */
#ifndef VOYAGER_CDC_APPLY_H
#define VOYAGER_CDC_APPLY_H

#include "cdc/event.h"
#include "core/strmap.h" /* for conflicts.c, which had it from here */
#include "source/writer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An event in flight: waits for deps (other channels past a vsn) before it is applied. */
typedef struct cdc_dep {
    int channel;
    int64_t vsn;
} cdc_dep;

typedef struct cdc_item {
    cdc_event ev;
    size_t bytes;       /* memory it holds (its arena, >= its values' text): the channels'
                           bounds on queued memory and on a batch's size */
    table_meta *tm;
    cdc_dep *deps;
    size_t ndeps;
    cdc_arena *arena;   /* holds the item itself and its event when set (else malloc'd) */
} cdc_item;

void cdc_item_free(cdc_item *it);

#endif
