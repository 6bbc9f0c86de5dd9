/*
 * Sequence values handed from exporters to importers through meta.db table
 * sequence_last_values (catalog/migration_state.h): the snapshot exporter
 * records phase "snapshot", a draining exporter the cutover op (both read
 * through the source seam: source/pg_sequences.c). Importers set the
 * database's sequences from the phase they reached.
 */
#ifndef VOYAGER_MIGRATION_SEQUENCES_H
#define VOYAGER_MIGRATION_SEQUENCES_H

#include "catalog/catalog.h"
#include "core/util.h"
#include "db/pgconn.h"

#include <stdbool.h>

/*
 * setval() every sequence recorded for phase that exists on c (one missing
 * there is a warning, not an error; nothing recorded at all is no error).
 * *restored counts those set. Returns false
 * (logged) when meta.db or the database fails.
 */
bool sequences_restore(catalog *m, pgconn *c, const char *phase, int *restored);

#endif
