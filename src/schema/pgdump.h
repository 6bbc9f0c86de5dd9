/*
 * Running pg_dump --schema-only as a child: argv array (never a shell), the
 * connection and the password through its environment only.
 */
#ifndef VOYAGER_SCHEMA_PGDUMP_H
#define VOYAGER_SCHEMA_PGDUMP_H

#include "core/util.h"
#include "db/dbconf.h"

#include <stdbool.h>

/*
 * The pg_dump able to dump a server of this major version: the first of
 * /usr/lib/postgresql/<major..>/bin/pg_dump that exists, else "pg_dump" from
 * PATH. Caller frees.
 */
char *pgdump_find(int server_major);

/* pg_dump's pattern for one exact name: "name" with embedded quotes doubled. Caller frees. */
char *pgdump_exact_pattern(const char *name);

/*
 * Dump the schema of the given schemas (exact names) and extensions into
 * out_path. pg_dump's stderr goes to err_path; on failure logs its last line
 * and returns false.
 */
bool pgdump_schema(const char *pg_dump, const db_conf *conf, const strlist *schemas,
                   const strlist *extensions, const char *out_path, const char *err_path);

#endif
