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
#include "source/source.h"

#include <cjson/cJSON.h>
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
#define SAMPLE_ROWS 20000          /* keys sampled for range boundaries, at least */
#define SAMPLE_BLOCKS_ABOVE 1e6    /* rows: sample whole blocks above, single rows below */
#define APP_NAME "yb-voyager compare data"
#define STR_(x) #x
#define STR(x) STR_(x)

typedef struct side_table {
    bool exists;
    char *from;     /* ONLY "s"."t" (a plain table: COPY read no child tables) or "s"."t" */
    char *row_hash;   /* 64-bit hash of a row (bigint expression); NULL: rows are counted only */
    char *row_digest; /* text form of a row's hash, for --level rows */
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
    /* A source read through the seam (run.src): its table, and the ranges as numbers. */
    const src_table *src;
    char *src_rows_type;  /* the target's row type, "s"."t": the source's rows are parsed as it */
    size_t *src_field_at; /* per attribute of that row type: the source row's field, or SIZE_MAX */
    size_t src_nattrs, src_nfields;
    char *src_key;        /* the key column the ranges split (target name), or NULL */
    source_key_kind src_kind;
    char **src_bounds;    /* npreds - 1 boundaries, the target's text forms (source_key_range) */
    /* A source-replica read through the seam (run.rep): its table, and its fields for the row type. */
    const src_table *rep;
    size_t *rep_field_at; /* as src_field_at, the replica's fields */
    size_t rep_nfields;
    size_t unlisted[MAX_SIDES]; /* --level rows: differing ranges too large to list */
} table_job;

typedef struct work_item {
    table_job *t;
    size_t range;
} work_item;

typedef enum row_hash_kind {
    ROW_HASH_MD5,    /* md5 of the row's text form */
    ROW_HASH_TEXT,   /* hashtextextended of the row's text form */
    ROW_HASH_NATIVE, /* hash_record_extended: the types' own hash functions (compare_sql.h) */
} row_hash_kind;

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
    row_hash_kind hash_kind;     /* how rows are hashed: the same on every side */
    /*
     * A source that is not PostgreSQL (MySQL): read through source/source.h in one snapshot,
     * its rows in the target's text COPY form parsed as the target's row type on a target
     * session and hashed there like the target's own rows. NULL: side 0 is PostgreSQL.
     */
    source *src;
    src_tables stables;
    int src_readers;             /* readers the source's snapshot serves */
    /*
     * A source-replica of a MySQL source (side 2): read through source/source.h in its own
     * snapshot like the source, hashed on the target the same way, compared with the source's
     * sums. NULL: side 2 is PostgreSQL, or there is none.
     */
    source *rep;
    src_tables rtables;
    int rep_readers;
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
        log_report(LOG_WARN, "each worker reads its own",
                   "run compare data while nothing writes to it",
                   "%s database: cannot export a snapshot (%s)", db_role_name(r->conf[s]->role),
                   pgconn_note_result(c, res));
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
    char *type;      /* base type name (domains resolved) */
    char *cat_type;  /* the same when a pg_catalog type, else "" */
    char *elem;      /* an array's element type when a pg_catalog type, else "" */
    char *coll;      /* collation identity (name, provider, locale, version), "" when none */
    int key_pos;     /* position in the primary key, -1 when not part of it */
    bool native;     /* hashed by its type's hash function (decided over every side) */
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
        free(cs->items[i].cat_type);
        free(cs->items[i].elem);
        free(cs->items[i].coll);
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
    /*
     * The collation identity of a column: what orders its values (key ranges
     * use the column's own order only when it is the same on every side).
     * Columns of pg_database / pg_collation that not every version has are
     * read through to_jsonb.
     */
    char *sql = xasprintf(
        "SELECT a.attname, b.typname, "
        " coalesce(array_position(pk.indkey::int2[], a.attnum), -1), "
        " CASE WHEN b.typnamespace = 'pg_catalog'::regnamespace THEN b.typname ELSE '' END, "
        " CASE WHEN b.typcategory = 'A' AND e.typnamespace = 'pg_catalog'::regnamespace "
        "  THEN e.typname ELSE '' END, "
        " CASE WHEN a.attcollation = 0 THEN '' "
        "  WHEN a.attcollation = 100 THEN (SELECT concat_ws('/', 'database', d.datcollate, "
        "   to_jsonb(d)->>'datlocprovider', to_jsonb(d)->>'daticulocale', to_jsonb(d)->>'datlocale', "
        "   to_jsonb(d)->>'datcollversion') FROM pg_database d WHERE d.datname = current_database()) "
        "  ELSE concat_ws('/', co.collname, co.collprovider, coalesce(to_jsonb(co)->>'colliculocale', "
        "   to_jsonb(co)->>'colllocale', co.collcollate), to_jsonb(co)->>'collisdeterministic', "
        "   pg_collation_actual_version(co.oid)) END "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype "
        "JOIN pg_type b ON b.oid = coalesce(bt.oid, t.oid) "
        "LEFT JOIN pg_type e ON e.oid = b.typelem "
        "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
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
        out->items[i].cat_type = xstrdup(PQgetvalue(res, (int)i, 3));
        out->items[i].elem = xstrdup(PQgetvalue(res, (int)i, 4));
        out->items[i].coll = xstrdup(PQgetvalue(res, (int)i, 5));
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
 * Row hash and key text of one side, over the source's columns in the
 * source's order, each normalised by this side's own type (natively hashed
 * columns: src->items[i].native, decided over every side). NULL *why when it
 * has them all.
 */
static void build_side(side_table *st, const columns *src, const column *const *keys, size_t nkeys,
                       const columns *mine, bool trim_scale, row_hash_kind kind, bool hash,
                       const char *copy_role)
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
    char **nat = xcalloc(src->n + 1, sizeof *nat);
    size_t nt = 0, nn = 0;
    for (size_t i = 0; i < src->n; i++) {
        const column *m = column_find(mine, src->items[i].name);
        if (kind == ROW_HASH_NATIVE && src->items[i].native)
            nat[nn++] = compare_sql_column_native(m->name, m->cat_type);
        else
            ex[nt++] = compare_sql_column_expr(m->name, m->type, trim_scale);
    }
    if (kind == ROW_HASH_NATIVE) {
        st->row_hash = compare_sql_row_hash_native((const char *const *)nat, nn, (const char *const *)ex, nt);
        st->row_digest = xasprintf("(%s)::text", st->row_hash);
    } else {
        char *row_text = compare_sql_row_text((const char *const *)ex, nt);
        st->row_hash = compare_sql_row_hash_text(row_text, kind == ROW_HASH_TEXT);
        st->row_digest = xasprintf("md5(%s)", row_text);
        free(row_text);
    }
    for (size_t i = 0; i < nt; i++)
        free(ex[i]);
    for (size_t i = 0; i < nn; i++)
        free(nat[i]);
    free(nat);
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

/*
 * Run a key sample of t under a savepoint: a sample that fails (a statement timeout, say) is
 * warned about and leaves *res NULL (one range), the transaction usable. False only when the
 * session failed. *res is the caller's to PQclear.
 */
static bool sample_keys(pgconn *c, const table_job *t, const char *sql, PGresult **res)
{
    bool ok = pgconn_exec(c, "SAVEPOINT compare_sample");
    *res = ok ? pgconn_query_quiet(c, sql, 0, NULL) : NULL;
    if (ok && !*res) {
        log_warn("table %s.%s: sampling its keys failed (%s): compared as one range", t->name->schema,
                 t->name->name, pgconn_note_result(c, NULL));
        ok = pgconn_exec(c, "ROLLBACK TO SAVEPOINT compare_sample");
    }
    return ok && pgconn_exec(c, "RELEASE SAVEPOINT compare_sample");
}

/*
 * Boundaries of a key of any type: a sample of the source's keys (in its
 * snapshot), sorted in the order the predicates compare in, every
 * (n / want)-th distinct one. The predicates are the same on every side.
 * At least SAMPLE_ROWS keys: row by row (BERNOULLI, one pass over the table)
 * up to SAMPLE_BLOCKS_ABOVE rows, whole blocks (SYSTEM) above, where the
 * sample still spans hundreds of blocks. Sets t->preds; none when the sample
 * is empty or cannot be taken (the table is then one range). False only when
 * the coordinator's session failed.
 */
static bool sample_ranges(pgconn *c, table_job *t, const column *const *keys, size_t nkeys, bool c_order,
                          double est, size_t want)
{
    strbuf sql = STRBUF_INIT, order = STRBUF_INIT;
    char **cols = xcalloc(nkeys, sizeof *cols);
    for (size_t k = 0; k < nkeys; k++) {
        char *kq = pg_quote_ident(keys[k]->name);
        cols[k] = xasprintf("%s%s", kq, c_order && keys[k]->coll[0] ? " COLLATE \"C\"" : "");
        strbuf_appendf(&sql, "%s%s", k ? ", " : "SELECT ", kq);
        strbuf_appendf(&order, "%s%s", k ? ", " : "", cols[k]);
        free(kq);
    }
    double rows = (double)want * 200 < SAMPLE_ROWS ? SAMPLE_ROWS : (double)want * 200;
    double pct = est > 0 ? rows * 100 / est : 100;
    if (pct > 100)
        pct = 100;
    long micro = (long)(pct * 1e6);
    strbuf_appendf(&sql, " FROM %s TABLESAMPLE %s (%ld.%06ld) ORDER BY %s", t->side[0].from,
                   est > SAMPLE_BLOCKS_ABOVE ? "SYSTEM" : "BERNOULLI", micro / 1000000, micro % 1000000,
                   order.data);
    strbuf_free(&order);
    PGresult *res = NULL;
    bool ok = sample_keys(c, t, sql.data, &res);
    size_t n = res ? (size_t)PQntuples(res) : 0;
    const char **bounds = xcalloc((want ? want : 1) * nkeys, sizeof *bounds);
    size_t nb = 0;
    for (size_t i = 1; ok && n && i < want; i++) {
        size_t row = i * n / want;
        bool same = nb > 0;
        for (size_t k = 0; k < nkeys && same; k++)
            same = strcmp(bounds[(nb - 1) * nkeys + k], PQgetvalue(res, (int)row, (int)k)) == 0;
        if (same)
            continue;
        for (size_t k = 0; k < nkeys; k++)
            bounds[nb * nkeys + k] = PQgetvalue(res, (int)row, (int)k);
        nb++;
    }
    if (nb)
        t->npreds = compare_sql_key_ranges((const char *const *)cols, nkeys, bounds, nb, &t->preds);
    free(bounds);
    PQclear(res);
    for (size_t k = 0; k < nkeys; k++)
        free(cols[k]);
    free(cols);
    strbuf_free(&sql);
    return ok;
}

/*
 * Does every side order the key's collatable columns alike (same collation,
 * provider, locale and version)? Otherwise ranges compare under "C".
 */
static bool same_key_order(const run *r, const table_job *t, const columns *cols, const column *const *keys,
                           size_t nkeys)
{
    for (size_t k = 0; k < nkeys; k++) {
        if (!keys[k]->coll[0])
            continue;
        for (size_t s = 1; s < r->nsides; s++) {
            const column *m = t->side[s].exists ? column_find(&cols[s], keys[k]->name) : NULL;
            if (m && strcmp(m->coll, keys[k]->coll) != 0)
                return false;
        }
    }
    return true;
}

/*
 * Columns hashed natively: a type that compare_sql_native_type() takes, the
 * same on every side that has the column.
 */
static void decide_native(const run *r, const table_job *t, columns *cols)
{
    for (size_t i = 0; i < cols[0].n; i++) {
        column *c = &cols[0].items[i];
        c->native = r->hash_kind == ROW_HASH_NATIVE && compare_sql_native_type(c->cat_type, c->elem);
        for (size_t s = 1; s < r->nsides && c->native; s++) {
            const column *m = t->side[s].exists ? column_find(&cols[s], c->name) : NULL;
            if (m && strcmp(m->cat_type, c->cat_type) != 0)
                c->native = false;
        }
    }
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
    decide_native(r, t, cols);
    if (t->side[0].exists && hash)
        build_side(&t->side[0], &cols[0], keys, nkeys, &cols[0], trim_scale, r->hash_kind, true, "source");
    for (size_t s = 1; s < r->nsides; s++)
        if (t->side[s].exists && t->side[0].exists)
            build_side(&t->side[s], &cols[0], keys, nkeys, &cols[s], trim_scale, r->hash_kind, hash,
                       db_role_name(r->conf[s]->role));

    /*
     * Key ranges: an integer key (or first key column) by arithmetic over the
     * bounds of every side; any other key by sampled boundaries.
     */
    size_t want = 1;
    if (nkeys && t->side[0].exists) {
        size_t by_rows = (size_t)(est / RANGE_ROWS) + 1;
        want = by_rows;
        if (est >= RANGE_ROWS / 2 && want < (size_t)sp->parallel)
            want = (size_t)sp->parallel;
        if (want > MAX_RANGES)
            want = MAX_RANGES;
    }
    bool by_int = want > 1 && compare_sql_splittable_type(keys[0]->type);
    if (want > 1 && !by_int) {
        bool same_order = same_key_order(r, t, cols, keys, nkeys);
        if (!same_order) {
            /* under "C" no index serves the ranges: each scans the table, so no more than the workers */
            log_info("table %s.%s: its key's collation differs between the databases: key ranges "
                     "compare under collation \"C\"",
                     t->name->schema, t->name->name);
            if (want > (size_t)sp->parallel)
                want = (size_t)sp->parallel;
        }
        if (want > 1)
            ok = sample_ranges(coord[0], t, keys, nkeys, !same_order, est, want);
    }
    if (by_int) {
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

/* Send sql to every side given (NULL: skip) without waiting; run_collect takes the answers. */
static void run_send(pgconn **c, char **sql, size_t n, bool *sent, PGresult **res, char **err)
{
    for (size_t s = 0; s < n; s++) {
        res[s] = NULL;
        sent[s] = false;
        if (!sql[s])
            continue;
        char *wrapped = xasprintf("SAVEPOINT compare_range; %s; RELEASE SAVEPOINT compare_range", sql[s]);
        sent[s] = PQsendQuery(c[s]->pg, wrapped) == 1;
        free(wrapped);
        if (!sent[s] && !err[s])
            err[s] = xstrdup(PQerrorMessage(c[s]->pg));
    }
}

/* The answers of run_send: res[s] NULL with err[s] set on failure. */
static void run_collect(pgconn **c, size_t n, const bool *sent, PGresult **res, char **err)
{
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

/* Run sql on every side given (NULL: skip) at once; res[s] NULL with err[s] set on failure. */
static void run_everywhere(pgconn **c, char **sql, size_t n, PGresult **res, char **err)
{
    bool sent[MAX_SIDES];
    run_send(c, sql, n, sent, res, err);
    run_collect(c, n, sent, res, err);
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
        char *sql = compare_sql_rows_cursor_digest("compare_rows", st->from, pred, st->key_text, st->row_digest);
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
            sql[s] = compare_sql_sum_query(t->side[s].from, pred, t->side[s].why ? NULL : t->side[s].row_hash);
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
            log_info("table %s.%s: key range %zu of %zu differs on %s (%s)", t->name->schema, t->name->name,
                     range + 1, t->npreds, db_role_name(r->conf[s]->role), pred);
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
    pgconn *parse;       /* run.src: a target session the source's rows are parsed and hashed on */
    source_rows *rows;   /* run.src: this worker's reader in the source's snapshot (NULL: broken) */
    source_rows *rep_rows; /* run.rep: its reader in the source-replica's snapshot (NULL: broken) */
    pthread_t tid;
    bool started;
} worker;

/* ---- a source read through source/source.h (MySQL) ---- */

#define SRC_BATCH_ROWS 5000
#define SRC_BATCH_BYTES (4 << 20)
#define SRC_STALL_MS 600000

__extension__ typedef __int128 sum128;
__extension__ typedef unsigned __int128 usum128;

/* Add a sum's text (an integer, as PostgreSQL prints sum(bigint)) to *acc; false when it is not one. */
static bool sum_add(sum128 *acc, const char *txt)
{
    bool neg = *txt == '-';
    const char *p = txt + (neg || *txt == '+');
    if (!*p)
        return false;
    sum128 v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *acc += neg ? -v : v;
    return true;
}

/* The sum as PostgreSQL prints a numeric integer, so that it compares with the target's text. */
static void sum_text(sum128 v, char buf[48])
{
    char tmp[48];
    size_t n = 0, i = 0;
    usum128 u = v < 0 ? -(usum128)v : (usum128)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (v < 0)
        buf[i++] = '-';
    while (n)
        buf[i++] = tmp[--n];
    buf[i] = '\0';
}

/*
 * One range of the source's rows on its way to the target session: an array literal of the
 * target's row type, each source row a row literal of it (one value a column, in the row type's
 * attribute order; a column the source lacks, a generated one, left NULL), flushed every
 * SRC_BATCH_ROWS rows or SRC_BATCH_BYTES. The target parses it with each column's own input
 * function and type modifier (record_in), exactly as COPY loaded the same text, and hashes the
 * rows with the target's own row hash: both sides hash the same values by the same expression.
 */
typedef struct src_batch {
    const run *r;
    const table_job *t;
    pgconn *parse;       /* NULL: rows are counted only */
    const char *query;   /* count and sum of the row hash over unnest($1::rowtype[]) */
    const size_t *field_at; /* per attribute of the row type: the row's field, or SIZE_MAX */
    size_t nfields;         /* fields per row */
    strbuf arr;
    const char **field;  /* the current row's fields (COPY text) */
    size_t *flen;
    size_t rows;         /* in arr */
    size_t sent_rows;    /* in the batch the target is working on (its answer not read yet), or 0 */
    int64_t count;
    sum128 sum;
    char *error;         /* the first failure, one line */
    struct key_store *keys; /* --level rows: each row's key and digest are kept here, not summed */
} src_batch;

/*
 * --level rows with a source read through the seam: the key text and row digest of every source
 * row of a differing range (computed on the target like its own), "key\0digest\0" one after
 * the other in arena, then sorted in the target cursor's order (collation "C": strcmp).
 */
typedef struct key_store {
    strbuf arena;
    size_t *off;
    size_t n, cap;
    bool over; /* more than SRC_LIST_MAX_ROWS rows: not kept */
} key_store;

#define SRC_LIST_MAX_ROWS 2000000

static void key_store_add(key_store *k, const char *key, const char *digest)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 1024;
        k->off = xrealloc(k->off, k->cap * sizeof *k->off);
    }
    k->off[k->n++] = k->arena.len;
    strbuf_append_len(&k->arena, key, strlen(key) + 1);
    strbuf_append_len(&k->arena, digest, strlen(digest) + 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys in order, pointing into the arena (caller frees the array, not the strings). */
static const char **key_store_sorted(const key_store *k)
{
    const char **v = xcalloc(k->n + 1, sizeof *v);
    for (size_t i = 0; i < k->n; i++)
        v[i] = k->arena.data + k->off[i];
    qsort(v, k->n, sizeof *v, cmp_str);
    return v;
}

static void key_store_free(key_store *k)
{
    strbuf_free(&k->arena);
    free(k->off);
    *k = (key_store){.arena = STRBUF_INIT};
}

/* Append COPY-escaped text, decoded, as the inside of a quoted field of a row literal in an array element. */
static void append_field(strbuf *b, const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        if (ch == '\\' && i + 1 < n) {
            ch = v[++i];
            ch = ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch == 't' ? '\t' : ch == 'b' ? '\b'
                 : ch == 'f' ? '\f' : ch == 'v' ? '\v' : ch;
        }
        /* a row literal escapes " and \ with \; the array element escapes each of those again */
        if (ch == '"' || ch == '\\')
            strbuf_append(b, "\\\\");
        if (ch == '"' || ch == '\\')
            strbuf_append_char(b, '\\');
        strbuf_append_char(b, ch);
    }
}

/* The answer to the batch sent last, added to the sum. */
static bool batch_collect(src_batch *b)
{
    if (!b->sent_rows)
        return true;
    PGresult *res = PQgetResult(b->parse->pg), *x;
    bool ok;
    if (b->keys) {
        ok = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == (int)b->sent_rows;
        for (int i = 0; ok && !b->keys->over && i < PQntuples(res); i++)
            key_store_add(b->keys, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    } else {
        ok = res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
             strtoll(PQgetvalue(res, 0, 0), NULL, 10) == (long long)b->sent_rows &&
             sum_add(&b->sum, PQgetvalue(res, 0, 1));
    }
    if (!ok && !b->error) {
        const char *why = res && PQresultStatus(res) == PGRES_TUPLES_OK ? "an unexpected answer"
                                                                         : pgconn_note_result(b->parse, res);
        b->error = xasprintf("its rows do not read as the target's column types: %.*s", (int)strcspn(why, "\n"), why);
    }
    PQclear(res);
    while ((x = PQgetResult(b->parse->pg)))
        PQclear(x);
    b->sent_rows = 0;
    return ok;
}

/*
 * Send the rows gathered to the target, after reading its answer to the previous batch: the
 * target parses and hashes one batch while the next is read from the source.
 */
static bool batch_flush(src_batch *b)
{
    if (!b->rows)
        return true;
    if (!batch_collect(b))
        return false;
    strbuf_append_char(&b->arr, '}');
    const char *p[1] = {b->arr.data};
    if (PQsendQueryParams(b->parse->pg, b->query, 1, NULL, p, NULL, NULL, 0) != 1) {
        if (!b->error)
            b->error = xasprintf("sending rows to the target failed: %.*s",
                                 (int)strcspn(PQerrorMessage(b->parse->pg), "\n"), PQerrorMessage(b->parse->pg));
        return false;
    }
    b->sent_rows = b->rows;
    strbuf_reset(&b->arr);
    b->rows = 0;
    return true;
}

static bool batch_row(void *arg, const char *data, size_t len)
{
    src_batch *b = arg;
    const table_job *t = b->t;
    b->count++;
    if (!b->parse)
        return true;
    if (b->keys && b->count > SRC_LIST_MAX_ROWS) {
        /* read on without keeping them: the reader stays fit for the worker's next ranges */
        if (!b->keys->over) {
            b->keys->over = true;
            strbuf_reset(&b->arr);
            b->rows = 0;
        }
        return true;
    }
    if (len && data[len - 1] == '\n')
        len--;
    size_t nf = 0;
    const char *p = data, *end = data + len;
    for (;;) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *fe = tab ? tab : end;
        if (nf < b->nfields) {
            b->field[nf] = p;
            b->flen[nf] = (size_t)(fe - p);
        }
        nf++;
        if (!tab)
            break;
        p = tab + 1;
    }
    if (nf != b->nfields) {
        b->error = xasprintf("a row has %zu fields where %zu columns were listed", nf, b->nfields);
        return false;
    }
    strbuf_append(&b->arr, b->rows ? ",\"(" : "{\"(");
    for (size_t a = 0; a < t->src_nattrs; a++) {
        if (a)
            strbuf_append_char(&b->arr, ',');
        size_t f = b->field_at[a];
        if (f == SIZE_MAX || (b->flen[f] == 2 && b->field[f][0] == '\\' && b->field[f][1] == 'N'))
            continue; /* NULL */
        strbuf_append(&b->arr, "\\\"");
        append_field(&b->arr, b->field[f], b->flen[f]);
        strbuf_append(&b->arr, "\\\"");
    }
    strbuf_append(&b->arr, ")\"");
    b->rows++;
    if (b->rows >= SRC_BATCH_ROWS || b->arr.len >= SRC_BATCH_BYTES)
        return batch_flush(b);
    return true;
}

static bool batch_stop(void *arg)
{
    const src_batch *b = arg;
    return b->r->ctx->interrupted && *b->r->ctx->interrupted;
}

/* Range `range` of t as the source compares it. */
static source_key_range src_key_range(const table_job *t, size_t range)
{
    source_key_range k = {.key = NULL};
    if (t->src_key && t->npreds > 1) {
        k.key = t->src_key;
        k.kind = t->src_kind;
        k.lo = range > 0 ? t->src_bounds[range - 1] : NULL;
        k.hi = range + 1 < t->npreds ? t->src_bounds[range] : NULL;
    }
    return k;
}

/* Why a range could not be read from the source (caller frees). */
static char *src_failure(const src_batch *b, source_rows_result rr)
{
    return b && b->error                ? xstrdup(b->error)
           : rr == SOURCE_ROWS_STOPPED ? xstrdup("interrupted")
           : rr == SOURCE_ROWS_STALLED ? xasprintf("the source sent nothing for %d s", SRC_STALL_MS / 1000)
                                       : xstrdup("reading its rows failed (the log says why)");
}

/*
 * The source's count and row-hash sum of one range (*sum "" when only counted: the source counts
 * them itself), or with keys (--level rows) every row's key and digest into *keys. False with
 * *err (caller frees) when the range could not be read; the worker's reader is then closed.
 */
static bool src_range(worker *w, size_t side, const table_job *t, size_t range, bool hash, key_store *keys,
                      int64_t *count, char sum[48], char **err)
{
    run *r = w->r;
    /* side 0: the source; 2: a source-replica read the same way (run.rep) */
    source *db = side == 0 ? r->src : r->rep;
    source_rows **rows = side == 0 ? &w->rows : &w->rep_rows;
    const src_table *st = side == 0 ? t->src : t->rep;
    sum[0] = '\0';
    if (!*rows) {
        *err = xasprintf("this worker's %s reader failed on an earlier range", db_role_name(r->conf[side]->role));
        return false;
    }
    source_key_range k = src_key_range(t, range);
    source_rows_result rr;
    if (!hash && !keys) {
        rr = db->ops->rows_count_key_range(*rows, st, &k, SRC_STALL_MS, count);
        if (rr == SOURCE_ROWS_DONE)
            return true;
        *err = src_failure(NULL, rr);
        db->ops->rows_close(*rows);
        *rows = NULL;
        return false;
    }
    src_batch b = {.r = r, .t = t, .parse = w->parse, .arr = STRBUF_INIT, .keys = keys,
                   .field_at = side == 0 ? t->src_field_at : t->rep_field_at,
                   .nfields = side == 0 ? t->src_nfields : t->rep_nfields};
    char *query = keys ? xasprintf("SELECT %s, %s FROM unnest($1::%s[]) AS x",
                                   t->side[1].key_text ? t->side[1].key_text : t->side[1].row_digest,
                                   t->side[1].key_text ? t->side[1].row_digest : "''", t->src_rows_type)
                       : xasprintf("SELECT count(*), coalesce(sum(%s), 0)::text FROM unnest($1::%s[]) AS x",
                                   t->side[1].row_hash, t->src_rows_type);
    b.query = query;
    b.field = xcalloc(t->src_nfields + 1, sizeof *b.field);
    b.flen = xcalloc(t->src_nfields + 1, sizeof *b.flen);
    source_rows_sink sink = {.table = t->name->name, .arg = &b, .row = batch_row, .stop = batch_stop};
    rr = db->ops->rows_read_key_range(*rows, st, &k, SRC_STALL_MS, &sink);
    bool ok = rr == SOURCE_ROWS_DONE && batch_flush(&b);
    ok = batch_collect(&b) && ok; /* also after a failure: the session must be idle again */
    if (ok) {
        *count = b.count;
        if (!keys)
            sum_text(b.sum, sum);
    } else {
        *err = src_failure(&b, rr);
    }
    if (rr != SOURCE_ROWS_DONE) {
        /* stopped in the middle of the rows: the reader is fit only to be closed (source.h) */
        db->ops->rows_close(*rows);
        *rows = NULL;
    }
    free(b.error);
    free(b.field);
    free(b.flen);
    free(query);
    strbuf_free(&b.arr);
    return ok;
}

/*
 * drill_down with the source read through the seam: the source's rows of the range, their keys
 * and digests computed on the target as its own, sorted here (byte order, as the target's
 * cursor orders by key text in collation "C"), merged with the target's cursor.
 */
static void drill_down_src(worker *w, table_job *t, size_t range)
{
    run *r = w->r;
    bool no_pk = t->side[1].key_text == NULL;
    key_store keys = {.arena = STRBUF_INIT};
    int64_t n = 0;
    char sum[48], *err = NULL;
    bool read = src_range(w, 0, t, range, true, &keys, &n, sum, &err);
    if (!read || keys.over) {
        pthread_mutex_lock(&t->mu);
        if (read) {
            t->unlisted[1]++;
            log_warn("table %s.%s: key range %zu holds more than %d rows on the source: its differing keys "
                     "are not listed", t->name->schema, t->name->name, range + 1, SRC_LIST_MAX_ROWS);
        } else {
            note_error(t, 0, xasprintf("listing rows failed: %s", err));
        }
        pthread_mutex_unlock(&t->mu);
        free(err);
        key_store_free(&keys);
        return;
    }
    const char **src = key_store_sorted(&keys);
    pgconn *cp = w->c[1];
    const side_table *st = &t->side[1];
    char *sql = compare_sql_rows_cursor_digest("compare_rows", st->from, t->preds[range], st->key_text,
                                               st->row_digest);
    char *wrapped = xasprintf("SAVEPOINT compare_rows_sp; %s", sql);
    cursor_side x = {cp, NULL, 0, false, false};
    bool ok = pgconn_exec(cp, wrapped);
    free(wrapped);
    free(sql);
    size_t i = 0;
    while (ok) {
        bool a = i < keys.n, bb = cur_ready(&x);
        if (!a && !bb)
            break;
        const char *sk = a ? src[i] : NULL;
        int cmp = !a ? 1 : !bb ? -1 : strcmp(sk, cur_key(&x));
        if (cmp < 0) {
            add_key(r, t, 1, "missing", sk, no_pk);
            i++;
        } else if (cmp > 0) {
            add_key(r, t, 1, "extra", cur_key(&x), no_pk);
            x.row++;
        } else {
            if (!no_pk && strcmp(sk + strlen(sk) + 1, cur_hash(&x)) != 0)
                add_key(r, t, 1, "changed", sk, no_pk);
            i++;
            x.row++;
        }
    }
    if (!ok || x.failed) {
        pthread_mutex_lock(&t->mu);
        note_error(t, 1, xasprintf("listing rows failed: %s", pgconn_note_result(cp, NULL)));
        pthread_mutex_unlock(&t->mu);
    }
    PQclear(x.res);
    PGresult *rb = PQexec(cp->pg, "ROLLBACK TO SAVEPOINT compare_rows_sp; RELEASE SAVEPOINT compare_rows_sp");
    PQclear(rb);
    free(src);
    key_store_free(&keys);
}

/* do_range with the source read through the seam: the target's query runs meanwhile. */
static void do_range_src(worker *w, table_job *t, size_t range)
{
    run *r = w->r;
    const char *pred = t->preds[range];
    char *sql[MAX_SIDES] = {NULL};
    char *err[MAX_SIDES] = {NULL};
    PGresult *res[MAX_SIDES];
    bool sent[MAX_SIDES];
    bool hash = t->side[1].exists && !t->side[1].why && t->side[1].row_hash;
    if (t->side[1].exists)
        sql[1] = compare_sql_sum_query(t->side[1].from, pred, t->side[1].why ? NULL : t->side[1].row_hash);
    run_send(w->c, sql, r->nsides, sent, res, err);
    int64_t n0 = 0;
    char sum0[48] = "";
    bool ok0 = t->side[0].exists && src_range(w, 0, t, range, hash, NULL, &n0, sum0, &err[0]);
    run_collect(w->c, r->nsides, sent, res, err);
    free(sql[1]);
    /* the source-replica's rows after the source's, parsed and hashed on the same target session */
    int64_t n2 = 0;
    char sum2[48] = "";
    bool ok2 = r->rep && t->side[2].exists && !t->side[2].why &&
               src_range(w, 2, t, range, hash, NULL, &n2, sum2, &err[2]);
    pthread_mutex_lock(&t->mu);
    if (err[0])
        note_error(t, 0, err[0]);
    if (err[1])
        note_error(t, 1, err[1]);
    if (err[2])
        note_error(t, 2, err[2]);
    if (ok2)
        t->rows[2] += n2;
    if (ok0 && ok2 && (n0 != n2 || (hash && strcmp(sum0, sum2) != 0))) {
        log_info("table %s.%s: key range %zu of %zu differs on %s (%s)", t->name->schema, t->name->name,
                 range + 1, t->npreds, db_role_name(r->conf[2]->role), pred);
        t->bad_ranges[2]++;
        t->count_differs[2] |= n0 != n2;
    }
    int64_t n1 = 0;
    const char *h1 = NULL;
    if (ok0)
        t->rows[0] += n0;
    if (res[1] && PQntuples(res[1]) == 1) {
        n1 = strtoll(PQgetvalue(res[1], 0, 0), NULL, 10);
        t->rows[1] += n1;
        if (PQnfields(res[1]) > 1)
            h1 = PQgetvalue(res[1], 0, 1);
    }
    t->ranges_done++;
    bool drill = false;
    if (ok0 && res[1]) {
        bool count_diff = n0 != n1;
        if (count_diff || (hash && h1 && strcmp(sum0, h1) != 0)) {
            log_info("table %s.%s: key range %zu of %zu differs on %s (%s)", t->name->schema, t->name->name,
                     range + 1, t->npreds, db_role_name(r->conf[1]->role), pred);
            t->bad_ranges[1]++;
            t->count_differs[1] |= count_diff;
            drill = r->spec->level == COMPARE_ROWS && hash && h1;
        }
    }
    pthread_mutex_unlock(&t->mu);
    PQclear(res[1]);
    if (drill)
        drill_down_src(w, t, range);
}

/* A target session for parsing the source's rows: the same settings, no transaction (a refused batch spoils nothing). */
static pgconn *open_parse_session(run *r)
{
    pgconn_options o = {.application_name = APP_NAME};
    pgconn *c = pgconn_connect(r->conf[1], &o);
    if (!c)
        return NULL;
    char *set = compare_sql_session_settings(r->spec->statement_timeout_s);
    bool ok = pgconn_exec(c, set);
    free(set);
    if (!ok) {
        pgconn_close(c);
        return NULL;
    }
    return c;
}

/* The table of ts that is t on the target (the names the migration gives it there), or NULL. */
static const src_table *src_table_in(const src_tables *ts, const compare_table_name *n)
{
    for (size_t i = 0; i < ts->count; i++)
        if (strcmp(ts->items[i].schema, n->schema) == 0 && strcmp(ts->items[i].name, n->name) == 0)
            return &ts->items[i];
    return NULL;
}

/* How the source compares a key of this target type (source.h), false: the table is not split. */
static bool src_key_kind(const char *type, source_key_kind *k)
{
    static const struct {
        const char *type;
        source_key_kind kind;
    } map[] = {{"int2", SOURCE_KEY_INTEGER},   {"int4", SOURCE_KEY_INTEGER}, {"int8", SOURCE_KEY_INTEGER},
               {"numeric", SOURCE_KEY_NUMERIC}, {"text", SOURCE_KEY_TEXT},    {"varchar", SOURCE_KEY_TEXT},
               {"bpchar", SOURCE_KEY_TEXT},     {"bytea", SOURCE_KEY_BYTES},  {"date", SOURCE_KEY_DATE},
               {"timestamp", SOURCE_KEY_TIMESTAMP}, {"timestamptz", SOURCE_KEY_TIMESTAMPTZ}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].type, type) == 0) {
            *k = map[i].kind;
            return true;
        }
    return false;
}

/*
 * The target's expression of key column kq that orders as the source compares (source.h:
 * text by its bytes, without char(n)'s padding), and the form a bound must have for the source
 * to take it (a value outside it, NaN or infinity, say, is never a bound).
 */
static char *src_key_expr(const char *kq, source_key_kind kind)
{
    return kind == SOURCE_KEY_TEXT ? xasprintf("(%s::text COLLATE \"C\")", kq) : xstrdup(kq);
}

static const char *src_bound_form(source_key_kind kind)
{
    switch (kind) {
    case SOURCE_KEY_NUMERIC:
        return "^-?[0-9]+(\\.[0-9]+)?$";
    case SOURCE_KEY_DATE:
        return "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
    case SOURCE_KEY_TIMESTAMP:
        return "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?$";
    case SOURCE_KEY_TIMESTAMPTZ:
        return "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?\\+00$";
    default:
        return NULL;
    }
}

/*
 * Boundaries of a key the source compares as kind: a sample of the target's keys (in its
 * snapshot: the boundaries only split the work, any value does), sorted as both sides compare,
 * every (n / want)-th distinct one (sample_ranges' sizes). Sets t->preds and t->src_bounds; none
 * when the sample is empty or cannot be taken (one range). False only when the session failed.
 */
static bool sample_src_bounds(pgconn *c, table_job *t, const char *key, source_key_kind kind, double est,
                              size_t want)
{
    char *kq = pg_quote_ident(key);
    char *expr = src_key_expr(kq, kind);
    const char *form = src_bound_form(kind);
    double rows = (double)want * 200 < SAMPLE_ROWS ? SAMPLE_ROWS : (double)want * 200;
    double pct = est > 0 ? rows * 100 / est : 100;
    char *sql = compare_sql_sample_keys(t->side[1].from, kq, expr, est > SAMPLE_BLOCKS_ABOVE, pct, form);
    PGresult *res = NULL;
    bool ok = sample_keys(c, t, sql, &res);
    size_t n = res ? (size_t)PQntuples(res) : 0;
    const char **bounds = xcalloc(want ? want : 1, sizeof *bounds);
    size_t nb = 0;
    for (size_t i = 1; ok && n && i < want; i++) {
        const char *v = PQgetvalue(res, (int)(i * n / want), 0);
        if (nb && strcmp(bounds[nb - 1], v) == 0)
            continue;
        bounds[nb++] = v;
    }
    if (nb) {
        const char *cols[1] = {expr};
        t->npreds = compare_sql_key_ranges(cols, 1, bounds, nb, &t->preds);
        t->src_bounds = xcalloc(nb, sizeof *t->src_bounds);
        for (size_t i = 0; i < nb; i++)
            t->src_bounds[i] = xstrdup(bounds[i]);
    }
    free(bounds);
    PQclear(res);
    free(expr);
    free(kq);
    free(sql);
    return ok;
}

/*
 * The source-replica's table of t (run.rep): its columns must be the source's (sc, in the
 * source's order), else it is DIFFERENT with why; its fields fill the target's row type as the
 * source's do (src_field_at).
 */
static void prepare_table_rep(table_job *t, const src_tables *rtables, const columns *sc)
{
    t->rep = src_table_in(rtables, t->name);
    t->side[2].exists = t->rep != NULL;
    if (!t->rep || !t->side[0].exists || !t->side[1].exists)
        return; /* the source's columns are known once the target has the table (sc) */
    cJSON *names = cJSON_Parse(t->rep->columns_json);
    size_t nn = (size_t)cJSON_GetArraySize(names);
    size_t *pos = xcalloc(sc->n + 1, sizeof *pos); /* source field -> replica field */
    for (size_t f = 0; f < sc->n; f++) {
        pos[f] = SIZE_MAX;
        for (size_t i = 0; i < nn; i++) {
            const cJSON *it = cJSON_GetArrayItem(names, (int)i);
            if (cJSON_IsString(it) && strcmp(it->valuestring, sc->items[f].name) == 0)
                pos[f] = i;
        }
        if (pos[f] == SIZE_MAX && !t->side[2].why)
            t->side[2].why = xasprintf("column %s is missing on source-replica", sc->items[f].name);
    }
    if (!t->side[2].why && nn != sc->n)
        t->side[2].why = xasprintf("source-replica has %zu columns where the source has %zu", nn, sc->n);
    cJSON_Delete(names);
    if (!t->side[2].why && t->src_field_at) {
        t->rep_nfields = nn;
        t->rep_field_at = xcalloc(t->src_nattrs + 1, sizeof *t->rep_field_at);
        for (size_t a = 0; a < t->src_nattrs; a++)
            t->rep_field_at[a] = t->src_field_at[a] == SIZE_MAX ? SIZE_MAX : pos[t->src_field_at[a]];
    }
    free(pos);
}

/*
 * prepare_table for a source read through the seam: the target's catalog gives the columns,
 * their types and the key; the source's column list (as export data copies it) must name the
 * same columns. Ranges split the first key column when the source compares its type as the
 * target does (src_key_kind): an integer between the target's bounds, any other at boundaries
 * sampled on the target (the outer ranges open); any other key, or none: one range.
 */
static bool prepare_table_src(run *r, pgconn **coord, table_job *t, bool trim_scale)
{
    const compare_spec *sp = r->spec;
    char *q = pg_quote_qualified(t->name->schema, t->name->name);
    columns tc = {0}, sc = {0};
    char relkind = 0;
    double est = 0;
    bool ok = true;
    if (!load_columns(coord[1], q, &t->side[1].exists, &relkind, &est, &tc)) {
        t->error[1] = xasprintf("reading the catalog failed: %s", pgconn_note_result(coord[1], NULL));
        t->side[1].exists = false;
    }
    if (t->side[1].exists)
        t->side[1].from = xasprintf("%s%s", relkind == 'p' ? "" : "ONLY ", q);
    t->src = src_table_in(&r->stables, t->name);
    t->side[0].exists = t->src != NULL;
    const column *keys[tc.n + 1];
    size_t nkeys = key_columns(&tc, keys);
    bool hash = sp->level != COMPARE_COUNT;
    if (t->side[0].exists && t->side[1].exists) {
        cJSON *names = cJSON_Parse(t->src->columns_json);
        size_t nn = (size_t)cJSON_GetArraySize(names);
        sc.items = xcalloc(nn + 1, sizeof *sc.items);
        for (size_t i = 0; i < nn; i++) {
            const cJSON *it = cJSON_GetArrayItem(names, (int)i);
            const char *nm = cJSON_IsString(it) ? it->valuestring : "";
            column *c = &sc.items[sc.n++];
            column *m = (column *)column_find(&tc, nm);
            if (m)
                m->native = r->hash_kind == ROW_HASH_NATIVE && compare_sql_native_type(m->cat_type, m->elem);
            *c = (column){.name = xstrdup(nm), .type = xstrdup(m ? m->type : ""),
                          .cat_type = xstrdup(m ? m->cat_type : ""), .elem = xstrdup(m ? m->elem : ""),
                          .coll = xstrdup(""), .key_pos = -1, .native = m && m->native};
        }
        cJSON_Delete(names);
        build_side(&t->side[1], &sc, keys, nkeys, &tc, trim_scale, r->hash_kind, hash,
                   db_role_name(r->conf[1]->role));
        if (t->side[1].key_text)
            t->side[0].key_text = xstrdup(t->side[1].key_text);
        if (!t->side[1].why && hash) {
            /* the target's row type, attribute by attribute: which source field fills it */
            const char *p[] = {q};
            PGresult *res = pgconn_query(coord[1], "SELECT attname FROM pg_attribute WHERE attrelid = "
                                                   "to_regclass($1) AND attnum > 0 AND NOT attisdropped "
                                                   "ORDER BY attnum",
                                         1, p);
            ok = res != NULL;
            if (ok) {
                t->src_nattrs = (size_t)PQntuples(res);
                t->src_nfields = sc.n;
                t->src_field_at = xcalloc(t->src_nattrs + 1, sizeof *t->src_field_at);
                for (size_t a = 0; a < t->src_nattrs; a++) {
                    t->src_field_at[a] = SIZE_MAX;
                    for (size_t f = 0; f < sc.n; f++)
                        if (strcmp(sc.items[f].name, PQgetvalue(res, (int)a, 0)) == 0)
                            t->src_field_at[a] = f;
                }
                t->src_rows_type = xstrdup(q);
                t->side[0].row_hash = xstrdup(t->side[1].row_hash);
            }
            PQclear(res);
        }
    }
    if (r->rep)
        prepare_table_rep(t, &r->rtables, &sc);
    size_t want = 1;
    source_key_kind kind = SOURCE_KEY_INTEGER;
    if (nkeys && t->side[1].exists && t->side[0].exists && src_key_kind(keys[0]->type, &kind)) {
        want = (size_t)(est / RANGE_ROWS) + 1;
        if (est >= RANGE_ROWS / 2 && want < (size_t)sp->parallel)
            want = (size_t)sp->parallel;
        if (want > MAX_RANGES)
            want = MAX_RANGES;
        /* text compares by its bytes on both sides, which no index of either serves: each range scans */
        if (kind == SOURCE_KEY_TEXT && want > (size_t)sp->parallel)
            want = (size_t)sp->parallel;
    }
    if (ok && want > 1 && kind == SOURCE_KEY_INTEGER) {
        char *kq = pg_quote_ident(keys[0]->name);
        bool any = false;
        int64_t lo = 0, hi = 0;
        ok = key_bounds(coord[1], t->side[1].from, kq, &any, &lo, &hi);
        if (ok && any) {
            /* one split: compare_sql_ranges is built on compare_sql_range_bounds */
            int64_t *b = NULL;
            t->npreds = compare_sql_ranges(kq, lo, hi, want, &t->preds);
            size_t n = compare_sql_range_bounds(lo, hi, want, &b);
            t->src_bounds = xcalloc(n, sizeof *t->src_bounds);
            for (size_t i = 0; i + 1 < n; i++)
                t->src_bounds[i] = xasprintf("%" PRId64, b[i]);
            free(b);
        }
        free(kq);
    } else if (ok && want > 1) {
        ok = sample_src_bounds(coord[1], t, keys[0]->name, kind, est, want);
    }
    if (t->npreds > 1) {
        t->src_key = xstrdup(keys[0]->name);
        t->src_kind = kind;
    }
    if (!t->npreds) {
        t->preds = xcalloc(1, sizeof *t->preds);
        t->preds[0] = xstrdup("true");
        t->npreds = 1;
    }
    columns_free(&tc);
    columns_free(&sc);
    free(q);
    return ok;
}

static const char *importer_of(db_role role);
static const char *importer_command(db_role role);
static bool live_session(run *r, size_t s, pgconn **c, const char *first_query, PGresult **first);

/*
 * A live migration before cutover with a source read through the seam: the consistent point
 * of open_live, with the source's snapshot position exact (snapshot_begin_point: MariaDB's
 * binlog_snapshot_position), so the exporter checks no visibility and never answers "retry".
 * The source's snapshot is taken here, for r->src_readers readers.
 */
static engine_status open_live_src(run *r, pgconn **coord, int64_t *point_vsn)
{
    const compare_spec *sp = r->spec;
    int wait_ms = (sp->point_timeout_s > 0 ? sp->point_timeout_s : 60) * 1000;
    db_role role = r->conf[1]->role;
    int64_t held = 0, vsn = -1;
    if (!cp_pause(r->ctx->cat, importer_of(role), wait_ms, &held)) {
        log_report(LOG_ERROR,
                   "a live comparison needs the running export data and import data to hold at a "
                   "consistent point",
                   "start them, or compare after cutover",
                   "the migration is live and %s did not answer within %d s", importer_command(role),
                   wait_ms / 1000);
        return ENGINE_BAD_STATE;
    }
    engine_status rc = ENGINE_OK;
    for (int attempt = 0; rc == ENGINE_OK; attempt++) {
        src_position pos = 0;
        int readers = r->src_readers;
        r->snapshot[0] = r->src->ops->snapshot_begin_point(r->src, &readers, &pos);
        if (!r->snapshot[0]) {
            rc = ENGINE_SOURCE_FAILED;
            break;
        }
        r->src_readers = readers;
        char pt[32];
        cp_answer a = cp_ask_exporter(r->ctx->cat, pos, "", wait_ms, &vsn);
        log_info("consistent point: source snapshot at %s %s: %s", r->src->ops->position_name,
                 r->src->ops->format_position(pos, pt), a == CP_ANSWERED ? "queue vsn found" : "no answer");
        if (a == CP_NO_ANSWER) {
            log_report(LOG_ERROR, "a live comparison needs it running", "start it, or compare after cutover",
                       "the migration is live and export data (from source) did not answer within %d s",
                       wait_ms / 1000);
            rc = ENGINE_BAD_STATE;
            break;
        }
        if (a == CP_ANSWERED && vsn >= held)
            break;
        /* the importer was already past the snapshot (it cannot hold before it): a new snapshot */
        r->src->ops->snapshot_end(r->src, false);
        free(r->snapshot[0]);
        r->snapshot[0] = NULL;
        if (attempt >= 20) {
            log_error("no consistent point after %d attempts: compare data again", attempt + 1);
            rc = ENGINE_BAD_STATE;
        }
    }
    if (rc == ENGINE_OK && !cp_advance(r->ctx->cat, importer_of(role), vsn, wait_ms)) {
        log_error("%s did not apply the changes up to vsn %lld within %d s: compare data again (or compare "
                  "after cutover)",
                  importer_command(role), (long long)vsn, wait_ms / 1000);
        rc = ENGINE_BAD_STATE;
    } else if (rc == ENGINE_OK && !live_session(r, 1, &coord[1], NULL, NULL)) {
        rc = ENGINE_TARGET_FAILED;
    }
    cp_release(r->ctx->cat, importer_of(role));
    if (rc == ENGINE_OK) {
        log_info("consistent point: source snapshot and queue vsn %lld applied on the %s database", (long long)vsn,
                 db_role_name(role));
        *point_vsn = vsn;
    }
    return rc;
}

/*
 * Connect a copy read through the seam and list its tables into *out; a refused input stays
 * ENGINE_BAD_INPUT, anything else is `failed` (the source's or the source-replica's exit code).
 */
static engine_status connect_and_list(source *s, src_tables *out, engine_status failed)
{
    engine_status st = s->ops->connect(s, false, NULL);
    if (st != ENGINE_OK)
        return st == ENGINE_BAD_INPUT ? st : failed;
    strlist schemas = STRLIST_INIT;
    bool ok = s->ops->resolve_schemas(s, &schemas);
    const char **names = xcalloc(schemas.count + 1, sizeof *names);
    for (size_t i = 0; i < schemas.count; i++)
        names[i] = schemas.items[i];
    ok = ok && s->ops->list_tables(s, names, out);
    free(names);
    strlist_free(&schemas);
    return ok ? ENGINE_OK : failed;
}

/*
 * The source-replica of a source read through the seam (side 2): the same seam, its own
 * snapshot (taken with the source's, once the work is known). Offline or after cutover only,
 * and --level count or checksum: at the consistent point of a live migration the importer of
 * the source-replica would have to be paused too, and --level rows' drill-down walks the
 * target's cursor, not a second seam reader (neither built: refused).
 */
static engine_status open_rep(run *r, engine_ctx *ctx)
{
    const compare_spec *sp = r->spec;
    const db_conf *rc = sp->copies[1];
    if (!rc->type || strcmp(rc->type, sp->source->type) != 0) {
        log_report(LOG_ERROR, NULL, NULL,
                   "compare data with a %s source compares a %s source-replica only (this one is %s)",
                   sp->source->type, sp->source->type, rc->type ? rc->type : "postgresql");
        return ENGINE_NOT_SUPPORTED;
    }
    if (sp->live) {
        log_report(LOG_ERROR, NULL, "compare after cutover to target",
                   "compare data with a %s source-replica during a live migration is not built",
                   rc->type);
        return ENGINE_NOT_SUPPORTED;
    }
    if (sp->level == COMPARE_ROWS) {
        log_report(LOG_ERROR, NULL, "use --level checksum or count",
                   "compare data --level rows with a %s source-replica is not built", rc->type);
        return ENGINE_NOT_SUPPORTED;
    }
    engine_status st = ENGINE_OK;
    r->rep = source_for(ctx, sp->copies[1], "compare data from source-replica", &st);
    if (!r->rep)
        return st;
    r->rep->statement_timeout_s = sp->statement_timeout_s > 0 ? sp->statement_timeout_s : 0;
    const source_ops *ops = r->rep->ops;
    if (!ops->rows_read_key_range || !ops->rows_count_key_range || !ops->snapshot_begin_readers) {
        log_report(LOG_ERROR, NULL, NULL, "compare data cannot read a %s source-replica in this build",
                   rc->type);
        return ENGINE_NOT_SUPPORTED;
    }
    return connect_and_list(r->rep, &r->rtables, ENGINE_TARGET_FAILED);
}

/*
 * The source through the seam: offline or after cutover, the source and the target as they
 * are (the source's snapshot is taken once the work is known); during a live migration at the
 * consistent point (open_live_src). A source-replica: open_rep.
 */
static engine_status open_src(run *r, engine_ctx *ctx, pgconn **coord, int64_t *point_vsn)
{
    const compare_spec *sp = r->spec;
    const char *type = sp->source->type;
    engine_status st = ENGINE_OK;
    if (sp->ncopies == 2 && (st = open_rep(r, ctx)) != ENGINE_OK)
        return st;
    r->src = source_for(ctx, sp->source, "compare data from source", &st);
    if (!r->src)
        return st;
    r->src->statement_timeout_s = sp->statement_timeout_s > 0 ? sp->statement_timeout_s : 0;
    const source_ops *ops = r->src->ops;
    if (!ops->rows_read_key_range || !ops->rows_count_key_range || !ops->snapshot_begin_readers ||
        (sp->live && !ops->snapshot_begin_point)) {
        log_report(LOG_ERROR, NULL, sp->live ? "compare after cutover to target" : NULL,
                   "compare data cannot read a %s source%s in this build", type,
                   sp->live ? " during a live migration" : "");
        return ENGINE_NOT_SUPPORTED;
    }
    st = connect_and_list(r->src, &r->stables, ENGINE_SOURCE_FAILED);
    if (st != ENGINE_OK)
        return st;
    if (sp->live) {
        r->src_readers = sp->parallel < 1 ? 1 : sp->parallel;
        return open_live_src(r, coord, point_vsn);
    }
    coord[1] = open_session(r, 1, true);
    if (!coord[1] || !export_snapshot(r, 1, coord[1]))
        return ENGINE_TARGET_FAILED;
    return ENGINE_OK;
}


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
        if (r->src)
            do_range_src(w, r->items[i].t, r->items[i].range);
        else
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
            if (t->unlisted[s]) {
                char *d = xasprintf("%s; %zu differing key ranges of more than %d rows not listed", out->detail,
                                    t->unlisted[s], SRC_LIST_MAX_ROWS);
                free(out->detail);
                out->detail = d;
            }
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
        free(t->side[s].row_hash);
        free(t->side[s].row_digest);
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
    free(t->src_rows_type);
    free(t->src_field_at);
    free(t->rep_field_at);
    free(t->src_key);
    for (size_t i = 0; t->src_bounds && i + 1 < t->npreds; i++)
        free(t->src_bounds[i]);
    free(t->src_bounds);
    pthread_mutex_destroy(&t->mu);
}

/* Does the probe give the same value on every side? false when a session failed. */
static bool probe_agrees(run *r, pgconn **coord, const char *probe, bool *same)
{
    char *first = NULL;
    *same = true;
    for (size_t s = 0; s < r->nsides && *same; s++) {
        if (!coord[s])
            continue; /* a source read through the seam: its rows are hashed on the target */
        if (!pgconn_exec(coord[s], "SAVEPOINT compare_probe")) {
            free(first);
            return false;
        }
        PGresult *res = pgconn_query_quiet(coord[s], probe, 0, NULL);
        const char *v = res && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL;
        *same = v && (!first || strcmp(first, v) == 0);
        if (v && !first)
            first = xstrdup(v);
        PQclear(res);
        if (!pgconn_exec(coord[s], v ? "RELEASE SAVEPOINT compare_probe"
                                     : "ROLLBACK TO SAVEPOINT compare_probe; RELEASE SAVEPOINT compare_probe")) {
            free(first);
            return false;
        }
    }
    free(first);
    return true;
}

/*
 * The row hash every side computes alike. hash_record_extended (PostgreSQL
 * 14+) skips the output functions and is about three times cheaper than
 * hashing the row's text form; hashtextextended of the text form is about a
 * third cheaper than md5. Each depends on the server having the function and
 * on its byte order: a probe must give the same value on every side.
 */
static row_hash_kind choose_row_hash(run *r, pgconn **coord)
{
    bool same = false;
    if (!r->spec->text_hash_only && probe_agrees(r, coord, COMPARE_SQL_NATIVE_PROBE, &same) && same) {
        log_info("row hash: hash_record_extended over the types' own hash functions (same on every side)");
        return ROW_HASH_NATIVE;
    }
    if (probe_agrees(r, coord, COMPARE_SQL_HASH_PROBE, &same) && same) {
        log_info("row hash: hashtextextended of the row's text form (hash_record_extended is missing "
                 "or differs on a side: a server before PostgreSQL 14, or YugabyteDB on PostgreSQL 11)");
        return ROW_HASH_TEXT;
    }
    log_info("row hash: md5 of the row's text form (the servers' text hashes differ)");
    return ROW_HASH_MD5;
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
            log_report(LOG_ERROR,
                       "a live comparison needs the running export data and import data to hold "
                       "at a consistent point",
                       "start them, or compare after cutover",
                       "the migration is live and %s did not answer within %d s",
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
            log_report(LOG_ERROR, "a live comparison needs it running",
                       "start it, or compare after cutover",
                       "the migration is live and export data (from source) did not answer within "
                       "%d s",
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
        } else {
            log_info("consistent point: %s database read with the changes up to queue vsn %lld applied",
                     db_role_name(r->conf[s]->role), (long long)vsn);
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

engine_status compare_run(engine_ctx *ctx, const compare_spec *spec, compare_result *out)
{
    *out = (compare_result){0};
    run r = {.ctx = ctx, .spec = spec, .nsides = spec->ncopies + 1};
    r.conf[0] = spec->source;
    for (size_t i = 0; i < spec->ncopies && i + 1 < MAX_SIDES; i++)
        r.conf[i + 1] = spec->copies[i];
    pgconn *coord[MAX_SIDES] = {NULL};
    int64_t point_vsn = -1;
    bool through_seam = spec->source->type && strcmp(spec->source->type, "postgresql") != 0;
    engine_status rc = through_seam ? open_src(&r, ctx, coord, &point_vsn)
                       : spec->live ? open_live(&r, coord, &point_vsn)
                                    : open_plain(&r, coord);
    bool trim_scale = true;
    for (size_t s = 0; s < r.nsides && rc == ENGINE_OK; s++)
        trim_scale &= !coord[s] || coord[s]->server_version_num >= 130000;
    if (rc == ENGINE_OK)
        r.hash_kind = choose_row_hash(&r, coord);
    int nworkers = spec->parallel < 1 ? 1 : spec->parallel;
    worker *ws = NULL;
    if (rc == ENGINE_OK) {
        r.tables = xcalloc(spec->ntables ? spec->ntables : 1, sizeof *r.tables);
        size_t nitems = 0;
        for (size_t i = 0; i < spec->ntables; i++) {
            table_job *t = &r.tables[i];
            t->name = &spec->tables[i];
            pthread_mutex_init(&t->mu, NULL);
            if (r.src ? !prepare_table_src(&r, coord, t, trim_scale) : !prepare_table(&r, coord, t, trim_scale))
                note_error(t, r.src ? 1 : 0, xasprintf("reading key bounds failed: %s",
                                                       pgconn_note_result(coord[r.src ? 1 : 0], NULL)));
            nitems += t->npreds;
        }
        r.items = xcalloc(nitems ? nitems : 1, sizeof *r.items);
        for (size_t i = 0; i < spec->ntables; i++)
            for (size_t k = 0; k < r.tables[i].npreds; k++)
                r.items[r.nitems++] = (work_item){&r.tables[i], k};
        if ((size_t)nworkers > r.nitems)
            nworkers = r.nitems ? (int)r.nitems : 1;
        if (r.src && !r.snapshot[0]) {
            /* the source's one snapshot, for as many readers as it serves */
            r.src_readers = nworkers;
            r.snapshot[0] = r.src->ops->snapshot_begin_readers(r.src, &r.src_readers);
            if (!r.snapshot[0])
                rc = ENGINE_SOURCE_FAILED;
        }
        if (r.src && r.snapshot[0] && r.src_readers < nworkers)
            nworkers = r.src_readers; /* live: taken at the consistent point, for --parallel-jobs readers */
        if (r.rep && rc == ENGINE_OK) {
            r.rep_readers = nworkers;
            r.snapshot[2] = r.rep->ops->snapshot_begin_readers(r.rep, &r.rep_readers);
            if (!r.snapshot[2])
                rc = ENGINE_TARGET_FAILED;
            else if (r.rep_readers < nworkers)
                nworkers = r.rep_readers;
        }
        ws = xcalloc((size_t)nworkers, sizeof *ws);
        for (int w = 0; w < nworkers && rc == ENGINE_OK; w++) {
            ws[w].r = &r;
            if (r.src) {
                bool transient = false;
                ws[w].rows = r.src->ops->rows_open(r.src, r.snapshot[0], &transient);
                ws[w].parse = ws[w].rows ? open_parse_session(&r) : NULL;
                if (!ws[w].parse) {
                    rc = ws[w].rows ? ENGINE_TARGET_FAILED : ENGINE_SOURCE_FAILED;
                    break;
                }
            }
            if (r.rep) {
                bool transient = false;
                ws[w].rep_rows = r.rep->ops->rows_open(r.rep, r.snapshot[2], &transient);
                if (!ws[w].rep_rows) {
                    rc = ENGINE_TARGET_FAILED;
                    break;
                }
            }
            for (size_t s = r.src ? 1 : 0; s < r.nsides && !(r.rep && s == 2); s++) {
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
    for (int w = 0; ws && w < nworkers; w++) {
        for (size_t s = 0; s < r.nsides; s++)
            pgconn_close(ws[w].c[s]);
        pgconn_close(ws[w].parse);
        if (ws[w].rows)
            r.src->ops->rows_close(ws[w].rows);
        if (ws[w].rep_rows)
            r.rep->ops->rows_close(ws[w].rep_rows);
    }
    free(ws);
    if (r.rep) {
        if (r.snapshot[2])
            r.rep->ops->snapshot_end(r.rep, true);
        source_close(r.rep);
        src_tables_free(&r.rtables);
    }
    if (r.src) {
        if (r.snapshot[0])
            r.src->ops->snapshot_end(r.src, true);
        source_close(r.src);
        src_tables_free(&r.stables);
    }
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
        log_report(LOG_ERROR, NULL, "run compare data again",
                   "interrupted: the comparison is incomplete");
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
