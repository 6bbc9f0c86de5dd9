/*
 * From one pg_dump --schema-only text to the per-type files of schema/: split
 * with libpg_query, classify every statement by its parse tree, keep pg_dump's
 * own text and order within each file.
 */
#ifndef VOYAGER_SCHEMA_SCHEMA_SPLIT_H
#define VOYAGER_SCHEMA_SCHEMA_SPLIT_H

#include "core/util.h"
#include "schema/schema_objtype.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct schema_split_opts {
    bool comments;               /* keep COMMENT ON (--comments-on-objects) */
    bool include[OBJ_COUNT];     /* object types to write */
    const char *extra;           /* statements from elsewhere (NULL: none), split after the dump's */
} schema_split_opts;

typedef struct schema_split_result {
    strbuf files[OBJ_COUNT];     /* file contents, statements ending in ";\n\n" */
    size_t counts[OBJ_COUNT];    /* statements per file */
    size_t session_dropped;      /* pg_dump's SET / set_config statements */
    size_t unparsed;             /* statements libpg_query rejected: kept in uncategorized.sql */
} schema_split_result;

/*
 * Split dump into r (zeroed by the caller or SCHEMA_SPLIT_RESULT_INIT). pg_dump's
 * psql-only \restrict / \unrestrict lines are dropped first. Returns false only
 * when the text cannot be split at all (*err set, caller frees).
 */
bool schema_split_dump(const char *dump, const schema_split_opts *o, schema_split_result *r, char **err);
void schema_split_result_free(schema_split_result *r);

#endif
