/* Internals shared by the analyze-schema files: statements, catalogue, rules. */
#ifndef VOYAGER_SCHEMA_ANALYZE_INT_H
#define VOYAGER_SCHEMA_ANALYZE_INT_H

#include "core/util.h"
#include "schema/analyze/analyze.h"

#include <cjson/cJSON.h>

/* Rule ids: one per detector of the SPEC catalogue. */
typedef enum an_rule_id {
    R_SYNTAX_ERROR,
    R_STORED_GENERATED,
    R_UNLOGGED_TABLE,
    R_INDEX_METHOD,
    R_STORAGE_PARAMETERS,
    R_ALTER_SET_ATTRIBUTE,
    R_ALTER_CLUSTER_ON,
    R_ALTER_DISABLE_RULE,
    R_EXCLUSION_CONSTRAINT,
    R_DEFERRABLE_CONSTRAINT,
    R_GIN_MULTI_COLUMN,
    R_GIN_ORDERED,
    R_POLICY_ROLES,
    R_CONSTRAINT_TRIGGER,
    R_TRIGGER_REFERENCING,
    R_BEFORE_ROW_TRIGGER_PARTITIONED,
    R_ALTER_ADD_PK_PARTITIONED,
    R_EXPRESSION_PARTITION_PK,
    R_MULTI_COLUMN_LIST_PARTITION,
    R_PK_MISSING_PARTITION_COLUMNS,
    R_FK_WITHOUT_INDEX,
    R_UNSUPPORTED_DATATYPE,
    R_LIVE_DATATYPE,
    R_LIVE_FB_FF_DATATYPE,
    R_INDEX_ON_COMPLEX_TYPE,
    R_FOREIGN_TABLE,
    R_INHERITANCE,
    R_SECURITY_INVOKER_VIEW,
    R_DETERMINISTIC_COLLATION,
    R_SQL_BODY_FUNCTION,
    R_UNIQUE_NULLS_NOT_DISTINCT,
    R_FK_REFERENCES_PARTITIONED,
    R_UNSUPPORTED_EXTENSION,
    R_COMPRESSION_CLAUSE,
    R_ADVISORY_LOCKS,
    R_SYSTEM_COLUMNS,
    R_XML_FUNCTIONS,
    R_FETCH_WITH_TIES,
    R_REGEX_FUNCTIONS,
    R_ANY_VALUE,
    R_RANGE_AGG,
    R_JSON_PREDICATE,
    R_JSON_CONSTRUCTOR,
    R_JSON_QUERY_FUNCTION,
    R_LARGE_OBJECT_FUNCTIONS,
    R_JSONB_SUBSCRIPTING,
    R_COPY_FROM_WHERE,
    R_COPY_ON_ERROR,
    R_MERGE,
    R_CTE_MATERIALIZED,
    R_LISTEN_NOTIFY,
    R_NON_DECIMAL_LITERAL,
    R_TWO_PHASE_COMMIT,
    R_SAVEPOINT,
    R_INDEX_CONCURRENTLY,
    /* Split out of the datatype and index rules: upstream gives each its own kind and links. */
    R_XML_DATATYPE,
    R_XID_DATATYPE,
    R_POSTGIS_DATATYPE,
    R_LO_DATATYPE,
    R_MULTIRANGE_DATATYPE,
    R_PK_UK_ON_COMPLEX_TYPE,
    R_NON_DETERMINISTIC_COLLATION,
    R_REFERENCED_TYPE_DECLARATION,
    /* Upstream's statement-level checks (no issue type of their own upstream). */
    R_VIEW_CHECK_OPTION,
    R_DROP_MULTIPLE,
    R_DROP_INDEX_CONCURRENTLY,
    R_CREATE_ACCESS_METHOD,
    R_REINDEX,
    R_LIKE_ALL,
    R_LIKE_CLAUSE,
    R_WITH_OIDS,
    R_ALTER_TABLE_OF,
    R_ALTER_TABLE_NOT_OF,
    R_ALTER_TABLE_SET_SCHEMA,
    R_SCHEMA_WITH_ELEMENTS,
    R_ALTER_SET_STATISTICS,
    R_ALTER_SET_STORAGE,
    R_ALTER_RESET_ATTRIBUTE,
    R_ALTER_CONSTRAINT,
    R_ALTER_SET_WITH_OIDS,
    R_ALTER_WITHOUT_CLUSTER,
    R_ALTER_TABLE_SET,
    R_ALTER_TABLE_RESET,
    R_ALTER_TABLE_OPTIONS,
    R_ALTER_TABLE_INHERIT,
    R_ALTER_VALIDATE_CONSTRAINT,
    R_ALTER_INDEX_SET,
    R_ALTER_TYPE,
    R_ALTER_TYPE_DROP_ATTRIBUTE,
    R_ALTER_TABLESPACE,
    R_ALTER_VIEW,
    R_ALTER_AGGREGATE,
    R_LANGUAGE_C,
    R_DROP_TEMPORARY_TABLE,
    R_JSON_ARRAYAGG,
    R_FOREIGN_TABLE_PK,
    R_FOREIGN_TABLE_FK,
    R_COMPOUND_TRIGGER,
    R_CREATE_CONVERSION,
    R_ALTER_CONVERSION,
    R_CURSOR_FETCH,
    R_WHERE_CURRENT_OF,
    R_ORACLE_DATATYPE,
    R_DATABASE_OPTIONS_PG15,
    R_DATABASE_OPTIONS_PG17,
    R__COUNT
} an_rule_id;

typedef struct an_rule {
    const char *id;         /* ours, stable: tests and an_count_rule() use it */
    const char *kind;       /* upstream's issue type (queryissue constants), or ours where upstream has none */
    const char *issue_type;
    const char *reason;     /* may hold one %s for the detail (a type, a method, a name) */
    const char *suggestion; /* may hold one %s, filled by an_report_full() */
    const char *gh;
    const char *docs;       /* full DocsLink, "" when upstream gives none */
    /* MinimumVersionsFixedIn as "series=version" pairs separated by ';', NULL when never fixed. */
    const char *min_fixed;
} an_rule;

extern const an_rule an_rules[R__COUNT];

/* One statement of a schema file. */
typedef struct an_stmt {
    char *file;
    int line;
    char *sql;       /* the statement text, trimmed */
    cJSON *root;     /* pg_query_parse result (owned), NULL when unparseable */
    const char *kind;/* node name: "CreateStmt"... ; NULL when unparseable */
    cJSON *node;     /* the statement's fields (borrowed from root) */
    char *obj_type;  /* what the statement is about */
    char *obj_name;
} an_stmt;

typedef struct an_column {
    char *name;
    char *type;      /* last name, lower case: "int4", "xml", "geometry", "mood" */
    bool array;
} an_column;

typedef struct an_table {
    char *key;       /* "schema.name" (public when unqualified) */
    char *parent;    /* partition or inheritance parent's key, or NULL */
    an_column *cols;
    size_t ncols, capcols;
    bool partitioned;
    bool part_expr;      /* some partition key is an expression */
    strlist part_cols;   /* plain partition key columns */
    strlist *indexes;    /* per index/PK/UK: its columns in order ("" for expressions) */
    size_t nindexes, capindexes;
} an_table;

struct analysis {
    an_stmt *stmts;
    size_t nstmts, capstmts;
    an_table *tables;
    size_t ntables, captables;
    strlist enums;       /* enum types, by their (lower case) names */
    strlist composites;  /* composite types: what upstream calls user-defined types */
    an_issue *issues;
    size_t nissues, capissues;
    an_objstat *objs;
    size_t nobjs, capobjs;
    bool ran;
    char *dumped_from;   /* pg_dump's "Dumped from database version" of the first file that has it */
    const an_stmt *owner; /* while checking DDL inside a routine's body: the routine, which every issue is on */
};

/* --- cJSON tree helpers (analyze_tree.c) --- */
/* The single node inside a wrapper {"Kind": {...}}; its kind in *kind. */
cJSON *an_unwrap(const cJSON *wrapped, const char **kind);
const char *an_str(const cJSON *obj, const char *key);       /* NULL when missing */
bool an_bool(const cJSON *obj, const char *key);
int an_int(const cJSON *obj, const char *key);
/* sval of a {"String": {"sval": ...}} node, or NULL. */
const char *an_sval(const cJSON *wrapped);
/* The last name of a List of String nodes (qualified name), or NULL. */
const char *an_last_name(const cJSON *names);
/* "a.b.c" from a List of String nodes; caller frees. */
char *an_join_names(const cJSON *names);
/* "schema.rel" from a RangeVar as written; caller frees. */
char *an_rangevar_name(const cJSON *rv);
/* "schema.rel" with public when unqualified, lower case is not applied (names are folded by the parser). */
char *an_rangevar_key(const cJSON *rv);
/* Call fn for every node {"Kind": {...}} under tree (depth first, tree itself included). */
typedef void (*an_visit_fn)(const char *kind, const cJSON *node, void *arg);
void an_walk(const cJSON *tree, an_visit_fn fn, void *arg);
/* Type name of a TypeName node: last name, lower case; *array when it has bounds. */
const char *an_type_name(const cJSON *type_name, bool *array);

/* --- statements (analyze_parse.c) --- */
/* Parse sql (one statement): JSON tree root, or NULL with error message/cursor (caller frees *err). */
cJSON *an_parse(const char *sql, char **err, int *cursor);

/* --- catalogue (analyze_catalog.c) --- */
void an_catalog_build(analysis *a);
an_table *an_table_find(analysis *a, const char *key);
an_table *an_table_find_rv(analysis *a, const cJSON *rangevar);
const an_column *an_column_find(const an_table *t, const char *name);
bool an_is_enum(const analysis *a, const char *type);
bool an_is_composite(const analysis *a, const char *type);

/* --- issues (analyze.c) --- */
/* Report rule for stmt; detail fills the rule's %s (may be NULL). */
void an_report(analysis *a, const an_stmt *st, an_rule_id rule, const char *detail);
/* Same, with an explicit object (index name, trigger name...). */
void an_report_obj(analysis *a, const an_stmt *st, an_rule_id rule, const char *detail,
                   const char *obj_type, const char *obj_name);
/*
 * Everything explicit: kind overrides the rule's (NULL: the rule's; must be a
 * static string), suggestion_arg fills the %s of the rule's suggestion, or
 * replaces a suggestion without %s when the rule's is empty (NULL: as is).
 */
void an_report_full(analysis *a, const an_stmt *st, an_rule_id rule, const char *detail, const char *kind,
                    const char *suggestion_arg, const char *obj_type, const char *obj_name);

/* --- rules --- */
void an_rules_ddl(analysis *a, const an_stmt *st);   /* analyze_rules_ddl.c */
void an_rules_types(analysis *a, const an_stmt *st); /* analyze_rules_types.c */
void an_rules_body(analysis *a, const an_stmt *st);  /* analyze_rules_body.c */
void an_rules_stmt(analysis *a, const an_stmt *st);  /* analyze_rules_stmt.c */
/* Checks on the text (also of statements that do not parse); whether any issue was reported. */
bool an_rules_text(analysis *a, const an_stmt *st);
/*
 * Features newer than our parser, named from the tokens of SQL it rejected.
 * an_classify_new_syntax() also says whether the match is certainly
 * unparseable by PostgreSQL 15 (0x1F, IS JSON, RETURNING inside json_query()).
 */
bool an_classify_new_syntax(const char *sql, an_rule_id *rule, char **detail, bool *certain);
/* The object a statement that does not parse is about, from its first words (CREATE VIEW v ...). */
bool an_guess_object(const char *sql, char **type, char **name);
bool an_classify_parse_error(const char *sql, int cursor, const char *msg, an_rule_id *rule,
                             char **detail);

#endif
