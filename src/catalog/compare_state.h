/*
 * What compare data reads from meta.db: the migration's tables, i.e. the
 * tables export data exported (snapshot_export_table, written by export data
 * only; see catalog/snapshot_state.h).
 */
#ifndef VOYAGER_CATALOG_COMPARE_STATE_H
#define VOYAGER_CATALOG_COMPARE_STATE_H

#include "catalog/catalog.h"
#include "core/util.h"

#include <stdbool.h>

/*
 * Appends the schema and name of every exported table, in (schema, name)
 * order, to schemas and names (the same index in both): export data's own
 * list (export_state_tables) seen by compare data. The statement is finished
 * before this returns. False on error (logged; nothing appended).
 */
bool compare_state_migrated_tables(catalog *m, strlist *schemas, strlist *names);

#endif
