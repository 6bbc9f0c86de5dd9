/*
 * Which file of schema/ a statement of a pg_dump belongs in, decided from its
 * libpg_query parse tree. Some statements need to know about others (is this
 * table a partition? was this index made by CREATE INDEX?), so classification
 * is two passes: schema_ctx_observe() over every statement, then
 * schema_classify() on each.
 */
#ifndef VOYAGER_SCHEMA_SCHEMA_CLASSIFY_H
#define VOYAGER_SCHEMA_SCHEMA_CLASSIFY_H

#include "core/util.h"
#include "schema/schema_objtype.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

typedef struct schema_ctx {
    strlist partition_children; /* relation keys of tables that are partitions */
    strlist partition_trees;    /* keys of every table in a partition tree (parents too) */
    strlist plain_indexes;      /* keys of indexes made by CREATE INDEX (not by constraints) */
} schema_ctx;

#define SCHEMA_CTX_INIT {STRLIST_INIT, STRLIST_INIT, STRLIST_INIT}
void schema_ctx_free(schema_ctx *ctx);
/* First pass: note what node tells about partitions and indexes. */
void schema_ctx_observe(schema_ctx *ctx, const cJSON *node);

typedef struct schema_class {
    schema_obj obj;
    bool session; /* SET / set_config(): pg_dump's session settings, not an object; dropped */
} schema_class;

schema_class schema_classify(const cJSON *node, const schema_ctx *ctx);

/* ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY: import applies these after all tables. */
bool schema_stmt_is_fk(const cJSON *node);
/*
 * The SQLSTATE that, for this kind of statement only, means "it exists
 * already" (besides the duplicate_* codes), or NULL: 42P16 for ADD PRIMARY
 * KEY, 42809 for ALTER TABLE ... ATTACH PARTITION (ambiguous: see
 * schema_stmt_attach_names), 23505 for CREATE TEXT SEARCH CONFIGURATION and
 * ALTER TEXT SEARCH CONFIGURATION ... ADD MAPPING (catalogue unique indexes).
 */
const char *schema_stmt_exists_state(const cJSON *node);
/*
 * ALTER TABLE parent ATTACH PARTITION child: the quoted names of both (caller
 * frees), so import can check that the child is attached to that parent.
 * False (and NULLs) for any other statement.
 */
bool schema_stmt_attach_names(const cJSON *node, char **parent, char **child);
/*
 * What pg_dump puts after the data and would reject or hide rows import data
 * loads: ADD CONSTRAINT ... NOT VALID (check or foreign key, on a table or a
 * domain) and FORCE ROW LEVEL SECURITY (which subjects the owner, who loads
 * the data, to the policies). Import applies them in the post-data run.
 */
bool schema_stmt_after_data(const cJSON *node);
/*
 * Names as its object an index, a trigger, an event trigger or a constraint:
 * the kinds of object the post-data run creates (indexes, triggers, NOT VALID
 * constraints, foreign keys that need a unique index). COMMENT ON those,
 * ALTER INDEX, and ALTER TABLE ... CLUSTER ON / REPLICA IDENTITY USING INDEX /
 * ADD ... USING INDEX / ENABLE|DISABLE TRIGGER / VALIDATE|ALTER|DROP
 * CONSTRAINT. Only these wait for the post-data run when something they need
 * is missing.
 */
bool schema_stmt_on_post_data(const cJSON *node);
/* CREATE SCHEMA: import treats "already exists" as done (public always exists). */
bool schema_stmt_is_create_schema(const cJSON *node);
/* The quoted "schema"."name" a CREATE MATERIALIZED VIEW creates (caller frees), or NULL. */
char *schema_stmt_mview_name(const cJSON *node);

#endif
