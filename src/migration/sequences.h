/*
 * Sequence values handed from exporters to importers through meta.db table
 * sequence_last_values (described in cdc/cdc_live.h): the snapshot exporter
 * records phase "snapshot", a draining exporter the cutover op. Importers
 * set the database's sequences from the phase they reached.
 */
#ifndef VOYAGER_MIGRATION_SEQUENCES_H
#define VOYAGER_MIGRATION_SEQUENCES_H

#include "core/metadb.h"
#include "db/pgconn.h"

#include <stdbool.h>

/* CREATE TABLE IF NOT EXISTS sequence_last_values: the one definition. */
bool sequences_store_init(metadb *m);

/*
 * setval() every sequence recorded for phase that exists on c (one missing
 * there is a warning, not an error; nothing recorded at all is no error).
 * *restored counts those set. Returns false
 * (logged) when meta.db or the database fails.
 */
bool sequences_restore(metadb *m, pgconn *c, const char *phase, int *restored);

#endif
