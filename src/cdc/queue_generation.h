/*
 * The generation of the change queue: a UUID in the migration status record
 * (QUEUE_GENERATION_KEY), renewed whenever the queue starts over (live
 * `export data --start-clean`, which restarts vsn numbering at 1). Importers
 * record it next to their progress on the database they import into
 * (cdc/import_metainfo.h): progress of another generation counts vsns of a
 * queue that no longer exists, so it must never be compared with this one's.
 */
#ifndef VOYAGER_CDC_QUEUE_GENERATION_H
#define VOYAGER_CDC_QUEUE_GENERATION_H

#include "catalog/catalog.h"

#include <stdbool.h>

#define QUEUE_GENERATION_KEY "QueueGeneration"

/*
 * The current generation, made (atomically, once) when none was recorded:
 * an export dir from before generations existed has one queue. Caller frees;
 * NULL after logging.
 */
char *queue_generation_get(catalog *m);

/* A new generation; call before anything of the old queue is removed. */
bool queue_generation_renew(catalog *m);

/*
 * --start-clean of an importer: every segment counts as not yet applied by
 * importer_role again (the reader starts at segment 0 and skips by vsn).
 */
bool queue_generation_forget_applied(catalog *m, const char *importer_role);

#endif
