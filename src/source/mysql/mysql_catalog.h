/*
 * A MySQL/MariaDB database's schema as plain C structs, read from information_schema:
 * base tables with their columns, keys, indexes, foreign keys, check constraints and
 * AUTO_INCREMENT values; views; and the objects that cannot be migrated automatically
 * (procedures, functions, triggers, events, sequences, system-versioned tables).
 *
 * Ownership: a mysql_catalog owns everything reachable from it (every string and array);
 * mysql_catalog_free() releases it all. Nothing points into a connection or a result.
 * The builder functions (mysql_catalog_add_table, mysql_table_add_column, ...) are how the
 * reader fills a catalog and how tests build one by hand; they copy their string arguments.
 */
#ifndef VOYAGER_SOURCE_MYSQL_MYSQL_CATALOG_H
#define VOYAGER_SOURCE_MYSQL_MYSQL_CATALOG_H

#include "core/util.h"
#include "source/mysql/mysql_conn.h"

#include <stdbool.h>
#include <stddef.h>

/* A column's default, normalised across MariaDB (which quotes literals) and MySQL 8. */
typedef enum mysql_default_kind {
    MYSQL_DEFAULT_NONE = 0, /* no DEFAULT clause */
    MYSQL_DEFAULT_NULL,     /* DEFAULT NULL */
    MYSQL_DEFAULT_LITERAL,  /* a constant: text is its value, unquoted ("abc", "42", "b'101'" for bits) */
    MYSQL_DEFAULT_EXPR,     /* an expression: text as the server prints it ("current_timestamp(3)") */
} mysql_default_kind;

typedef struct mysql_column {
    char *name;
    char *data_type;     /* lower case, without modifiers: "int", "varchar", "enum", "decimal" */
    char *column_type;   /* the full type as the server prints it: "int(10) unsigned zerofill" */
    bool is_unsigned;
    bool is_zerofill;
    long long length;    /* char/varchar/binary/varbinary/bit length, or the display width of an
                            integer type ("tinyint(1)": 1); -1 when none */
    int precision;       /* decimal/float/double (M,D) precision, -1 when none */
    int scale;           /* ... scale, -1 when none */
    int fsp;             /* fractional seconds of time/datetime/timestamp, 0 when none */
    strlist values;      /* enum / set members, unquoted */
    bool nullable;
    mysql_default_kind default_kind;
    char *default_text;  /* see mysql_default_kind; NULL for NONE and NULL */
    bool auto_increment;
    bool on_update_current_timestamp;
    char *generation_expr; /* generated column's expression (server text), NULL when not generated */
    bool generated_stored; /* STORED (true) or VIRTUAL/PERSISTENT-less (false) */
    char *charset;       /* NULL for non-character types */
    char *collation;     /* NULL for non-character types */
    char *comment;       /* "" when none */
} mysql_column;

typedef struct mysql_index_part {
    char *column;        /* NULL for a functional part (MySQL 8) */
    char *expression;    /* the functional part's expression, else NULL */
    int prefix;          /* prefix length (SUB_PART), 0 for the whole column */
    bool descending;
} mysql_index_part;

typedef struct mysql_index {
    char *name;          /* "PRIMARY" for the primary key */
    bool primary;
    bool unique;
    bool fulltext;
    bool spatial;
    char *method;        /* INDEX_TYPE: BTREE, HASH, FULLTEXT, SPATIAL, RTREE */
    mysql_index_part *parts;
    size_t nparts;
} mysql_index;

typedef struct mysql_fkey {
    char *name;
    strlist columns;
    char *ref_database;  /* the referenced table's database */
    char *ref_table;
    strlist ref_columns;
    char *on_update;     /* RESTRICT, CASCADE, SET NULL, NO ACTION, SET DEFAULT */
    char *on_delete;
} mysql_fkey;

typedef struct mysql_check {
    char *name;
    char *clause;        /* the server's text, MySQL syntax */
    bool column_level;   /* MariaDB: declared on a column (and named after it) */
} mysql_check;

typedef struct mysql_table {
    char *name;
    char *engine;
    char *collation;
    char *comment;
    unsigned long long auto_increment; /* the next AUTO_INCREMENT value, 0 when none */
    bool partitioned;
    mysql_column *columns;  /* in ordinal order */
    size_t ncolumns;
    mysql_index *indexes;   /* the primary key first when there is one, then by name */
    size_t nindexes;
    mysql_fkey *fkeys;
    size_t nfkeys;
    mysql_check *checks;
    size_t nchecks;
} mysql_table;

typedef struct mysql_view {
    char *name;
    char *definition;    /* the server's SELECT text, MySQL syntax, names qualified with backticks */
    char *check_option;  /* NONE, CASCADED, LOCAL */
} mysql_view;

/* Something export schema does not convert: reported for analyze-schema. */
typedef struct mysql_object {
    char *kind;          /* PROCEDURE, FUNCTION, TRIGGER, EVENT, SEQUENCE, SYSTEM VERSIONED TABLE */
    char *name;
    char *table;         /* a trigger's table, else NULL */
    char *detail;        /* "BEFORE UPDATE" for a trigger, the schedule of an event, ... or NULL */
} mysql_object;

typedef struct mysql_catalog {
    char *database;
    char *server_version;
    bool is_mariadb;
    mysql_table *tables;  /* by name */
    size_t ntables;
    mysql_view *views;    /* by name */
    size_t nviews;
    mysql_object *others; /* by kind, then name */
    size_t nothers;
} mysql_catalog;

/*
 * Read database's schema into *out (zeroed first). Needs SELECT on the database's tables (and
 * SHOW VIEW for view text, TRIGGER / EVENT / EXECUTE to list those objects: information_schema
 * shows only what the user may see). False after logging a failed query; *out is then freed.
 */
bool mysql_catalog_read(mysql_conn *c, const char *database, mysql_catalog *out);
void mysql_catalog_free(mysql_catalog *cat);

/* The table named name (exact), or NULL. */
const mysql_table *mysql_catalog_table(const mysql_catalog *cat, const char *name);
/* The column named name (case-insensitive, as MySQL compares column names), or NULL. */
const mysql_column *mysql_table_column(const mysql_table *t, const char *name);

/* ---- builders: copy their arguments; the returned pointer is valid until the next add ---- */
mysql_table *mysql_catalog_add_table(mysql_catalog *cat, const char *name);
/*
 * A column of type column_type as information_schema.COLUMNS.COLUMN_TYPE prints it
 * ("decimal(10,2) unsigned", "enum('a','b''c')", "datetime(6)"): data_type, is_unsigned,
 * is_zerofill, length, precision, scale, fsp and values are parsed from it. nullable is true;
 * everything else empty.
 */
mysql_column *mysql_table_add_column(mysql_table *t, const char *name, const char *column_type);
/* Set a column's default (text copied; NULL for NONE and NULL). */
void mysql_column_set_default(mysql_column *col, mysql_default_kind kind, const char *text);
mysql_index *mysql_table_add_index(mysql_table *t, const char *name, bool unique);
void mysql_index_add_part(mysql_index *ix, const char *column, int prefix, bool descending);
mysql_fkey *mysql_table_add_fkey(mysql_table *t, const char *name, const char *ref_table);
mysql_check *mysql_table_add_check(mysql_table *t, const char *name, const char *clause);
mysql_view *mysql_catalog_add_view(mysql_catalog *cat, const char *name, const char *definition);
mysql_object *mysql_catalog_add_other(mysql_catalog *cat, const char *kind, const char *name);

/*
 * Parse the members of "enum('a','b''c')" / "set(...)" into out, unquoted and
 * unescaped (\n, \r, \t, \b, \Z, \\ as the server writes them). False on bad
 * syntax or a member holding a zero byte (\0).
 */
bool mysql_parse_enum_values(const char *column_type, strlist *out);

#endif
