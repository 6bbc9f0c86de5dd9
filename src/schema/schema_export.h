/* export schema: the source's schemas as schema/<type>/<type>.sql files. */
#ifndef VOYAGER_SCHEMA_SCHEMA_EXPORT_H
#define VOYAGER_SCHEMA_SCHEMA_EXPORT_H

#include "core/engine.h"
#include "core/util.h"
#include "db/dbconf.h"
#include "schema/schema_objtype.h"

#include <stdbool.h>

typedef struct schema_export_spec {
    db_conf *source;        /* a PostgreSQL source; keeps a password typed at the prompt */
    const strlist *typed;   /* --source-db-schema names as typed */
    const bool *quoted;     /* quoted[i]: typed->items[i] was in double quotes (exact) */
    bool include[OBJ_COUNT]; /* the object types to write */
    bool start_clean;       /* empty an earlier export's schema/ first */
    bool comments;          /* --comments-on-objects */
} schema_export_spec;

/*
 * Resolve the schema names on the source, pg_dump them, split the dump into
 * one file per object type under schema/, and record ExportSchemaDone and
 * ExportedSchemas. Refuses (ENGINE_BAD_STATE) a schema/ that already holds an
 * export unless start_clean.
 */
engine_status schema_export_run(const engine_ctx *eng, const schema_export_spec *spec);

#endif
