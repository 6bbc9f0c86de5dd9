/*
 * compare data: prove that a migrated copy holds the same rows as the source.
 *
 * For each database pair (source vs target, source vs source-replica) and each
 * table, row counts and an order-independent content checksum are computed
 * inside the databases, per primary-key range so that big tables run in
 * parallel chunks; on --level rows a mismatching range is walked in key order
 * on both sides to name the differing keys.
 *
 * Every session is REPEATABLE READ READ ONLY with a statement and lock
 * timeout, and the workers of one database share one exported snapshot, so
 * each side is read at a single point. Text forms are normalised the same way
 * on every session (see COMPARE_NORMALISED) before hashing.
 *
 * A source that is not PostgreSQL (MySQL/MariaDB, source->type "mysql") is read
 * through source/source.h: its rows in the text COPY form the snapshot export
 * writes, in one snapshot for every worker, each key range sent in batches to a
 * target session that parses them as the target table's row type and hashes
 * them with the target's own row-hash expression (docs/DECISIONS.md, "compare
 * data with a MySQL/MariaDB source"). Only the target is compared then: ranges split
 * on keys of the types the source compares as the target does (source_key_kind), --level count
 * counted by the source itself, --level rows keys computed on the target and merged in memory,
 * and during a live migration at the consistent point of the source snapshot's binlog position.
 *
 * The engine never sees the command line: the command fills a compare_spec
 * and gets an engine_status (core/engine.h) back.
 */
#ifndef VOYAGER_COMPARE_COMPARE_H
#define VOYAGER_COMPARE_COMPARE_H

#include "core/engine.h"
#include "db/dbconf.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What is normalised before hashing; the command's --help repeats it. */
#define COMPARE_NORMALISED                                                                         \
    "DateStyle ISO/YMD, TimeZone UTC, IntervalStyle postgres, extra_float_digits 3 (exact "      \
    "floats), bytea_output hex, lc_monetary C, numeric without trailing zeros (trim_scale, "      \
    "PostgreSQL 13+ on both sides); generated columns are left out. When every side is "         \
    "PostgreSQL 14+ (hash_record_extended), columns are hashed by their types' own hash "        \
    "functions, not their text: integers, boolean, date/time (not interval), uuid, bytea, text " \
    "and varchar (by their bytes, whatever the collation), floats (binary form), numeric (by "   \
    "value: 1.0 = 1.00, as trim_scale), jsonb (by jsonb equality, numbers inside by value too: " \
    "{\"a\": 1.0} = {\"a\": 1.00}), arrays of these but numeric and jsonb, domains over them; "   \
    "other columns (enums, interval, json, char(n), composite, range and geometric types...), "  \
    "and all of them on older servers, by their text form"

typedef enum compare_level { COMPARE_COUNT, COMPARE_CHECKSUM, COMPARE_ROWS } compare_level;

typedef struct compare_table_name {
    const char *schema; /* as in the catalog (unquoted) */
    const char *name;
} compare_table_name;

typedef struct compare_spec {
    compare_level level;
    int parallel;                 /* worker threads, >= 1 */
    int64_t max_diff_rows;        /* keys listed per table on --level rows */
    int statement_timeout_s;      /* per statement, 0: none */
    bool progress;                /* a progress line on stderr */
    db_conf *source;              /* passwords already resolved by the caller; type "mysql": through source.h */
    db_conf *copies[2];           /* target, source-replica: compared with source */
    size_t ncopies;
    const compare_table_name *tables; /* the migration's tables, same names on every side */
    size_t ntables;
    /*
     * A live migration before cutover: the copies are read at the running
     * migration's consistent point with the source snapshot (cdc/consistent_point.h),
     * through the export dir's catalog (engine_ctx.cat); refused when none can be had.
     */
    bool live;
    int point_timeout_s;
    bool text_hash_only;          /* hash rows' text forms even where native hashes agree (tests) */          /* how long to wait for the exporter and importers */
} compare_spec;

typedef enum compare_status {
    COMPARE_EQUAL = 0,
    COMPARE_DIFFERENT,
    COMPARE_MISSING,  /* the table is absent on one side */
    COMPARE_ERROR,    /* a query failed (detail says which side and why) */
} compare_status;

const char *compare_status_name(compare_status s); /* "EQUAL", "DIFFERENT", ... */

typedef struct compare_diff_key {
    const char *kind; /* "missing" (only on source), "extra" (only on the copy), "changed" */
    char *key;        /* the primary key's text form: (5) or (a,"B c") */
} compare_diff_key;

typedef struct compare_table_result {
    char *schema, *name;
    int64_t source_rows, copy_rows; /* -1: not known */
    compare_status status;
    char *detail;                   /* "" when equal */
    int64_t missing, extra, changed; /* --level rows: rows only on source / only on copy / differing */
    struct compare_diff_key *keys;  /* up to max_diff_rows, in key order per range */
    size_t nkeys;
    db_role failed_role;            /* with COMPARE_ERROR */
} compare_table_result;

typedef struct compare_pair_result {
    db_role copy_role;              /* DB_TARGET or DB_SOURCE_REPLICA */
    compare_table_result *tables;   /* spec->ntables entries, in spec order */
} compare_pair_result;

typedef struct compare_result {
    compare_pair_result pairs[2];
    size_t npairs;
    size_t ntables;
    bool interrupted;
    int64_t point_vsn;  /* live: the queue vsn every copy was read at; -1 otherwise */
} compare_result;

/*
 * Run the comparison (engine_ctx: the catalog for a live comparison, the
 * interrupt flag to stop early). Returns
 *   ENGINE_OK             every table equal on every pair;
 *   ENGINE_DATA_DIFFERS   a table differs or is missing on a side;
 *   ENGINE_SOURCE_FAILED  the source could not be connected to, snapshotted or read;
 *   ENGINE_TARGET_FAILED  the same on the target or source-replica;
 *   ENGINE_BAD_STATE      live: no consistent point (no exporter or importer
 *                         answered), or interrupted: the comparison is incomplete.
 * Errors are logged. out->npairs > 0 when the tables were compared (the
 * report, even when some failed or the run was interrupted); the caller frees
 * out with compare_result_free() in every case.
 */
engine_status compare_run(engine_ctx *ctx, const compare_spec *spec, compare_result *out);
void compare_result_free(compare_result *r);

/* Aggregates over the result. */
bool compare_result_all_equal(const compare_result *r);
/* The first table with COMPARE_ERROR, or NULL. */
const compare_table_result *compare_result_first_error(const compare_result *r);

/* Reports: text table per pair (caller frees), JSON (caller owns). */
char *compare_render_text(const compare_result *r, compare_level level);
struct cJSON;
struct cJSON *compare_render_json(const compare_result *r, compare_level level);

#endif
