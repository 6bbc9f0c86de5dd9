/*
 * A MySQL/MariaDB catalog (source/mysql/mysql_catalog.h) as PostgreSQL / YugabyteDB DDL text,
 * split by object kind, with the list of what needs a manual change (for analyze-schema).
 *
 * Names: lower-cased (MySQL column names are case-insensitive, PostgreSQL folds unquoted names
 * to lower case) and double-quoted only when PostgreSQL needs it (not [a-z_][a-z0-9_]*, or a
 * keyword PostgreSQL's parser refuses as a name). Index names are prefixed with their table's
 * name ("orders_idx_customer", as yb-voyager does for MySQL) and made unique in the schema
 * together with table, view, primary-key and identity-sequence names (a "_1", "_2" suffix, within
 * PostgreSQL's 63 bytes).
 *
 * The type mapping and the other decisions are listed in docs/DECISIONS.md ("MySQL source").
 */
#ifndef VOYAGER_SOURCE_MYSQL_MYSQL_DDL_H
#define VOYAGER_SOURCE_MYSQL_MYSQL_DDL_H

#include "core/util.h"
#include "source/mysql/mysql_catalog.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * The parts of the output, in the order import schema applies them, with the file of the
 * PostgreSQL export's layout each belongs in (schema/schema_objtype.c names the files):
 */
typedef enum mysql_ddl_part {
    MYSQL_DDL_TABLE = 0, /* CREATE TABLE, primary keys, unique constraints, checks: tables/table.sql */
    MYSQL_DDL_FKEY,      /* ALTER TABLE ... ADD ... FOREIGN KEY: appended to tables/table.sql after
                            every table (import schema applies foreign keys after all tables) */
    MYSQL_DDL_VIEW,      /* CREATE VIEW, dependencies first: views/view.sql */
    MYSQL_DDL_COMMENT,   /* COMMENT ON TABLE / COLUMN: comments/comment.sql */
    MYSQL_DDL_INDEX,     /* CREATE [UNIQUE] INDEX: tables/INDEXES_table.sql (post-data) */
    MYSQL_DDL_PART_COUNT
} mysql_ddl_part;

/* Something the conversion could not do faithfully: what analyze-schema reports. */
typedef struct mysql_ddl_issue {
    char *object_type;   /* TABLE, COLUMN, INDEX, FOREIGN KEY, CHECK, VIEW, PROCEDURE, FUNCTION,
                            TRIGGER, EVENT, SEQUENCE, SYSTEM VERSIONED TABLE */
    char *object_name;   /* the source's name: "orders", "orders.updated_at", "orders.ft_body" */
    char *reason;
    char *suggestion;    /* what to do about it */
} mysql_ddl_issue;

typedef struct mysql_ddl_opts {
    const char *target_schema; /* qualify every table, view and index with it; NULL: unqualified */
} mysql_ddl_opts;

typedef struct mysql_ddl_result {
    strbuf parts[MYSQL_DDL_PART_COUNT];  /* statements, each ending in ";\n\n" */
    size_t counts[MYSQL_DDL_PART_COUNT]; /* statements per part */
    mysql_ddl_issue *issues;             /* in the order found */
    size_t nissues;
} mysql_ddl_result;

/* Convert cat into r (zeroed by the call). Never fails: what it cannot convert is an issue. */
void mysql_ddl_convert(const mysql_catalog *cat, const mysql_ddl_opts *o, mysql_ddl_result *r);
void mysql_ddl_result_free(mysql_ddl_result *r);

/* A source name as the target spells it: lower-cased, quoted only when needed. Caller frees. */
char *mysql_ddl_name(const char *mysql_name);
/* The same name unquoted (lower-cased, cut to 63 bytes): what the target's catalog holds. Caller frees. */
char *mysql_ddl_raw_name(const char *mysql_name);
/* The PostgreSQL type of a column, without constraints ("numeric(20)", "timestamptz(3)"). Caller frees. */
char *mysql_ddl_column_type(const mysql_column *c);

#endif
