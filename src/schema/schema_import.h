/*
 * Applying schema/ files to the target, statement by statement, in a
 * dependency-safe order, with progress in meta.db so a re-run resumes.
 *
 * Progress table (meta.db): schema_import_progress(target, file, stmt_hash,
 * nth, stmt_index, state, error); target is "host:port/dbname", so progress
 * against one database never stands for another. A statement is identified by its file, the hash
 * of its text and which occurrence of that text it is in the file, so editing
 * one statement of a file (to fix it) does not make the others run again.
 * state: 'started' (written before running it), 'done', 'failed', 'deferred'
 * (failed on a missing dependency; retried after the rest), 'finalize' (needs
 * a post-data object, e.g. a foreign key on columns that only a unique index
 * covers, or goes after the data, e.g. a NOT VALID constraint: applied by the
 * post-data run after the indexes).
 */
#ifndef VOYAGER_SCHEMA_SCHEMA_IMPORT_H
#define VOYAGER_SCHEMA_SCHEMA_IMPORT_H

#include "catalog/catalog.h"
#include "core/engine.h"
#include "db/dbconf.h"
#include "db/pgconn.h"
#include "schema/schema_objtype.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct schema_import_opts {
    const char *schema_dir;      /* <export-dir>/schema */
    const char *target_id;       /* "host:port/dbname" of the target */
    schema_obj order[OBJ_COUNT]; /* types to apply, in this order */
    int n;
    bool ignore_exist;
    bool continue_on_error;
    bool post_data;              /* the post-data run: also applies what waits for it ('finalize') */
    const volatile sig_atomic_t *interrupted; /* set by a signal handler: stop between statements */
} schema_import_opts;

typedef struct schema_import_stats {
    size_t applied;     /* run now and committed */
    size_t already;     /* applied by an earlier run (progress table) */
    size_t existed;     /* skipped: object already exists (--ignore-exist) */
    size_t failed;      /* written to failed.sql (--continue-on-error) */
    size_t postponed;   /* pre-data statements left for the post-data run ('finalize') on a missing object */
    size_t after_data;  /* NOT VALID constraints, FORCE RLS: left for the post-data run ('finalize') */
    size_t pending;     /* post-data run: 'finalize' statements not applied (INDEX not selected) */
} schema_import_stats;

/*
 * Forget the progress of the files of these types (--start-clean). With
 * post_data also that of the pre-data statements postponed to the post-data
 * run, which that run applies.
 */
bool schema_import_progress_reset(catalog *m, const char *target, const schema_obj *types, int n, bool post_data);

/*
 * Parse every statement of the files to apply before touching the target, so
 * a broken file is reported (file, line, parser message) with nothing applied.
 * libpg_query speaks PostgreSQL 15: with strict false (a YugabyteDB or newer
 * target, whose grammar is a superset) a statement it rejects is only warned
 * about and left for the server to judge.
 */
bool schema_import_precheck(const schema_import_opts *o, bool strict);

/* Session settings pg_dump's output expects; search_path = target_schema. */
bool schema_import_session(pgconn *c, const char *target_schema);

/*
 * Apply. Returns false after one error line naming file, line, statement start
 * and the server's error (or when a failure under --continue-on-error could
 * not be recorded).
 */
bool schema_import_apply(pgconn *c, catalog *m, const schema_import_opts *o, schema_import_stats *st);

/*
 * REFRESH MATERIALIZED VIEW for every view of mviews/mview.sql, in file order,
 * except those named in unfilled ("schema"."name": unfilled on the source).
 * *count: refreshed, *left: left unfilled.
 */
bool schema_import_refresh_mviews(pgconn *c, const char *schema_dir, const strlist *unfilled, size_t *count,
                                  size_t *left);

/* What import schema (and finalize-schema-post-data-import) is asked to do. */
typedef struct schema_import_spec {
    schema_obj order[OBJ_COUNT]; /* the types this run applies, in this order */
    int n;
    db_conf *target;             /* keeps a password typed at the prompt */
    const char *target_schema;   /* one schema name: search_path of the session */
    bool create_target_schema;   /* --target-db-schema given: create it when missing */
    bool post_data;              /* --post-snapshot-import / finalize-schema-post-data-import */
    bool refresh_mviews;         /* only with post_data */
    bool ignore_exist;
    bool continue_on_error;
    bool start_clean;            /* forget earlier progress: everything runs again */
} schema_import_spec;

/*
 * The whole run: check the export dir's state, connect to the target, apply
 * the types of spec->order with progress in meta.db, refresh materialized
 * views when asked, and record ImportSchemaDone / PostSnapshotImportDone.
 */
engine_status schema_import_run(const engine_ctx *eng, const schema_import_spec *spec);

#endif
