#include "cdc/apply.h"

#include "cdc/import_metainfo.h"
#include "core/log.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool table_meta_load(pgconn *c, const char *schema, const char *table, int idx, table_meta **out)
{
    *out = NULL;
    const char *p[2] = {schema, table};
    char *oid = pgconn_query_value(c,
                                   "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = "
                                   "c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND "
                                   "c.relkind IN ('r', 'p')",
                                   2, p);
    if (!oid) {
        log_error("table %s.%s of the change queue does not exist on the %s database; create it "
                  "(import schema) or exclude it from the migration",
                  schema, table, db_role_name(c->role));
        return false;
    }
    const char *q[1] = {oid};
    PGresult *r = pgconn_query(
        c,
        "SELECT i.indisprimary, (SELECT json_agg(a.attname ORDER BY k.ord) FROM "
        "unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON "
        "a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE k.ord <= i.indnkeyatts)::text "
        "FROM pg_index i WHERE i.indrelid = $1::oid AND i.indisunique AND i.indexprs IS NULL AND "
        "i.indpred IS NULL ORDER BY i.indisprimary DESC, i.indexrelid",
        1, q);
    free(oid);
    if (!r)
        return false;
    table_meta *t = xcalloc(1, sizeof *t);
    t->idx = idx;
    t->schema_name = xstrdup(schema);
    t->table_name = xstrdup(table);
    t->qualified = pg_quote_qualified(schema, table);
    t->count_name = cdc_metainfo_table_name(schema, table);
    int n = PQntuples(r);
    t->uniq = xcalloc((size_t)n + 1, sizeof *t->uniq);
    for (int i = 0; i < n; i++) {
        bool primary = strcmp(PQgetvalue(r, i, 0), "t") == 0;
        strlist cols = STRLIST_INIT;
        cJSON *arr = cJSON_Parse(PQgetvalue(r, i, 1));
        const cJSON *e;
        cJSON_ArrayForEach(e, arr)
        {
            if (cJSON_IsString(e))
                strlist_push(&cols, e->valuestring);
        }
        cJSON_Delete(arr);
        if (primary && t->pk.count == 0)
            t->pk = cols;
        else
            t->uniq[t->nuniq++] = cols;
    }
    PQclear(r);
    log_info("apply: table %s: %zu primary-key column(s), %zu other unique index(es)", t->qualified,
             t->pk.count, t->nuniq);
    *out = t;
    return true;
}

void table_meta_free(table_meta *t)
{
    if (!t)
        return;
    free(t->schema_name);
    free(t->table_name);
    free(t->qualified);
    free(t->count_name);
    strlist_free(&t->pk);
    for (size_t i = 0; i < t->nuniq; i++)
        strlist_free(&t->uniq[i]);
    free(t->uniq);
    free(t);
}

void cdc_item_free(cdc_item *it)
{
    if (!it)
        return;
    cdc_event_free(&it->ev);
    free(it->deps);
    free(it);
}

void applier_init(applier *a, pgconn *conn, int channel, const char *migration_uuid)
{
    memset(a, 0, sizeof *a);
    a->conn = conn;
    a->channel = channel;
    a->migration_uuid = migration_uuid;
}

void applier_reset(applier *a)
{
    strmap_free(&a->stmts, NULL);
}

void applier_free(applier *a)
{
    applier_reset(a);
}

/* The statement of one event: shape signature, SQL (built on demand) and parameters. */
typedef struct ev_stmt {
    strbuf sig;
    const char **params;
    int nparams;
    bool noop; /* an update that changes no column */
} ev_stmt;

static void add_param(ev_stmt *s, const char *v)
{
    s->params = xrealloc(s->params, (size_t)(s->nparams + 1) * sizeof *s->params);
    s->params[s->nparams++] = v;
}

static void append_ident(strbuf *sb, const char *name)
{
    char *q = pg_quote_ident(name);
    strbuf_append(sb, q);
    free(q);
}

/*
 * WHERE for the row an update/delete is about: the primary key, or without
 * one the first row equal on every column the exporter identified it by.
 */
static bool build_where(const cdc_item *it, ev_stmt *s, strbuf *sql, strbuf *err)
{
    const cdc_event *ev = &it->ev;
    const table_meta *tm = it->tm;
    strbuf_append_char(&s->sig, '\x1e');
    if (tm->pk.count) {
        strbuf_append(sql, " WHERE ");
        for (size_t i = 0; i < tm->pk.count; i++) {
            bool found;
            const char *v = cdc_event_old_value(ev, tm->pk.items[i], &found);
            if (!found || !v) {
                strbuf_appendf(err, "the event has no value for key column \"%s\"",
                               tm->pk.items[i]);
                return false;
            }
            if (i)
                strbuf_append(sql, " AND ");
            append_ident(sql, tm->pk.items[i]);
            strbuf_appendf(sql, " = $%d", s->nparams + 1);
            add_param(s, v);
        }
        return true;
    }
    const cdc_cols *id = ev->key.count ? &ev->key : &ev->before;
    strbuf_appendf(sql, " WHERE ctid = (SELECT ctid FROM %s WHERE ", tm->qualified);
    for (size_t i = 0; i < id->count; i++) {
        strbuf_append(&s->sig, id->names[i]);
        strbuf_append_char(&s->sig, '\x1f');
        if (i)
            strbuf_append(sql, " AND ");
        append_ident(sql, id->names[i]);
        strbuf_appendf(sql, " IS NOT DISTINCT FROM $%d", s->nparams + 1);
        add_param(s, id->values[i]);
    }
    strbuf_append(sql, " LIMIT 1)");
    return true;
}

/* Build sig/params for it, and the SQL into sql when want_sql. */
static bool build_stmt(const cdc_item *it, ev_stmt *s, strbuf *sql, strbuf *err)
{
    const cdc_event *ev = &it->ev;
    const table_meta *tm = it->tm;
    strbuf_appendf(&s->sig, "%d\x1f%d\x1f", (int)ev->op, tm->idx);
    switch (ev->op) {
    case CDC_OP_INSERT:
        strbuf_appendf(sql, "INSERT INTO %s (", tm->qualified);
        for (size_t i = 0; i < ev->fields.count; i++) {
            strbuf_append(&s->sig, ev->fields.names[i]);
            strbuf_append_char(&s->sig, '\x1f');
            if (i)
                strbuf_append(sql, ", ");
            append_ident(sql, ev->fields.names[i]);
            add_param(s, ev->fields.values[i]);
        }
        /* identity columns GENERATED ALWAYS take the source's values too */
        strbuf_append(sql, ") OVERRIDING SYSTEM VALUE VALUES (");
        for (int i = 0; i < s->nparams; i++)
            strbuf_appendf(sql, "%s$%d", i ? ", " : "", i + 1);
        strbuf_append_char(sql, ')');
        return true;
    case CDC_OP_UPDATE:
        if (ev->fields.count == 0) {
            s->noop = true;
            return true;
        }
        strbuf_appendf(sql, "UPDATE %s SET ", tm->qualified);
        for (size_t i = 0; i < ev->fields.count; i++) {
            strbuf_append(&s->sig, ev->fields.names[i]);
            strbuf_append_char(&s->sig, '\x1f');
            if (i)
                strbuf_append(sql, ", ");
            append_ident(sql, ev->fields.names[i]);
            strbuf_appendf(sql, " = $%d", s->nparams + 1);
            add_param(s, ev->fields.values[i]);
        }
        return build_where(it, s, sql, err);
    case CDC_OP_DELETE:
        strbuf_appendf(sql, "DELETE FROM %s", tm->qualified);
        return build_where(it, s, sql, err);
    case CDC_OP_CUTOVER:
        break;
    }
    strbuf_append(err, "BUG: not a row change");
    return false;
}

/* Per-table counts of one batch. */
typedef struct tcount {
    const table_meta *tm;
    int64_t n[3];
} tcount;

static void count_event(tcount **tc, size_t *ntc, const cdc_item *it)
{
    size_t i;
    for (i = 0; i < *ntc; i++)
        if ((*tc)[i].tm == it->tm)
            break;
    if (i == *ntc) {
        *tc = xrealloc(*tc, (*ntc + 1) * sizeof **tc);
        (*tc)[i] = (tcount){it->tm, {0, 0, 0}};
        (*ntc)++;
    }
    (*tc)[i].n[it->ev.op]++;
}

static void set_error(applier *a, strbuf *err, const char *msg)
{
    strbuf_reset(err);
    /* the first line: ERROR and message; LINE/HINT details go to no one */
    strbuf_append_len(err, msg, strcspn(msg, "\n"));
    size_t l = err->len;
    while (l && (err->data[l - 1] == '\n' || err->data[l - 1] == ' '))
        err->data[--l] = '\0';
    err->len = l;
    (void)a;
}

/* Ensure the statement of item is prepared; its name goes into name (16 bytes). */
static bool prepare_item(applier *a, const cdc_item *it, ev_stmt *s, char name[16], strbuf *err)
{
    strbuf sql = STRBUF_INIT;
    if (!build_stmt(it, s, &sql, err)) {
        strbuf_free(&sql);
        return false;
    }
    if (s->noop) {
        strbuf_free(&sql);
        return true;
    }
    void *v = strmap_get(&a->stmts, s->sig.data, s->sig.len);
    if (v) {
        snprintf(name, 16, "v%ld", (long)(intptr_t)v);
        strbuf_free(&sql);
        return true;
    }
    int no = ++a->next_stmt;
    snprintf(name, 16, "v%d", no);
    PGresult *r = PQprepare(a->conn->pg, name, sql.data, s->nparams, NULL);
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        set_error(a, err, r ? PQresultErrorMessage(r) : PQerrorMessage(a->conn->pg));
        if (r)
            pgconn_note_result(a->conn, r);
        else
            a->conn->last_error_retryable = true;
        if (PQstatus(a->conn->pg) == CONNECTION_BAD)
            a->conn->last_error_retryable = true;
    } else {
        strmap_put(&a->stmts, s->sig.data, s->sig.len, (void *)(intptr_t)no);
    }
    PQclear(r);
    strbuf_free(&sql);
    return ok;
}

/* The kinds of statement sent in a batch pipeline, to read their results. */
enum { SENT_CONTROL = -1 };

bool applier_apply_batch(applier *a, cdc_item **items, size_t n, cdc_item **failed, strbuf *err)
{
    *failed = NULL;
    a->conn->last_error_retryable = false;
    PGconn *pg = a->conn->pg;
    ev_stmt *st = xcalloc(n ? n : 1, sizeof *st);
    char(*names)[16] = xcalloc(n ? n : 1, 16);
    tcount *tc = NULL;
    size_t ntc = 0;
    int64_t totals[3] = {0, 0, 0};
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        if (!prepare_item(a, items[i], &st[i], names[i], err)) {
            *failed = items[i];
            ok = false;
        }
        count_event(&tc, &ntc, items[i]);
        totals[items[i]->ev.op]++;
    }
    /* sent[k]: the item index of the k-th statement in the pipeline, or SENT_CONTROL */
    long *sent = xcalloc(n + ntc + 4, sizeof *sent);
    size_t nsent = 0;
    if (ok && !PQenterPipelineMode(pg)) {
        set_error(a, err, PQerrorMessage(pg));
        a->conn->last_error_retryable = true;
        ok = false;
    }
    if (ok) {
        bool sent_ok = PQsendQueryParams(pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
        sent[nsent++] = SENT_CONTROL;
        for (size_t i = 0; i < n && sent_ok; i++) {
            if (st[i].noop)
                continue;
            sent_ok = PQsendQueryPrepared(pg, names[i], st[i].nparams, st[i].params, NULL, NULL, 0);
            sent[nsent++] = (long)i;
        }
        char ch[16], vsn[24], c0[24], c1[24], c2[24];
        snprintf(ch, sizeof ch, "%d", a->channel);
        snprintf(vsn, sizeof vsn, "%lld", (long long)items[n - 1]->ev.vsn);
        snprintf(c0, sizeof c0, "%lld", (long long)totals[0]);
        snprintf(c1, sizeof c1, "%lld", (long long)totals[1]);
        snprintf(c2, sizeof c2, "%lld", (long long)totals[2]);
        const char *pp[6] = {a->migration_uuid, ch, vsn, c0, c1, c2};
        if (sent_ok) {
            sent_ok = PQsendQueryParams(pg, CDC_SQL_CHANNEL_PROGRESS, 6, NULL, pp, NULL, NULL, 0);
            sent[nsent++] = SENT_CONTROL;
        }
        for (size_t t = 0; t < ntc && sent_ok; t++) {
            snprintf(c0, sizeof c0, "%lld", (long long)tc[t].n[0]);
            snprintf(c1, sizeof c1, "%lld", (long long)tc[t].n[1]);
            snprintf(c2, sizeof c2, "%lld", (long long)tc[t].n[2]);
            const char *tp[6] = {a->migration_uuid, ch, tc[t].tm->count_name, c0, c1, c2};
            sent_ok = PQsendQueryParams(pg, CDC_SQL_TABLE_COUNTS, 6, NULL, tp, NULL, NULL, 0);
            sent[nsent++] = SENT_CONTROL;
        }
        if (sent_ok) {
            sent_ok = PQsendQueryParams(pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
            sent[nsent++] = SENT_CONTROL;
        }
        if (sent_ok)
            sent_ok = PQpipelineSync(pg);
        if (!sent_ok) {
            set_error(a, err, PQerrorMessage(pg));
            a->conn->last_error_retryable = true;
            ok = false;
        } else {
            /* read one result (+ NULL) per statement, then the sync */
            bool have_error = false;
            for (size_t k = 0; k < nsent; k++) {
                PGresult *r = PQgetResult(pg);
                if (!r) {
                    if (!have_error)
                        set_error(a, err, PQerrorMessage(pg));
                    a->conn->last_error_retryable = true;
                    have_error = true;
                    break;
                }
                ExecStatusType es = PQresultStatus(r);
                if (es == PGRES_FATAL_ERROR && !have_error) {
                    have_error = true;
                    set_error(a, err, PQresultErrorMessage(r));
                    pgconn_note_result(a->conn, r);
                    if (sent[k] >= 0)
                        *failed = items[sent[k]];
                } else if (es == PGRES_COMMAND_OK && sent[k] >= 0 &&
                           items[sent[k]]->ev.op != CDC_OP_INSERT &&
                           strcmp(PQcmdTuples(r), "0") == 0) {
                    a->zero_row_changes++;
                    if (a->zero_row_changes <= 10)
                        log_warn("apply: %s of vsn %lld on %s found no row",
                                 items[sent[k]]->ev.op == CDC_OP_UPDATE ? "update" : "delete",
                                 (long long)items[sent[k]]->ev.vsn, items[sent[k]]->tm->qualified);
                }
                PQclear(r);
                while ((r = PQgetResult(pg)) != NULL) /* the NULL ending this statement */
                    PQclear(r);
            }
            PGresult *r;
            while ((r = PQgetResult(pg)) != NULL) {
                ExecStatusType es = PQresultStatus(r);
                PQclear(r);
                if (es == PGRES_PIPELINE_SYNC)
                    break;
            }
            if (have_error)
                ok = false;
        }
        if (PQstatus(pg) == CONNECTION_BAD) {
            a->conn->last_error_retryable = true;
        } else {
            PQexitPipelineMode(pg);
            if (PQtransactionStatus(pg) != PQTRANS_IDLE) {
                PGresult *r = PQexec(pg, "ROLLBACK");
                PQclear(r);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        strbuf_free(&st[i].sig);
        free(st[i].params);
    }
    free(st);
    free(names);
    free(tc);
    free(sent);
    return ok;
}
