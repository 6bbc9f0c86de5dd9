/*
 * Which tables a data command works on: --table-list / --exclude-table-list and
 * their -file-path forms, applied to the tables of the database (export) or of
 * the data file descriptor (import).
 *
 * A name is [schema.]table; each part is either quoted ("Order": the exact
 * name, every character literal, `*` and `?` included) or unquoted (order:
 * matched case-insensitively, as PostgreSQL folds it, with `*` and `?` as the
 * only wildcards; `[` and `\` are literal). An unquoted part without wildcards
 * and no schema matches that name in every schema. A name without wildcards
 * that matches no table is an error naming it.
 */
#ifndef VOYAGER_SNAPSHOT_TABLE_LIST_H
#define VOYAGER_SNAPSHOT_TABLE_LIST_H


#include <stdbool.h>
#include <stddef.h>

typedef struct table_pattern {
    char *text;        /* as the user wrote it, for messages */
    char *schema;      /* NULL: any schema of the command */
    bool schema_quoted;
    char *name;
    bool name_quoted;
} table_pattern;

typedef struct table_patterns {
    table_pattern *items;
    size_t count;
} table_patterns;

/* A table of the database: schema + name (unquoted, as in the catalog). */
typedef struct table_ref {
    const char *schema;
    const char *name;
} table_ref;

/*
 * Parse a comma list (commas inside double quotes do not split). Appends to
 * out. On a malformed item returns false and sets *err (caller frees).
 */
bool table_patterns_parse(const char *list, table_patterns *out, char **err);
/* One name a line; blank lines and lines starting with # are skipped. */
bool table_patterns_parse_file(const char *path, table_patterns *out, char **err);
void table_patterns_free(table_patterns *p);

bool table_pattern_matches(const table_pattern *p, const char *schema, const char *name);

/* Partitions of the listed tables, each with its tree's root (roots[i] is parts[i]'s). */
typedef struct table_partitions {
    const table_ref *parts;
    const table_ref *roots;
    size_t count;
} table_partitions;

/*
 * Select among tables[0..n): included (every table when include is empty)
 * and not excluded. keep[i] is set for selected tables. Returns false with
 * *err (the message, caller frees) naming a pattern without wildcards that
 * matches no table, and *hint (static: how to write names) for log_report.
 * When such a pattern names a partition of partitions (NULL: none known),
 * *err names it with its root instead: a partition is selected with its
 * partitioned table, never alone.
 */
bool table_filter_select(const table_ref *tables, size_t n, const table_partitions *partitions,
                         const table_patterns *include, const table_patterns *exclude, bool *keep,
                         char **err, const char **hint);

/* The name operators see: table for schema public, else schema.table. Caller frees. */
char *table_display_name(const char *schema, const char *name);
/*
 * "schema.table" with each part in double quotes only where PostgreSQL needs
 * them (upstream's minimally quoted output name): public."Order". Caller frees.
 */
char *table_qualified_name(const char *schema, const char *name);

#endif
