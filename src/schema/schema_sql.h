/*
 * SQL text of schema files, through libpg_query only: split into statements
 * (keeping each statement's own text, so quoted names survive byte for byte)
 * and parse one statement into its JSON parse tree.
 */
#ifndef VOYAGER_SCHEMA_SCHEMA_SQL_H
#define VOYAGER_SCHEMA_SCHEMA_SQL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct schema_stmt {
    char *sql; /* the statement without leading comments/blanks and without its ';' (owned) */
    int line;  /* 1-based line of its first token in the input */
} schema_stmt;

typedef struct schema_stmts {
    schema_stmt *items;
    size_t count;
} schema_stmts;

/*
 * Split sql into statements with libpg_query's parser. With lenient, input the
 * parser rejects is split with its scanner instead (statements are then
 * checked one by one by the caller). Without, a syntax error fails: *err gets
 * "line N: message" (caller frees). out is freed with schema_stmts_free().
 */
bool schema_sql_split(const char *sql, bool lenient, schema_stmts *out, char **err);
void schema_stmts_free(schema_stmts *s);

/*
 * Parse one statement. Returns the parse result's root (caller cJSON_Delete()s)
 * and sets *node to the statement node ({"CreateStmt": {...}}) inside it; NULL
 * with *err = the parser's message and *errpos = byte offset (caller frees err).
 */
cJSON *schema_sql_parse(const char *stmt, const cJSON **node, char **err, int *errpos);

/* The node's type name ("CreateStmt") and its body object. */
const char *schema_node_type(const cJSON *node);
const cJSON *schema_node_body(const cJSON *node);

/* 64-bit FNV-1a of the statement text as 16 hex digits (out: 17 bytes). */
void schema_sql_hash(const char *sql, char out[17]);

#endif
