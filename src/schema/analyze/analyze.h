/*
 * analyze-schema: read the exported schema files, parse every statement with
 * libpg_query and report what YugabyteDB does not support or what needs a
 * manual change (the rules catalogue of SPEC.md, one detector per rule).
 *
 * Use: an_new(); an_add_sql() for each file (or an_add_dir() for schema/);
 * an_run(); then read the issues or build the report (analyze_report.h);
 * an_free(). Two passes because several rules need the whole schema (is this
 * table partitioned? which indexes does it have? is this a user-defined type?).
 */
#ifndef VOYAGER_SCHEMA_ANALYZE_H
#define VOYAGER_SCHEMA_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>

/* Issue categories (the report's IssueType). */
#define AN_UNSUPPORTED_FEATURES "unsupported_features"
#define AN_UNSUPPORTED_DATATYPES "unsupported_datatypes"
#define AN_UNSUPPORTED_PLPGSQL "unsupported_plpgsql_objects"
#define AN_MIGRATION_CAVEATS "migration_caveats"
#define AN_SYNTAX_ERROR "syntax_error"
/* Types live migration does not stream: the schema imports, only live migration of the table is affected. */
#define AN_LIVE_DATATYPES "unsupported_datatypes_live_migration"
#define AN_LIVE_FB_FF_DATATYPES "unsupported_datatypes_live_migration_with_ff_fb"

/* One reported issue; every string owned by the analysis. */
typedef struct an_issue {
    const char *rule;        /* the catalogue rule id ("stored_generated_columns"), for tests */
    const char *kind;        /* upstream's issue type ("STORED_GENERATED_COLUMNS"): not in the report, as upstream */
    const char *issue_type;  /* AN_* category */
    char *object_type;       /* "TABLE", "INDEX", "FUNCTION", ... */
    char *object_name;
    char *reason;
    char *sql;
    char *file_path;         /* relative to the export dir when read from one */
    int line;                /* 1-based line of the statement (or of the syntax error) */
    char *suggestion;
    const char *gh;
    char *docs_link;
    const char *min_fixed;   /* MinimumVersionsFixedIn as "series=version;...", NULL when none */
    size_t order;            /* statement index, then detection order: the report's order */
} an_issue;

/* Objects of one type seen in the schema. */
typedef struct an_objstat {
    char *object_type;
    char **names; /* in order of appearance, one per CREATE (overloads repeat a name) */
    size_t count;
    size_t cap;
    char *details;  /* what the summary says about the type as a whole ("" when nothing) */
} an_objstat;

typedef struct analysis analysis;

analysis *an_new(void);
void an_free(analysis *a);

/* Queue the statements of one file (path as shown in the report). Never fails on bad SQL: that is an issue. */
void an_add_sql(analysis *a, const char *path, const char *sql);

/*
 * Queue every *.sql file under schema_dir (recursively, sorted, except
 * failed.sql); paths are shown relative to base (the export dir). Returns the
 * number of files found, -1 after a logged error reading them.
 */
int an_add_dir(analysis *a, const char *schema_dir, const char *base);

/* Run every rule over everything queued. */
void an_run(analysis *a);

/*
 * Add an issue found outside the SQL files (a source's schema conversion, e.g. what
 * export schema from MySQL could not convert): category AN_UNSUPPORTED_FEATURES, rule
 * "source_conversion", reported after the issues of the files. Strings are copied.
 */
void an_add_source_issue(analysis *a, const char *object_type, const char *object_name, const char *reason,
                         const char *suggestion, const char *file_path);

size_t an_issue_count(const analysis *a);
const an_issue *an_issue_at(const analysis *a, size_t i);
/* How many issues of rule (and, when object_name is not NULL, of that object). */
size_t an_count_rule(const analysis *a, const char *rule, const char *object_name);

/*
 * Schemas the files create objects in (CREATE SCHEMA, schema-qualified tables),
 * comma-separated in order of appearance; for the report when the status
 * record does not name them. Caller frees.
 */
char *an_schema_names(const analysis *a);

/* The source version pg_dump wrote in a file's header ("15.6"), NULL when no file has one. Owned by a. */
const char *an_dumped_from(const analysis *a);

size_t an_objstat_count(const analysis *a);
const an_objstat *an_objstat_at(const analysis *a, size_t i);

#endif
