#include "schema/schema_import.h"

#include "catalog/schema_state.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"
#include "db/connect.h"
#include "db/retry.h"
#include "schema/schema_classify.h"
#include "schema/schema_export.h"
#include "schema/schema_sql.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct work_item {
    const char *file; /* relative to schema/, static (schema_obj_file) */
    size_t index;     /* statement number in the file, from 0 */
    int line;
    char *sql;        /* owned */
    char hash[17];
    int nth;          /* occurrence of this exact text in the file */
    bool create_schema;
    const char *exists_state; /* also means "already exists" for this kind of statement (static) */
    char *attach_parent, *attach_child; /* ATTACH PARTITION: quoted names (owned) */
    bool on_post_data; /* names an index, trigger or constraint, which the post-data run may create */
    bool after_data;   /* NOT VALID constraint, FORCE ROW LEVEL SECURITY: the post-data run applies it */
    char *last_error; /* when deferred */
    char last_state[6]; /* SQLSTATE, when deferred */
} work_item;

typedef struct work_list {
    work_item *items;
    size_t count, cap;
} work_list;

static void work_push(work_list *l, work_item it)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = it;
}

static void work_free(work_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].sql);
        free(l->items[i].last_error);
        free(l->items[i].attach_parent);
        free(l->items[i].attach_child);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

bool schema_import_progress_reset(catalog *m, const char *target, const schema_obj *types, int n, bool post_data)
{
    const char *files[OBJ_COUNT];
    size_t nfiles = 0;
    for (int i = 0; i < n && nfiles < OBJ_COUNT; i++)
        files[nfiles++] = schema_obj_file(types[i]);
    /* the post-data run also applies the postponed statements of pre-data files again */
    return schema_progress_forget(m, target, files, nfiles, post_data);
}

static schema_stmt_key key_of(const char *target, const work_item *it)
{
    return (schema_stmt_key){target, it->file, it->hash, it->nth};
}

/* The recorded state of a statement ("" when never tried). */
static void progress_get(catalog *m, const char *target, const work_item *it, char state[16])
{
    schema_stmt_key k = key_of(target, it);
    schema_progress_get(m, &k, state);
}

static bool progress_set(catalog *m, const char *target, const work_item *it, const char *state,
                         const char *error)
{
    schema_stmt_key k = key_of(target, it);
    return schema_progress_set(m, &k, it->index, state, error);
}

static bool postponed_add(catalog *m, const char *target, const work_item *it)
{
    schema_stmt_key k = key_of(target, it);
    return schema_postponed_add(m, &k);
}

static bool postponed_has(catalog *m, const char *target, const char *file, const char *hash, int nth)
{
    schema_stmt_key k = {target, file, hash, nth};
    return schema_postponed_has(m, &k);
}

/* Load one file's statements. Missing file: true with nothing. */
static bool load_file(const char *schema_dir, schema_obj t, schema_stmts *out, bool *present)
{
    char *path = xasprintf("%s/%s", schema_dir, schema_obj_file(t));
    char *text = NULL;
    size_t len = 0;
    *present = false;
    memset(out, 0, sizeof *out);
    bool ok = true;
    if (fs_exists(path)) {
        *present = true;
        if (!fs_read_all(path, &text, &len)) {
            log_error("cannot read %s: %s", path, strerror(errno));
            ok = false;
        } else {
            char *err = NULL;
            if (!schema_sql_split(text, false, out, &err)) {
                log_report(LOG_ERROR, NULL, "fix the file and run import schema again", "%s %s", path, err);
                free(err);
                ok = false;
            }
        }
    }
    free(text);
    free(path);
    return ok;
}

bool schema_import_precheck(const schema_import_opts *o, bool strict)
{
    for (int i = 0; i < o->n; i++) {
        schema_stmts s;
        bool present;
        if (!load_file(o->schema_dir, o->order[i], &s, &present))
            return false;
        for (size_t k = 0; k < s.count; k++) {
            const cJSON *node;
            char *err = NULL;
            int pos = 0;
            cJSON *root = schema_sql_parse(s.items[k].sql, &node, &err, &pos);
            if (!root) {
                int line = s.items[k].line;
                for (int p = 0; pos > 0 && p < pos - 1 && s.items[k].sql[p]; p++)
                    if (s.items[k].sql[p] == '\n')
                        line++;
                if (!strict) {
                    log_report(LOG_WARN, NULL, "sending it to the target as it is",
                               "%s/%s line %d: %s (PostgreSQL 15 grammar)", o->schema_dir,
                               schema_obj_file(o->order[i]), line, err);
                    free(err);
                    continue;
                }
                log_report(LOG_ERROR, NULL, "fix the file and run import schema again", "%s/%s line %d: %s",
                           o->schema_dir, schema_obj_file(o->order[i]), line, err);
                free(err);
                schema_stmts_free(&s);
                return false;
            }
            cJSON_Delete(root);
        }
        schema_stmts_free(&s);
    }
    return true;
}

bool schema_import_session(pgconn *c, const char *target_schema)
{
    static const char *const settings[] = {
        "SET statement_timeout = 0",        "SET lock_timeout = 0",
        "SET client_encoding = 'UTF8'",     "SET standard_conforming_strings = on",
        "SET check_function_bodies = false", "SET xmloption = content",
        "SET client_min_messages = warning", "SET row_security = off",
    };
    for (size_t i = 0; i < ARRAY_LEN(settings); i++)
        if (!pgconn_exec(c, settings[i]))
            return false;
    char *q = pg_quote_ident(target_schema ? target_schema : "public");
    const char *p[1] = {q};
    bool ok = pgconn_exec_params(c, "SELECT pg_catalog.set_config('search_path', $1, false)", 1, p);
    free(q);
    return ok;
}

/* The start of a statement on one line, for messages. Caller frees. */
static char *stmt_head(const char *sql)
{
    strbuf sb = STRBUF_INIT;
    bool space = false;
    for (const char *p = sql; *p && sb.len < 70; p++) {
        if (*p == '\n' || *p == '\t' || *p == ' ' || *p == '\r') {
            space = true;
            continue;
        }
        if (space && sb.len)
            strbuf_append_char(&sb, ' ');
        space = false;
        strbuf_append_char(&sb, *p);
    }
    if (strlen(sql) > sb.len)
        strbuf_append(&sb, "...");
    return strbuf_detach(&sb);
}

/* The server's message without libpq's "ERROR:  " prefix, first line only. Caller frees. */
static char *first_line(const char *msg)
{
    if (msg && strncmp(msg, "ERROR:  ", 8) == 0)
        msg += 8;
    char *s = xstrdup(msg ? msg : "");
    s[strcspn(s, "\n")] = '\0';
    return s;
}

static bool is_exists_error(const char *state)
{
    static const char *const codes[] = {"42P07", "42710", "42P06", "42723", "42701", "42P04", "42712", "42P05"};
    for (size_t i = 0; i < ARRAY_LEN(codes); i++)
        if (str_eq(state, codes[i]))
            return true;
    return false;
}

/*
 * Whether the error state of it means its object exists: a duplicate_* code,
 * or the statement kind's own code. ATTACH PARTITION's 42809 is "already a
 * partition" of any table, so the catalogue must show the child attached to
 * this parent.
 */
static bool already_exists(pgconn *c, const work_item *it, const char *state)
{
    if (is_exists_error(state))
        return true;
    if (!it->exists_state || !str_eq(state, it->exists_state))
        return false;
    if (!it->attach_child)
        return true;
    const char *p[2] = {it->attach_child, it->attach_parent};
    char *v = pgconn_query_value(c,
                                 "SELECT 1 FROM pg_catalog.pg_inherits WHERE inhrelid = pg_catalog.to_regclass($1) "
                                 "AND inhparent = pg_catalog.to_regclass($2)",
                                 2, p);
    bool yes = v != NULL;
    free(v);
    return yes;
}

/* Errors that mean "something it needs is not there yet": retried after the rest. */
static bool is_dependency_error(const char *state)
{
    static const char *const codes[] = {"42P01", "42704", "42883", "3F000"};
    for (size_t i = 0; i < ARRAY_LEN(codes); i++)
        if (str_eq(state, codes[i]))
            return true;
    return false;
}

/*
 * The error that means "this needs an index the post-data run creates": a
 * foreign key on columns only a unique index covers (42830). (ON CONFLICT
 * finds its index when planned, not when a routine or rule is created.)
 */
static bool needs_post_data(const char *state)
{
    return str_eq(state, "42830");
}

static bool append_failed(const char *schema_dir, const work_item *it, const char *error, const char *state)
{
    char *path = xasprintf("%s/failed.sql", schema_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    if (ok) {
        char *text = xasprintf("/*\nERROR: %s (SQLSTATE %s)\nFILE: %s line %d\n*/\n%s;\n\n", error, state,
                               it->file, it->line, it->sql);
        size_t len = strlen(text), off = 0;
        while (ok && off < len) {
            ssize_t w = write(fd, text + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            ok = w > 0;
            off += w > 0 ? (size_t)w : 0;
        }
        ok = ok && fsync(fd) == 0;
        close(fd);
        free(text);
    }
    if (!ok)
        log_error("cannot write %s: %s", path, strerror(errno));
    free(path);
    return ok;
}

typedef enum { RUN_OK, RUN_DEFER, RUN_POSTPONE, RUN_FAIL, RUN_FATAL } run_result;

/*
 * Run one statement: RUN_OK (applied or legitimately skipped), RUN_DEFER,
 * RUN_POSTPONE (left for the post-data run), RUN_FAIL (recorded), RUN_FATAL.
 */
static run_result run_item(pgconn *c, catalog *m, const schema_import_opts *o, work_item *it, bool final,
                           schema_import_stats *st)
{
    char prev[16];
    progress_get(m, o->target_id, it, prev);
    if (strcmp(prev, "done") == 0) {
        st->already++;
        return RUN_OK;
    }
    if (it->after_data && !o->post_data) {
        /* as pg_dump orders them: before the data they would reject or hide rows import data loads */
        log_info("%s line %d: left for finalize-schema-post-data-import (applied after the data)", it->file,
                 it->line);
        st->after_data++;
        return postponed_add(m, o->target_id, it) && progress_set(m, o->target_id, it, "finalize", NULL)
                   ? RUN_POSTPONE
                   : RUN_FATAL;
    }
    if (!progress_set(m, o->target_id, it, "started", NULL))
        return RUN_FATAL;
    /*
     * YugabyteDB fails DDL run while other DDL changes the catalog ("schema
     * version mismatch", "conflicts with higher priority transaction", 40001):
     * the statement did not commit, so it is run again, as upstream does.
     */
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    PGresult *r;
    while (!(r = pgconn_query_quiet(c, it->sql, 0, NULL)) && PQstatus(c->pg) == CONNECTION_OK &&
           c->last_error_retryable && retry_failed(&rs)) {
        char *why = first_line(PQerrorMessage(c->pg));
        log_warn("%s line %d: %s; retrying (attempt %d, giving up after %llds)", it->file, it->line, why,
                 rs.attempt + 1, (long long)(rs.policy.deadline_ms / 1000));
        free(why);
        retry_backoff(&rs, NULL);
    }
    if (r) {
        PQclear(r);
        st->applied++;
        return progress_set(m, o->target_id, it, "done", NULL) ? RUN_OK : RUN_FATAL;
    }
    char *msg = first_line(PQerrorMessage(c->pg));
    char state[sizeof c->sqlstate]; /* already_exists() may run a query */
    snprintf(state, sizeof state, "%s", c->sqlstate);
    run_result rr;
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        log_report(LOG_ERROR, NULL, "run import schema again to resume",
                   "lost the connection to the target while applying %s line %d: %s", it->file,
                   it->line, msg);
        rr = RUN_FATAL;
    } else if ((o->ignore_exist || it->create_schema || strcmp(prev, "started") == 0) &&
               already_exists(c, it, state)) {
        /*
         * "started" without "done": the previous run died between the commit on
         * the target and the record here, so the object is ours.
         */
        log_info("%s line %d: already exists, skipped (%s)", it->file, it->line, msg);
        st->existed++;
        rr = progress_set(m, o->target_id, it, "done", NULL) ? RUN_OK : RUN_FATAL;
    } else if (!final && (is_dependency_error(state) || needs_post_data(state))) {
        log_debug("%s line %d: deferred (%s)", it->file, it->line, msg);
        free(it->last_error);
        it->last_error = xstrdup(msg);
        snprintf(it->last_state, sizeof it->last_state, "%s", state);
        /* not "started": it did not commit, so a later "already exists" is not ours */
        rr = progress_set(m, o->target_id, it, "deferred", msg) ? RUN_DEFER : RUN_FATAL;
    } else if (!o->post_data && (needs_post_data(state) || (is_dependency_error(state) && it->on_post_data))) {
        /*
         * What the post-data run creates may be what is missing: only for a
         * statement naming an index, trigger or constraint (which the
         * post-data run may create). Any other missing dependency is a failure
         * now, not a surprise for import data.
         */
        log_info("%s line %d: left for finalize-schema-post-data-import (%s)", it->file, it->line, msg);
        st->postponed++;
        rr = postponed_add(m, o->target_id, it) && progress_set(m, o->target_id, it, "finalize", msg) ? RUN_POSTPONE
                                                                                                   : RUN_FATAL;
    } else if (o->continue_on_error) {
        log_warn("%s line %d failed, recorded in failed.sql: %s", it->file, it->line, msg);
        st->failed++;
        rr = append_failed(o->schema_dir, it, msg, state) && progress_set(m, o->target_id, it, "failed", msg) ? RUN_FAIL
                                                                                                : RUN_FATAL;
    } else {
        char *head = stmt_head(it->sql);
        log_report(LOG_ERROR, NULL,
                   is_exists_error(state) ? "use --ignore-exist to skip objects that exist" : NULL,
                   "%s/%s line %d (%s): %s (SQLSTATE %s)", o->schema_dir, it->file, it->line, head,
                   msg, state);
        free(head);
        progress_set(m, o->target_id, it, "failed", msg);
        rr = RUN_FATAL;
    }
    free(msg);
    return rr;
}

static bool is_table_group(schema_obj t)
{
    return t == OBJ_TABLE || t == OBJ_PARTITION || t == OBJ_FOREIGN_TABLE;
}

typedef struct hashed {
    char hash[17];
    size_t k;
} hashed;

static int cmp_hashed(const void *a, const void *b)
{
    const hashed *x = a, *y = b;
    int c = strcmp(x->hash, y->hash);
    return c ? c : (x->k > y->k) - (x->k < y->k);
}

/*
 * For each statement of a file, how many identical statements come before it
 * (the same text twice in one file is two statements). Caller frees.
 */
static int *occurrences(const schema_stmts *s)
{
    size_t n = s->count ? s->count : 1;
    hashed *h = xcalloc(n, sizeof *h);
    int *nth = xcalloc(n, sizeof *nth);
    for (size_t k = 0; k < s->count; k++) {
        schema_sql_hash(s->items[k].sql, h[k].hash);
        h[k].k = k;
    }
    qsort(h, s->count, sizeof *h, cmp_hashed);
    for (size_t i = 1; i < s->count; i++)
        if (strcmp(h[i].hash, h[i - 1].hash) == 0)
            nth[h[i].k] = nth[h[i - 1].k] + 1;
    free(h);
    return nth;
}

/*
 * The statements of file t: all of them into out (foreign keys into fks when
 * fks is given), or with postponed_only only those the pre-data run left for
 * the post-data run.
 */
static bool push_file(catalog *m, const schema_import_opts *o, schema_obj t, bool postponed_only, work_list *out,
                      work_list *fks)
{
    schema_stmts s;
    bool present;
    if (!load_file(o->schema_dir, t, &s, &present))
        return false;
    int *nth = occurrences(&s);
    for (size_t k = 0; k < s.count; k++) {
        work_item it = {0};
        it.file = schema_obj_file(t);
        schema_sql_hash(s.items[k].sql, it.hash);
        it.nth = nth[k];
        if (postponed_only && !postponed_has(m, o->target_id, it.file, it.hash, it.nth))
            continue;
        it.index = k;
        it.line = s.items[k].line;
        it.sql = s.items[k].sql;
        s.items[k].sql = NULL;
        const cJSON *node = NULL;
        char *err = NULL;
        cJSON *root = schema_sql_parse(it.sql, &node, &err, NULL);
        bool fk = root && schema_stmt_is_fk(node);
        it.create_schema = root && schema_stmt_is_create_schema(node);
        it.exists_state = root ? schema_stmt_exists_state(node) : NULL;
        if (root)
            schema_stmt_attach_names(node, &it.attach_parent, &it.attach_child);
        it.on_post_data = root && schema_stmt_on_post_data(node);
        it.after_data = root && schema_stmt_after_data(node);
        cJSON_Delete(root);
        free(err);
        work_push(fk && fks ? fks : out, it);
    }
    free(nth);
    schema_stmts_free(&s);
    return true;
}

/* Statements of pre-data files that wait for the post-data run. */
static bool push_postponed(catalog *m, const schema_import_opts *o, work_list *out)
{
    for (int t = 0; t < OBJ_COUNT; t++)
        if (!schema_obj_is_post_data((schema_obj)t) && !push_file(m, o, (schema_obj)t, true, out, NULL))
            return false;
    return true;
}

/*
 * The statements of every file in order; FOREIGN KEYs after the last
 * table-like file. The post-data run adds what the pre-data run postponed
 * right after the indexes (counted in *pending when INDEX is not applied).
 */
static bool build_work(catalog *m, const schema_import_opts *o, work_list *out, size_t *pending)
{
    work_list fks = {0};
    bool ok = true, indexes = false;
    for (int i = 0; i < o->n && ok; i++) {
        schema_obj t = o->order[i];
        if (fks.count && !is_table_group(t)) {
            for (size_t k = 0; k < fks.count; k++)
                work_push(out, fks.items[k]);
            fks.count = 0;
        }
        ok = push_file(m, o, t, false, out, &fks);
        if (ok && t == OBJ_INDEX && o->post_data) {
            ok = push_postponed(m, o, out);
            indexes = true;
        }
    }
    for (size_t k = 0; k < fks.count; k++)
        work_push(out, fks.items[k]);
    free(fks.items);
    if (ok && o->post_data && !indexes) {
        work_list later = {0};
        ok = push_postponed(m, o, &later);
        for (size_t k = 0; k < later.count; k++) {
            char state[16];
            progress_get(m, o->target_id, &later.items[k], state);
            *pending += strcmp(state, "done") != 0;
        }
        work_free(&later);
    }
    return ok;
}

bool schema_import_apply(pgconn *c, catalog *m, const schema_import_opts *o, schema_import_stats *st)
{
    memset(st, 0, sizeof *st);
    work_list work = {0};
    if (!build_work(m, o, &work, &st->pending)) {
        work_free(&work);
        return false;
    }
    size_t *deferred = xcalloc(work.count ? work.count : 1, sizeof *deferred);
    size_t ndef = 0;
    bool ok = true;
    for (size_t i = 0; i < work.count && ok; i++) {
        if (o->interrupted && *o->interrupted) {
            log_report(LOG_ERROR, NULL, "run the same command again to resume",
                       "interrupted after %zu statement(s)", st->applied);
            ok = false;
            break;
        }
        run_result rr = run_item(c, m, o, &work.items[i], false, st);
        if (rr == RUN_DEFER)
            deferred[ndef++] = i;
        else if (rr == RUN_FATAL)
            ok = false;
    }
    /* Retry what waited for a dependency while that makes progress; then for real. */
    bool progress = true;
    while (ok && ndef && progress) {
        progress = false;
        size_t keep = 0;
        for (size_t k = 0; k < ndef && ok; k++) {
            run_result rr = run_item(c, m, o, &work.items[deferred[k]], false, st);
            if (rr == RUN_DEFER)
                deferred[keep++] = deferred[k];
            else if (rr == RUN_FATAL)
                ok = false;
            else
                progress = true;
        }
        ndef = keep;
    }
    for (size_t k = 0; k < ndef && ok; k++)
        ok = run_item(c, m, o, &work.items[deferred[k]], true, st) != RUN_FATAL;
    free(deferred);
    work_free(&work);
    return ok;
}

bool schema_import_refresh_mviews(pgconn *c, const char *schema_dir, const strlist *unfilled, size_t *count,
                                  size_t *left)
{
    *count = *left = 0;
    schema_stmts s;
    bool present;
    if (!load_file(schema_dir, OBJ_MVIEW, &s, &present))
        return false;
    bool ok = true;
    for (size_t k = 0; k < s.count && ok; k++) {
        const cJSON *node;
        char *err = NULL;
        cJSON *root = schema_sql_parse(s.items[k].sql, &node, &err, NULL);
        char *name = root ? schema_stmt_mview_name(node) : NULL;
        if (name && strlist_contains(unfilled, name)) {
            log_info("materialized view %s is left unfilled, as on the source", name);
            (*left)++;
        } else if (name) {
            char *sql = xasprintf("REFRESH MATERIALIZED VIEW %s", name);
            ok = pgconn_exec(c, sql);
            if (ok)
                (*count)++;
            else
                log_error("cannot refresh materialized view %s (see the error above)", name);
            free(sql);
        }
        free(name);
        free(err);
        cJSON_Delete(root);
    }
    schema_stmts_free(&s);
    return ok;
}

static bool create_target_schema(pgconn *c, const char *name)
{
    const char *p[1] = {name};
    char *v = pgconn_query_value(c, "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", 1, p);
    if (v) {
        free(v);
        return true;
    }
    if (c->sqlstate[0])
        return false;
    char *q = pg_quote_ident(name);
    char *sql = xasprintf("CREATE SCHEMA IF NOT EXISTS %s", q);
    bool ok = pgconn_exec(c, sql);
    if (ok)
        log_say("created schema %s on the target", q);
    free(sql);
    free(q);
    return ok;
}

/* Every pre-data statement that failed before runs again: failed.sql starts over. */
static void remove_failed_sql(const char *schema_dir)
{
    char *failed = xasprintf("%s/failed.sql", schema_dir);
    unlink(failed);
    free(failed);
}

static void say_stats(const schema_import_spec *spec, const schema_import_stats *st, const char *schema_dir)
{
    log_say("import schema%s: %zu statement%s applied, %zu already applied by an earlier run, "
            "%zu skipped (already existed), %zu failed",
            spec->post_data ? " (post-snapshot)" : "", st->applied, st->applied == 1 ? "" : "s",
            st->already, st->existed, st->failed);
    bool one = st->postponed == 1;
    if (st->postponed)
        log_say("%zu statement%s wait%s for finalize-schema-post-data-import: %s an index, trigger or "
                "constraint it creates (a comment on one, a foreign key on columns only a unique index covers)",
                st->postponed, one ? "" : "s", one ? "s" : "", one ? "it needs" : "they need");
    one = st->after_data == 1;
    if (st->after_data)
        log_say("%zu statement%s left for finalize-schema-post-data-import, which applies %s after the data, "
                "as pg_dump does (NOT VALID constraints, FORCE ROW LEVEL SECURITY)",
                st->after_data, one ? " is" : "s are", one ? "it" : "them");
    if (st->pending)
        log_report(LOG_WARN, NULL, "include INDEX in --object-type-list to apply them",
                   "%zu statement(s) left by import schema still wait for the indexes", st->pending);
    if (st->failed) {
        char *hint = xasprintf("see %s/failed.sql, fix them and apply them by hand or run import "
                               "schema again",
                               schema_dir);
        log_report(LOG_WARN, NULL, hint, "%zu statement(s) failed", st->failed);
        free(hint);
    }
}

engine_status schema_import_run(const engine_ctx *eng, const schema_import_spec *spec)
{
    bool post = spec->post_data;
    const char *done_key = post ? "PostSnapshotImportDone" : "ImportSchemaDone";
    char *schema_dir = xasprintf("%s/schema", eng->export_dir);
    const db_conf *conf = spec->target;
    char *target_id = xasprintf("%s:%d/%s", conf->host ? conf->host : "", conf->port,
                                conf->name ? conf->name : "");
    schema_import_opts o = {.schema_dir = schema_dir, .target_id = target_id, .n = spec->n,
                            .ignore_exist = spec->ignore_exist,
                            .continue_on_error = spec->continue_on_error, .post_data = post,
                            .interrupted = eng->interrupted};
    memcpy(o.order, spec->order, sizeof o.order);
    engine_status rc = ENGINE_OK;
    pgconn *c = NULL;

    if (fs_dir_is_empty(schema_dir)) {
        log_report(LOG_ERROR, NULL, "run 'yb-voyager export schema' first", "no exported schema in %s",
                   schema_dir);
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    if (post && !catalog_status_get_bool(eng->cat, "ImportSchemaDone")) {
        log_report(LOG_ERROR, NULL,
                   "run 'yb-voyager import schema' without --post-snapshot-import first, then "
                   "import data",
                   "the schema is not imported yet");
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    if (o.n == 0)
        log_warn("no object type left to apply with these flags (INDEX and TRIGGER are applied only with "
                 "--post-snapshot-import true, every other type only without it)");
    c = db_connect_recorded(eng->cat, spec->target, NULL);
    if (!c) {
        rc = ENGINE_TARGET_FAILED;
        goto out;
    }
    /* the server's grammar is libpg_query's (PostgreSQL 15) unless it is YugabyteDB or newer */
    if (!schema_import_precheck(&o, !c->is_yugabyte && c->server_version_num < 160000)) {
        rc = ENGINE_BAD_STATE;
        goto out;
    }
    if (spec->start_clean) {
        /* Drops nothing on the target: forgets what was applied, so all of it runs again. */
        log_info("--start-clean: forgetting earlier progress of import schema");
        if (!schema_import_progress_reset(eng->cat, target_id, o.order, o.n, post)) {
            rc = ENGINE_BAD_STATE;
            goto out;
        }
        remove_failed_sql(schema_dir);
        catalog_status_set_bool(eng->cat, done_key, false);
    }
    if (!post)
        remove_failed_sql(schema_dir);
    if ((spec->create_target_schema && !create_target_schema(c, spec->target_schema)) ||
        !schema_import_session(c, spec->target_schema)) {
        rc = ENGINE_TARGET_FAILED;
        goto out;
    }
    schema_import_stats st;
    if (!schema_import_apply(c, eng->cat, &o, &st)) {
        rc = ENGINE_TARGET_FAILED;
        goto out;
    }
    say_stats(spec, &st, schema_dir);
    if (spec->refresh_mviews) {
        size_t n = 0, left = 0;
        strlist unfilled = STRLIST_INIT;
        cJSON *rec = catalog_status_load(eng->cat);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rec, SCHEMA_UNPOPULATED_MVIEWS_KEY))
            if (cJSON_IsString(it))
                strlist_push(&unfilled, it->valuestring);
        cJSON_Delete(rec);
        bool ok = schema_import_refresh_mviews(c, schema_dir, &unfilled, &n, &left);
        strlist_free(&unfilled);
        if (!ok) {
            rc = ENGINE_TARGET_FAILED;
            goto out;
        }
        if (left)
            log_say("refreshed %zu materialized view%s; %zu left unfilled, as on the source", n,
                    n == 1 ? "" : "s", left);
        else
            log_say("refreshed %zu materialized view%s", n, n == 1 ? "" : "s");
        catalog_status_set_bool(eng->cat, "RefreshMviewsDone", true);
    }
    if (!catalog_status_set_bool(eng->cat, done_key, true))
        rc = ENGINE_BAD_STATE;
out:
    pgconn_close(c);
    free(target_id);
    free(schema_dir);
    return rc;
}
