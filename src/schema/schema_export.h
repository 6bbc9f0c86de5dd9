/* export schema: the source's schemas as schema/<type>/<type>.sql files. */
#ifndef VOYAGER_SCHEMA_SCHEMA_EXPORT_H
#define VOYAGER_SCHEMA_SCHEMA_EXPORT_H

#include "core/engine.h"
#include "core/util.h"
#include "db/dbconf.h"
#include "schema/schema_objtype.h"

#include <stdbool.h>

/*
 * Under schema/: what export schema from a non-PostgreSQL source could not convert (a JSON
 * array of {ObjectType, ObjectName, Reason, Suggestion}), read by analyze-schema.
 */
#define SCHEMA_SOURCE_ISSUES_FILE "source_conversion_issues.json"
/* Status-record key: the materialized views unfilled on the source, "schema"."name" (export schema). */
#define SCHEMA_UNPOPULATED_MVIEWS_KEY "UnpopulatedMviews"

typedef struct schema_export_spec {
    db_conf *source;        /* a PostgreSQL or MySQL source; keeps a password typed at the prompt */
    const strlist *typed;   /* --source-db-schema names as typed */
    const bool *quoted;     /* quoted[i]: typed->items[i] was in double quotes (exact) */
    bool include[OBJ_COUNT]; /* the object types to write */
    bool types_listed;      /* include[] comes from --object-type-list (asked for by name) */
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

/*
 * schema/ made ready for a new export: empty already, or emptied when start_clean (and
 * ExportSchemaDone reset). False after a logged refusal or failure.
 */
bool schema_export_clear_dir(const engine_ctx *eng, const char *schema_dir, bool start_clean);

/*
 * The same for a source pg_dump cannot read (--source-db-type mysql; schema_export_run
 * calls it for any type but postgresql): the source's converted DDL (source.h
 * dump_schema) into the PostgreSQL export's files (tables/table.sql with the foreign keys
 * after every table, tables/INDEXES_table.sql, views/view.sql, comments/comment.sql), and
 * what needs a manual change into schema/SCHEMA_SOURCE_ISSUES_FILE for analyze-schema.
 */
engine_status schema_export_converted(engine_ctx *eng, const schema_export_spec *spec);

#endif
