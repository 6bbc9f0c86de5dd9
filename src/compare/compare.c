/*
 * compare data's engine: catalog of each table on every side, key ranges,
 * worker threads that checksum one range on all sides at once (the queries
 * are sent together, so the databases work in parallel), and the drill-down
 * that walks a mismatching range in key order on both sides.
 */
#include "compare/compare.h"

#include "cdc/consistent_point.h"
#include "compare/compare_sql.h"
#include "core/log.h"
#include "core/util.h"
#include "db/pgconn.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIDES 3            /* source + target + source-replica */
#define RANGE_ROWS 200000      /* rows per key range, about */
#define MAX_RANGES 1024
#define FETCH_ROWS 5000
#define APP_NAME "yb-voyager compare data"
#define STR_(x) #x
#define STR(x) STR_(x)

typedef struct side_table {
    bool exists;
    char *from;     /* ONLY "s"."t" (a plain table: COPY read no child tables) or "s"."t" */
    char *row_text; /* NULL: rows are counted only */
    char *key_text; /* NULL: no primary key */
    char *why;      /* copy only: how its columns differ from the source's, or NULL */
} side_table;

typedef struct table_job {
    const compare_table_name *name;
    side_table side[MAX_SIDES];
    char **preds;
    size_t npreds;
    pthread_mutex_t mu;
    int64_t rows[MAX_SIDES];
    char *error[MAX_SIDES];      /* first failure on that side */
    size_t bad_ranges[MAX_SIDES]; /* per copy: ranges whose count or checksum differ */
    bool count_differs[MAX_SIDES];
    int64_t missing[MAX_SIDES], extra[MAX_SIDES], changed[MAX_SIDES];
    compare_diff_key *keys[MAX_SIDES];
    size_t nkeys[MAX_SIDES];
    size_t ranges_done;
} table_job;

typedef struct work_item {
    table_job *t;
    size_t range;
} work_item;

typedef struct run {
    const engine_ctx *ctx;
    const compare_spec *spec;
    size_t nsides;
    db_conf *conf[MAX_SIDES];
    char *snapshot[MAX_SIDES];   /* exported snapshot, or NULL */
    table_job *tables;
    work_item *items;
    size_t nitems;
    atomic_size_t next, done;
    atomic_int workers_left;
    atomic_bool stopped;
    bool fast_hash;              /* every side hashes text alike: hashtextextended */
} run;

const char *compare_status_name(compare_status s)
{
    switch (s) {
    case COMPARE_EQUAL:
        return "EQUAL";
    case COMPARE_DIFFERENT:
        return "DIFFERENT";
    case COMPARE_MISSING:
        return "MISSING";
    case COMPARE_ERROR:
        return "ERROR";
    }
    return "?";
}

/* ---- sessions ---- */

static pgconn *open_session(run *r, size_t s, bool coordinator)
{
    pgconn_options o = {.application_name = APP_NAME};
    pgconn *c = pgconn_connect(r->conf[s], &o);
    if (!c)
        return NULL;
    char *set = compare_sql_session_settings(r->spec->statement_timeout_s);
    bool ok = pgconn_exec(c, set) &&
              pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    free(set);
    if (ok && !coordinator && r->snapshot[s]) {
        char *lit = pg_quote_literal(r->snapshot[s]);
        char *sql = xasprintf("SET TRANSACTION SNAPSHOT %s", lit);
        ok = pgconn_exec(c, sql);
        free(sql);
        free(lit);
    }
    if (!ok) {
        pgconn_close(c);
        return NULL;
    }
    return c;
}

/*
 * The workers of one database share the coordinator's snapshot, so each side
 * is read at one point even in parallel. A server that cannot export one
 * (YugabyteDB) gives each worker its own: still exact when nothing writes.
 */
static bool export_snapshot(run *r, size_t s, pgconn *c)
{
    PGresult *res = pgconn_query_quiet(c, "SELECT pg_export_snapshot()", 0, NULL);
    bool ok = res && PQntuples(res) == 1;
    if (ok) {
        r->snapshot[s] = xstrdup(PQgetvalue(res, 0, 0));
    } else {
        log_warn("%s database: cannot export a snapshot (%s); each worker reads its own, so run "
                 "compare data while nothing writes to it",
                 db_role_name(r->conf[s]->role), pgconn_note_result(c, res));
        /* the failed statement ended the transaction: a new one for the catalog reads */
        ok = pgconn_exec(c, "ROLLBACK") &&
             pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    }
    PQclear(res);
    return ok || r->snapshot[s];
}

/* ---- catalog ---- */

typedef struct column {
    char *name;
    char *type;
    int key_pos; /* position in the primary key, -1 when not part of it */
} column;

typedef struct columns {
    column *items;
    size_t n;
} columns;

static void columns_free(columns *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        free(cs->items[i].name);
        free(cs->items[i].type);
    }
    free(cs->items);
    *cs = (columns){0};
}

static const column *column_find(const columns *cs, const char *name)
{
    for (size_t i = 0; i < cs->n; i++)
        if (strcmp(cs->items[i].name, name) == 0)
            return &cs->items[i];
    return NULL;
}

/* relkind and columns (generated ones left out: the migration does not copy them). */
static bool load_columns(pgconn *c, const char *qualified, bool *exists, char *relkind,
                         double *est_rows, columns *out)
{
    const char *p[] = {qualified};
    PGresult *res = pgconn_query(c, "SELECT c.relkind::text, c.reltuples::float8 FROM pg_class c "
                                    "WHERE c.oid = to_regclass($1)",
                                 1, p);
    if (!res)
        return false;
    *exists = PQntuples(res) == 1;
    if (*exists) {
        *relkind = PQgetvalue(res, 0, 0)[0];
        *est_rows = atof(PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    if (!*exists)
        return true;
    if (*relkind == 'p' && c->server_version_num >= 120000) {
        res = pgconn_query(c, "SELECT coalesce(sum(greatest(x.reltuples, 0)), 0)::float8 FROM "
                              "pg_partition_tree(to_regclass($1)) t JOIN pg_class x ON x.oid = t.relid",
                           1, p);
        if (!res)
            return false;
        if (PQntuples(res) == 1)
            *est_rows = atof(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    char *sql = xasprintf(
        "SELECT a.attname, coalesce(bt.typname, t.typname), "
        " coalesce(array_position(pk.indkey::int2[], a.attnum), -1) "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype "
        "LEFT JOIN pg_index pk ON pk.indrelid = a.attrelid AND pk.indisprimary "
        "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped %s "
        "ORDER BY a.attnum",
        c->server_version_num >= 120000 ? "AND a.attgenerated = ''" : "");
    res = pgconn_query(c, sql, 1, p);
    free(sql);
    if (!res)
        return false;
    out->n = (size_t)PQntuples(res);
    out->items = xcalloc(out->n ? out->n : 1, sizeof *out->items);
    for (size_t i = 0; i < out->n; i++) {
        out->items[i].name = xstrdup(PQgetvalue(res, (int)i, 0));
        out->items[i].type = xstrdup(PQgetvalue(res, (int)i, 1));
        out->items[i].key_pos = atoi(PQgetvalue(res, (int)i, 2));
    }
    PQclear(res);
    return true;
}

/* Primary-key columns of the source, in key order (pointers into cs). */
static size_t key_columns(const columns *cs, const column **out)
{
    size_t n = 0;
    for (size_t i = 0; i < cs->n; i++)
        if (cs->items[i].key_pos >= 0)
            out[n++] = &cs->items[i];
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && out[j - 1]->key_pos > out[j]->key_pos; j--) {
            const column *t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

/*
 * Row and key text of one side, over the source's columns in the source's
 * order, each normalised by this side's own type. NULL *why when it has them all.
 */
static void build_side(side_table *st, const columns *src, const column *const *keys, size_t nkeys,
                       const columns *mine, bool trim_scale, bool hash, const char *copy_role)
{
    strbuf why = STRBUF_INIT;
    for (size_t i = 0; i < src->n; i++)
        if (!column_find(mine, src->items[i].name))
            strbuf_appendf(&why, "%scolumn %s missing on %s", why.len ? "; " : "",
                           src->items[i].name, copy_role);
    for (size_t i = 0; i < mine->n; i++)
        if (!column_find(src, mine->items[i].name))
            strbuf_appendf(&why, "%scolumn %s only on %s", why.len ? "; " : "", mine->items[i].name,
                           copy_role);
    if (why.len) {
        st->why = strbuf_detach(&why);
        return;
    }
    strbuf_free(&why);
    if (!hash)
        return;
    char **ex = xcalloc(src->n + 1, sizeof *ex);
    for (size_t i = 0; i < src->n; i++)
        ex[i] = compare_sql_column_expr(src->items[i].name, column_find(mine, src->items[i].name)->type,
                                        trim_scale);
    st->row_text = compare_sql_row_text((const char *const *)ex, src->n);
    for (size_t i = 0; i < src->n; i++)
        free(ex[i]);
    if (nkeys) {
        for (size_t i = 0; i < nkeys; i++)
            ex[i] = compare_sql_column_expr(keys[i]->name, column_find(mine, keys[i]->name)->type,
                                            trim_scale);
        st->key_text = compare_sql_row_text((const char *const *)ex, nkeys);
        for (size_t i = 0; i < nkeys; i++)
            free(ex[i]);
    }
    free(ex);
}

static bool key_bounds(pgconn *c, const char *from, const char *key, bool *any, int64_t *lo, int64_t *hi)
{
    char *sql = xasprintf("SELECT min(%s)::text, max(%s)::text FROM %s", key, key, from);
    PGresult *res = pgconn_query(c, sql, 0, NULL);
    free(sql);
    if (!res)
        return false;
    *any = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0);
    if (*any) {
        *lo = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        *hi = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    }
    PQclear(res);
    return true;
}

/* Everything about one table that the workers need; false when a coordinator query failed. */
static bool prepare_table(run *r, pgconn **coord, table_job *t, bool trim_scale)
{
    const compare_spec *sp = r->spec;
    char *q = pg_quote_qualified(t->name->schema, t->name->name);
    columns cols[MAX_SIDES] = {{0}};
    char relkind[MAX_SIDES] = {0};
    double est = 0, dummy;
    bool ok = true;
    for (size_t s = 0; ok && s < r->nsides; s++) {
        if (!load_columns(coord[s], q, &t->side[s].exists, &relkind[s], s == 0 ? &est : &dummy, &cols[s])) {
            t->error[s] = xasprintf("reading the catalog failed: %s", pgconn_note_result(coord[s], NULL));
            t->side[s].exists = false;
        }
        if (t->side[s].exists)
            t->side[s].from = xasprintf("%s%s", relkind[s] == 'p' ? "" : "ONLY ", q);
    }
    const column *keys[cols[0].n + 1];
    size_t nkeys = key_columns(&cols[0], keys);
    bool hash = sp->level != COMPARE_COUNT;
    if (t->side[0].exists && hash)
        build_side(&t->side[0], &cols[0], keys, nkeys, &cols[0], trim_scale, true, "source");
    for (size_t s = 1; s < r->nsides; s++)
        if (t->side[s].exists && t->side[0].exists)
            build_side(&t->side[s], &cols[0], keys, nkeys, &cols[s], trim_scale, hash,
                       db_role_name(r->conf[s]->role));

    /* Integer keys split into ranges, bounds taken over every side. */
    size_t want = 1;
    if (nkeys && t->side[0].exists && compare_sql_splittable_type(keys[0]->type)) {
        size_t by_rows = (size_t)(est / RANGE_ROWS) + 1;
        want = by_rows;
        if (est >= RANGE_ROWS / 2 && want < (size_t)sp->parallel)
            want = (size_t)sp->parallel;
        if (want > MAX_RANGES)
            want = MAX_RANGES;
    }
    if (want > 1) {
        char *kq = pg_quote_ident(keys[0]->name);
        bool seen = false;
        int64_t lo = 0, hi = 0;
        for (size_t s = 0; s < r->nsides; s++) {
            bool any = false;
            int64_t l, h;
            if (!t->side[s].exists)
                continue;
            if (!key_bounds(coord[s], t->side[s].from, kq, &any, &l, &h)) {
                ok = false;
                break;
            }
            if (any) {
                lo = seen && lo < l ? lo : l;
                hi = seen && hi > h ? hi : h;
                seen = true;
            }
        }
        if (ok && seen)
            t->npreds = compare_sql_ranges(kq, lo, hi, want, &t->preds);
        free(kq);
    }
    if (!t->npreds) {
        t->preds = xcalloc(1, sizeof *t->preds);
        t->preds[0] = xstrdup("true");
        t->npreds = 1;
    }
    for (size_t s = 0; s < r->nsides; s++)
        columns_free(&cols[s]);
    free(q);
    return ok;
}

/* ---- one range ---- */

/* Run sql on every side given (NULL: skip) at once; res[s] NULL with err[s] set on failure. */
static void run_everywhere(pgconn **c, char **sql, size_t n, PGresult **res, char **err)
{
    bool sent[MAX_SIDES] = {false};
    for (size_t s = 0; s < n; s++) {
        res[s] = NULL;
        if (!sql[s])
            continue;
        char *wrapped = xasprintf("SAVEPOINT compare_range; %s; RELEASE SAVEPOINT compare_range", sql[s]);
        sent[s] = PQsendQuery(c[s]->pg, wrapped) == 1;
        free(wrapped);
        if (!sent[s] && !err[s])
            err[s] = xstrdup(PQerrorMessage(c[s]->pg));
    }
    for (size_t s = 0; s < n; s++) {
        if (!sent[s])
            continue;
        bool failed = false;
        PGresult *x;
        while ((x = PQgetResult(c[s]->pg))) {
            ExecStatusType st = PQresultStatus(x);
            if (st == PGRES_TUPLES_OK && !res[s]) {
                res[s] = x;
                continue;
            }
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !failed) {
                failed = true;
                if (!err[s])
                    err[s] = xstrdup(pgconn_note_result(c[s], x));
            }
            PQclear(x);
        }
        if (failed) {
            PQclear(res[s]);
            res[s] = NULL;
            PGresult *rb = PQexec(c[s]->pg, "ROLLBACK TO SAVEPOINT compare_range; RELEASE SAVEPOINT compare_range");
            PQclear(rb);
        }
    }
}

/* One line of an error, for the DETAIL column. */
static char *one_line(const char *msg)
{
    size_t n = strcspn(msg, "\n");
    return xstrndup(msg, n);
}

static void note_error(table_job *t, size_t s, char *msg)
{
    if (!t->error[s])
        t->error[s] = one_line(msg);
    free(msg);
}

typedef struct cursor_side {
    pgconn *c;
    PGresult *res;
    int row;
    bool done;
    bool failed;
} cursor_side;

static const char *cur_key(cursor_side *x) { return PQgetvalue(x->res, x->row, 0); }
static const char *cur_hash(cursor_side *x) { return PQgetvalue(x->res, x->row, 1); }

/* Make x point at a row, fetching the next batch when needed; false at the end. */
static bool cur_ready(cursor_side *x)
{
    if (x->done || x->failed)
        return false;
    if (x->res && x->row < PQntuples(x->res))
        return true;
    PQclear(x->res);
    x->res = pgconn_query(x->c, "FETCH " STR(FETCH_ROWS) " FROM compare_rows", 0, NULL);
    x->row = 0;
    if (!x->res) {
        x->failed = true;
        return false;
    }
    if (PQntuples(x->res) == 0)
        x->done = true;
    return !x->done;
}

static void add_key(run *r, table_job *t, size_t s, const char *kind, const char *key, bool no_pk)
{
    pthread_mutex_lock(&t->mu);
    if (kind[0] == 'm')
        t->missing[s]++;
    else if (kind[0] == 'e')
        t->extra[s]++;
    else
        t->changed[s]++;
    if (!no_pk && (int64_t)t->nkeys[s] < r->spec->max_diff_rows) {
        t->keys[s] = xrealloc(t->keys[s], (t->nkeys[s] + 1) * sizeof *t->keys[s]);
        t->keys[s][t->nkeys[s]++] = (compare_diff_key){kind, xstrdup(key)};
    }
    pthread_mutex_unlock(&t->mu);
}

/*
 * Walk the range in key order on the source and copy s, pairing keys: a key
 * on one side only is missing or extra, a key whose row hash differs is
 * changed. Without a primary key the row hashes are the keys (a multiset):
 * rows only on one side are counted, not listed.
 */
static void drill_down(run *r, pgconn *src, pgconn *cp, table_job *t, size_t s, const char *pred)
{
    bool no_pk = t->side[0].key_text == NULL;
    pgconn *cs[2] = {src, cp};
    cursor_side x[2] = {{src, NULL, 0, false, false}, {cp, NULL, 0, false, false}};
    bool ok = true;
    for (int i = 0; i < 2; i++) {
        const side_table *st = &t->side[i ? s : 0];
        char *sql = compare_sql_rows_cursor("compare_rows", st->from, pred, st->key_text, st->row_text);
        char *wrapped = xasprintf("SAVEPOINT compare_rows_sp; %s", sql);
        if (!pgconn_exec(cs[i], wrapped)) {
            ok = false;
            pthread_mutex_lock(&t->mu);
            note_error(t, i ? s : 0, xasprintf("listing rows failed: %s", pgconn_note_result(cs[i], NULL)));
            pthread_mutex_unlock(&t->mu);
        }
        free(wrapped);
        free(sql);
    }
    while (ok) {
        bool a = cur_ready(&x[0]), b = cur_ready(&x[1]);
        if (!a && !b)
            break;
        int cmp = !a ? 1 : !b ? -1 : strcmp(cur_key(&x[0]), cur_key(&x[1]));
        if (cmp < 0) {
            add_key(r, t, s, "missing", cur_key(&x[0]), no_pk);
            x[0].row++;
        } else if (cmp > 0) {
            add_key(r, t, s, "extra", cur_key(&x[1]), no_pk);
            x[1].row++;
        } else {
            if (!no_pk && strcmp(cur_hash(&x[0]), cur_hash(&x[1])) != 0)
                add_key(r, t, s, "changed", cur_key(&x[0]), no_pk);
            x[0].row++;
            x[1].row++;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (x[i].failed) {
            pthread_mutex_lock(&t->mu);
            note_error(t, i ? s : 0, xasprintf("listing rows failed: %s", pgconn_note_result(cs[i], NULL)));
            pthread_mutex_unlock(&t->mu);
        }
        PQclear(x[i].res);
        PGresult *rb = PQexec(cs[i]->pg, "ROLLBACK TO SAVEPOINT compare_rows_sp; RELEASE SAVEPOINT compare_rows_sp");
        PQclear(rb);
    }
}

static void do_range(run *r, pgconn **c, table_job *t, size_t range)
{
    const char *pred = t->preds[range];
    char *sql[MAX_SIDES] = {NULL};
    char *err[MAX_SIDES] = {NULL};
    PGresult *res[MAX_SIDES];
    for (size_t s = 0; s < r->nsides; s++)
        if (t->side[s].exists)
            sql[s] = compare_sql_range_query(t->side[s].from, pred,
                                             t->side[s].why ? NULL : t->side[s].row_text, r->fast_hash);
    run_everywhere(c, sql, r->nsides, res, err);
    int64_t n[MAX_SIDES] = {0};
    const char *h[MAX_SIDES] = {NULL};
    pthread_mutex_lock(&t->mu);
    for (size_t s = 0; s < r->nsides; s++) {
        free(sql[s]);
        if (err[s])
            note_error(t, s, err[s]);
        if (res[s] && PQntuples(res[s]) == 1) {
            n[s] = strtoll(PQgetvalue(res[s], 0, 0), NULL, 10);
            t->rows[s] += n[s];
            if (PQnfields(res[s]) > 1)
                h[s] = PQgetvalue(res[s], 0, 1);
        }
    }
    t->ranges_done++;
    bool drill[MAX_SIDES] = {false};
    for (size_t s = 1; s < r->nsides; s++) {
        if (!res[0] || !res[s])
            continue;
        bool count_diff = n[0] != n[s];
        bool bad = count_diff || (h[0] && h[s] && strcmp(h[0], h[s]) != 0);
        if (bad) {
            t->bad_ranges[s]++;
            t->count_differs[s] |= count_diff;
            drill[s] = r->spec->level == COMPARE_ROWS && h[0] && h[s];
        }
    }
    pthread_mutex_unlock(&t->mu);
    for (size_t s = 0; s < r->nsides; s++)
        PQclear(res[s]);
    for (size_t s = 1; s < r->nsides; s++)
        if (drill[s])
            drill_down(r, c[0], c[s], t, s, pred);
}

/* ---- workers ---- */

typedef struct worker {
    run *r;
    pgconn *c[MAX_SIDES];
    pthread_t tid;
    bool started;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    run *r = w->r;
    for (;;) {
        if (r->ctx->interrupted && *r->ctx->interrupted) {
            atomic_store(&r->stopped, true);
            break;
        }
        size_t i = atomic_fetch_add(&r->next, 1);
        if (i >= r->nitems)
            break;
        do_range(r, w->c, r->items[i].t, r->items[i].range);
        atomic_fetch_add(&r->done, 1);
    }
    atomic_fetch_sub(&r->workers_left, 1);
    return NULL;
}

static void progress(run *r, bool final)
{
    if (!r->spec->progress)
        return;
    size_t d = atomic_load(&r->done);
    fprintf(stderr, "\rcompare data: %zu of %zu key ranges compared (%zu%%)%s", d, r->nitems,
            r->nitems ? d * 100 / r->nitems : 100, final ? "\n" : "");
    fflush(stderr);
}

/* ---- results ---- */

static void finish_table(run *r, table_job *t, size_t s, compare_table_result *out)
{
    const char *copy = db_role_name(r->conf[s]->role);
    *out = (compare_table_result){
        .schema = xstrdup(t->name->schema), .name = xstrdup(t->name->name),
        .source_rows = t->side[0].exists && !t->error[0] ? t->rows[0] : -1,
        .copy_rows = t->side[s].exists && !t->error[s] ? t->rows[s] : -1,
        .missing = t->missing[s], .extra = t->extra[s], .changed = t->changed[s],
        .keys = t->keys[s], .nkeys = t->nkeys[s],
    };
    t->keys[s] = NULL;
    t->nkeys[s] = 0;
    if (t->ranges_done < t->npreds) {
        /* interrupted: what was not compared must not read as equal */
        out->status = COMPARE_ERROR;
        out->failed_role = DB_SOURCE;
        out->detail = xasprintf("interrupted after %zu of %zu key ranges", t->ranges_done, t->npreds);
    } else if (t->error[0] || t->error[s]) {
        out->status = COMPARE_ERROR;
        out->failed_role = t->error[0] ? DB_SOURCE : r->conf[s]->role;
        out->detail = xasprintf("%s: %s", t->error[0] ? "source" : copy, t->error[0] ? t->error[0] : t->error[s]);
    } else if (!t->side[0].exists || !t->side[s].exists) {
        out->status = COMPARE_MISSING;
        out->detail = xasprintf("missing on %s", !t->side[0].exists && !t->side[s].exists ? "both"
                                                 : !t->side[0].exists                    ? "source"
                                                                                         : copy);
    } else if (t->side[s].why) {
        out->status = COMPARE_DIFFERENT;
        out->detail = xstrdup(t->side[s].why);
    } else if (t->bad_ranges[s]) {
        out->status = COMPARE_DIFFERENT;
        if (r->spec->level == COMPARE_ROWS) {
            int64_t total = t->missing[s] + t->extra[s] + t->changed[s];
            if (!t->side[0].key_text)
                out->detail = xasprintf("no primary key: %" PRId64 " rows only on source, %" PRId64
                                        " only on %s",
                                        t->missing[s], t->extra[s], copy);
            else
                out->detail = xasprintf("%" PRId64 " rows differ: %" PRId64 " missing on %s, %" PRId64
                                        " extra on %s, %" PRId64 " changed%s",
                                        total, t->missing[s], copy, t->extra[s], copy, t->changed[s],
                                        (int64_t)out->nkeys < total ? " (keys listed up to --max-diff-rows)" : "");
        } else if (t->count_differs[s] || r->spec->level == COMPARE_COUNT) {
            out->detail = xstrdup("row counts differ");
        } else {
            out->detail = xasprintf("checksums differ in %zu of %zu key ranges", t->bad_ranges[s], t->npreds);
        }
    } else {
        out->status = COMPARE_EQUAL;
        out->detail = xstrdup("");
    }
}

static void table_job_free(table_job *t, size_t nsides)
{
    for (size_t s = 0; s < nsides; s++) {
        free(t->side[s].from);
        free(t->side[s].row_text);
        free(t->side[s].key_text);
        free(t->side[s].why);
        free(t->error[s]);
        for (size_t k = 0; k < t->nkeys[s]; k++)
            free(t->keys[s][k].key);
        free(t->keys[s]);
    }
    for (size_t i = 0; i < t->npreds; i++)
        free(t->preds[i]);
    free(t->preds);
    pthread_mutex_destroy(&t->mu);
}

/*
 * hashtextextended is about a third cheaper than md5 but depends on the
 * server's byte order: used only when every side gives the probe the same value.
 */
static bool same_text_hash(run *r, pgconn **coord)
{
    char *first = NULL;
    bool same = true;
    for (size_t s = 0; s < r->nsides && same; s++) {
        if (!pgconn_exec(coord[s], "SAVEPOINT compare_probe"))
            return false;
        PGresult *res = pgconn_query_quiet(coord[s], COMPARE_SQL_HASH_PROBE, 0, NULL);
        const char *v = res && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL;
        same = v && (!first || strcmp(first, v) == 0);
        if (v && !first)
            first = xstrdup(v);
        PQclear(res);
        pgconn_exec(coord[s], v ? "RELEASE SAVEPOINT compare_probe" : "ROLLBACK TO SAVEPOINT compare_probe");
    }
    free(first);
    log_info("row hash: %s", same ? "hashtextextended (same on every side)" : "md5");
    return same;
}

static engine_status side_failed(size_t s)
{
    return s == 0 ? ENGINE_SOURCE_FAILED : ENGINE_TARGET_FAILED;
}

/* Offline, or after cutover: every side as it is now. */
static engine_status open_plain(run *r, pgconn **coord)
{
    for (size_t s = 0; s < r->nsides; s++) {
        coord[s] = open_session(r, s, true);
        if (!coord[s] || !export_snapshot(r, s, coord[s]))
            return side_failed(s);
    }
    return ENGINE_OK;
}

static const char *importer_of(db_role role)
{
    return role == DB_TARGET ? "target_db_importer" : "source_replica_db_importer";
}

static const char *importer_command(db_role role)
{
    return role == DB_TARGET ? "import data (to target)" : "import data to source-replica";
}

/* The side's snapshot, exported; in a live comparison one per side is a must. */
static bool live_session(run *r, size_t s, pgconn **c, const char *first_query, PGresult **first)
{
    *c = open_session(r, s, true);
    if (!*c)
        return false;
    if (first_query) {
        *first = pgconn_query(*c, first_query, 0, NULL);
        if (!*first)
            return false;
    }
    if (!export_snapshot(r, s, *c) || !r->snapshot[s]) {
        log_error("%s database: a live comparison needs one exported snapshot per database",
                  db_role_name(r->conf[s]->role));
        return false;
    }
    return true;
}

/*
 * Live, before cutover: hold the importers, take the source snapshot S and
 * its LSN, have the exporter map it to the queue's vsn V, let the importers
 * apply exactly up to V, and take their databases' snapshots there.
 */
static engine_status open_live(run *r, pgconn **coord, int64_t *point_vsn)
{
    const compare_spec *sp = r->spec;
    int wait_ms = (sp->point_timeout_s > 0 ? sp->point_timeout_s : 60) * 1000;
    int64_t held_min = INT64_MAX;
    size_t paused = 0;
    engine_status rc = ENGINE_OK;
    for (size_t s = 1; s < r->nsides; s++, paused++) {
        int64_t held;
        if (!cp_pause(r->ctx->cat, importer_of(r->conf[s]->role), wait_ms, &held)) {
            log_error("the migration is live and %s did not answer within %d s: a live comparison "
                      "needs the running export data and import data to hold at a consistent point; "
                      "start them, or compare after cutover",
                      importer_command(r->conf[s]->role), wait_ms / 1000);
            rc = ENGINE_BAD_STATE;
            break;
        }
        held_min = held < held_min ? held : held_min;
    }
    int64_t vsn = -1;
    for (int attempt = 0; rc == ENGINE_OK; attempt++) {
        PGresult *first = NULL;
        if (!live_session(r, 0, &coord[0],
                          "SELECT pg_current_wal_insert_lsn()::text, txid_current_snapshot()::text", &first)) {
            PQclear(first);
            rc = side_failed(0);
            break;
        }
        uint64_t lsn = 0;
        unsigned hi = 0, lo = 0;
        if (sscanf(PQgetvalue(first, 0, 0), "%X/%X", &hi, &lo) == 2)
            lsn = ((uint64_t)hi << 32) | lo;
        cp_answer a = cp_ask_exporter(r->ctx->cat, lsn, PQgetvalue(first, 0, 1), wait_ms, &vsn);
        log_info("consistent point: source snapshot at LSN %s: %s", PQgetvalue(first, 0, 0),
                 a == CP_ANSWERED ? "queue vsn found" : a == CP_RETRY ? "retry" : "no answer");
        PQclear(first);
        if (a == CP_NO_ANSWER) {
            log_error("the migration is live and export data (from source) did not answer within %d s: "
                      "a live comparison needs it running; start it, or compare after cutover",
                      wait_ms / 1000);
            rc = ENGINE_BAD_STATE;
            break;
        }
        if (a == CP_ANSWERED && vsn >= held_min)
            break;
        /* a commit raced the snapshot, or the importers were already past it: a new snapshot */
        pgconn_close(coord[0]);
        coord[0] = NULL;
        free(r->snapshot[0]);
        r->snapshot[0] = NULL;
        if (attempt >= 20) {
            log_error("no consistent point after %d attempts: compare data again", attempt + 1);
            rc = ENGINE_BAD_STATE;
        }
    }
    for (size_t s = 1; s < r->nsides && rc == ENGINE_OK; s++) {
        if (!cp_advance(r->ctx->cat, importer_of(r->conf[s]->role), vsn, wait_ms)) {
            log_error("%s did not apply the changes up to vsn %lld within %d s: compare data again "
                      "(or compare after cutover)",
                      importer_command(r->conf[s]->role), (long long)vsn, wait_ms / 1000);
            rc = ENGINE_BAD_STATE;
        } else if (!live_session(r, s, &coord[s], NULL, NULL)) {
            rc = side_failed(s);
        }
    }
    for (size_t s = 1; s < 1 + paused; s++)
        cp_release(r->ctx->cat, importer_of(r->conf[s]->role));
    if (rc == ENGINE_OK) {
        log_info("consistent point: source snapshot and queue vsn %lld applied on every copy", (long long)vsn);
        *point_vsn = vsn;
    }
    return rc;
}

static engine_status verdict(const compare_result *res);

engine_status compare_run(const engine_ctx *ctx, const compare_spec *spec, compare_result *out)
{
    *out = (compare_result){0};
    run r = {.ctx = ctx, .spec = spec, .nsides = spec->ncopies + 1};
    r.conf[0] = spec->source;
    for (size_t i = 0; i < spec->ncopies && i + 1 < MAX_SIDES; i++)
        r.conf[i + 1] = spec->copies[i];
    pgconn *coord[MAX_SIDES] = {NULL};
    int64_t point_vsn = -1;
    engine_status rc = spec->live ? open_live(&r, coord, &point_vsn) : open_plain(&r, coord);
    bool trim_scale = true;
    for (size_t s = 0; s < r.nsides && rc == ENGINE_OK; s++)
        trim_scale &= coord[s]->server_version_num >= 130000;
    if (rc == ENGINE_OK)
        r.fast_hash = same_text_hash(&r, coord);
    int nworkers = spec->parallel < 1 ? 1 : spec->parallel;
    worker *ws = NULL;
    if (rc == ENGINE_OK) {
        r.tables = xcalloc(spec->ntables ? spec->ntables : 1, sizeof *r.tables);
        size_t nitems = 0;
        for (size_t i = 0; i < spec->ntables; i++) {
            table_job *t = &r.tables[i];
            t->name = &spec->tables[i];
            pthread_mutex_init(&t->mu, NULL);
            if (!prepare_table(&r, coord, t, trim_scale))
                note_error(t, 0, xasprintf("reading key bounds failed: %s", pgconn_note_result(coord[0], NULL)));
            nitems += t->npreds;
        }
        r.items = xcalloc(nitems ? nitems : 1, sizeof *r.items);
        for (size_t i = 0; i < spec->ntables; i++)
            for (size_t k = 0; k < r.tables[i].npreds; k++)
                r.items[r.nitems++] = (work_item){&r.tables[i], k};
        if ((size_t)nworkers > r.nitems)
            nworkers = r.nitems ? (int)r.nitems : 1;
        ws = xcalloc((size_t)nworkers, sizeof *ws);
        for (int w = 0; w < nworkers && rc == ENGINE_OK; w++) {
            ws[w].r = &r;
            for (size_t s = 0; s < r.nsides; s++) {
                ws[w].c[s] = open_session(&r, s, false);
                if (!ws[w].c[s]) {
                    rc = side_failed(s);
                    break;
                }
            }
        }
    }
    if (rc == ENGINE_OK) {
        log_info("compare data: %zu tables in %zu key ranges, %d workers", spec->ntables, r.nitems, nworkers);
        atomic_store(&r.workers_left, nworkers);
        int started = 0;
        for (int w = 0; w < nworkers; w++) {
            ws[w].started = pthread_create(&ws[w].tid, NULL, worker_main, &ws[w]) == 0;
            if (ws[w].started)
                started++;
            else
                atomic_fetch_sub(&r.workers_left, 1);
        }
        if (!started) { /* no thread could start: this one does the work */
            atomic_store(&r.workers_left, 1);
            worker_main(&ws[0]);
        }
        while (atomic_load(&r.workers_left) > 0) {
            progress(&r, false);
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        for (int w = 0; w < nworkers; w++)
            if (ws[w].started)
                pthread_join(ws[w].tid, NULL);
        progress(&r, true);
        out->npairs = spec->ncopies;
        out->ntables = spec->ntables;
        out->point_vsn = point_vsn;
        out->interrupted = atomic_load(&r.stopped);
        for (size_t p = 0; p < spec->ncopies; p++) {
            out->pairs[p].copy_role = r.conf[p + 1]->role;
            out->pairs[p].tables = xcalloc(spec->ntables ? spec->ntables : 1, sizeof(compare_table_result));
            for (size_t i = 0; i < spec->ntables; i++)
                finish_table(&r, &r.tables[i], p + 1, &out->pairs[p].tables[i]);
        }
        rc = verdict(out);
    }
    for (int w = 0; ws && w < nworkers; w++)
        for (size_t s = 0; s < r.nsides; s++)
            pgconn_close(ws[w].c[s]);
    free(ws);
    for (size_t s = 0; s < r.nsides; s++) {
        pgconn_close(coord[s]); /* the read-only transaction ends with the session */
        free(r.snapshot[s]);
    }
    for (size_t i = 0; r.tables && i < spec->ntables; i++)
        table_job_free(&r.tables[i], r.nsides);
    free(r.tables);
    free(r.items);
    return rc;
}

/* How a comparison that ran ended, logged. */
static engine_status verdict(const compare_result *res)
{
    const compare_table_result *err = compare_result_first_error(res);
    if (res->interrupted) {
        log_error("interrupted: the comparison is incomplete; run compare data again");
        return ENGINE_BAD_STATE;
    }
    if (err) {
        log_error("compare data could not read table %s.%s: %s", err->schema, err->name, err->detail);
        return err->failed_role == DB_SOURCE ? ENGINE_SOURCE_FAILED : ENGINE_TARGET_FAILED;
    }
    if (!compare_result_all_equal(res)) {
        log_info("compare data: differences found");
        return ENGINE_DATA_DIFFERS;
    }
    log_info("compare data: every table is equal");
    return ENGINE_OK;
}

void compare_result_free(compare_result *r)
{
    for (size_t p = 0; p < r->npairs; p++) {
        compare_table_result *ts = r->pairs[p].tables;
        for (size_t i = 0; i < r->ntables; i++) {
            free(ts[i].schema);
            free(ts[i].name);
            free(ts[i].detail);
            for (size_t k = 0; k < ts[i].nkeys; k++)
                free(ts[i].keys[k].key);
            free(ts[i].keys);
        }
        free(ts);
    }
    *r = (compare_result){0};
}

bool compare_result_all_equal(const compare_result *r)
{
    for (size_t p = 0; p < r->npairs; p++)
        for (size_t i = 0; i < r->ntables; i++)
            if (r->pairs[p].tables[i].status != COMPARE_EQUAL)
                return false;
    return !r->interrupted;
}

const compare_table_result *compare_result_first_error(const compare_result *r)
{
    for (size_t p = 0; p < r->npairs; p++)
        for (size_t i = 0; i < r->ntables; i++)
            if (r->pairs[p].tables[i].status == COMPARE_ERROR)
                return &r->pairs[p].tables[i];
    return NULL;
}
