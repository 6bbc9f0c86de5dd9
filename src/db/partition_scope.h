/*
 * Partition trees that a schema selection cuts. pg_dump --schema keeps only the
 * selected schemas' tables, and a table's rows are read through its partition
 * tree's root: a partition whose schema is selected and whose parent's is not
 * (or the reverse) is either left out of the schema with its rows exported
 * through the root, or has its rows exported by nobody.
 */
#ifndef VOYAGER_DB_PARTITION_SCOPE_H
#define VOYAGER_DB_PARTITION_SCOPE_H

#include "core/util.h"
#include "db/pgconn.h"

#include <stdbool.h>

/*
 * True when no partition tree of c's database crosses the edge of schemas
 * (exact names). Otherwise false after logging an error that names the
 * partitions, their parents and the schema to add to --source-db-schema; false
 * with c->sqlstate set when the catalog query failed (logged).
 */
bool partition_scope_check(pgconn *c, const strlist *schemas);

#endif
