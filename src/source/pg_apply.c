#include "source/pg_writer_int.h"

#include "core/key_parts.h"
#include "core/log.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Unique indexes of a table (and the indexes of its EXCLUDE constraints,
 * never followed by value: "free a range, then book it for a new row" is
 * legal on the source only in that order, and session_replication_role does
 * not switch index-enforced constraints off), the primary key first, and
 * those of its partitions that no index of the table covers (changes name
 * the root, a partition's own index binds them all the same): is it the primary key,
 * its key columns, can cdc/conflicts.h follow it by the events' text values,
 * every column it reads, does it read the whole row.
 *
 * By value: no expression, no predicate, and key columns of types whose equal
 * values always have the same text (numeric only with a fixed scale; the
 * timestamps in one exporter's stream, whose session settings do not change,
 * and phases of two exporters are drained apart) under a deterministic
 * collation (read through to_jsonb: collisdeterministic is
 * missing before PostgreSQL 12, as on YugabyteDB 2.x, where all are).
 * Columns read: key columns plus the index's column dependencies (expressions
 * and predicate). A whole-row reference records no dependency at all: it is
 * found in the index's definition ("w.*"; any '*' counts, conservatively).
 */
static const char UNIQUE_INDEXES_SQL[] =
    "WITH RECURSIVE parts(r) AS (SELECT h.inhrelid FROM pg_inherits h JOIN pg_class c ON c.oid = "
    "h.inhrelid WHERE h.inhparent = $1::oid AND c.relispartition UNION ALL SELECT h.inhrelid "
    "FROM pg_inherits h JOIN parts ON h.inhparent = parts.r) "
    "SELECT i.indisprimary AND i.indrelid = $1::oid, "
    "(SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(i.indkey::int2[]) WITH ORDINALITY "
    "k(attnum, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE "
    "k.ord <= i.indnkeyatts)::text, "
    "NOT i.indisexclusion AND "
    "i.indexprs IS NULL AND i.indpred IS NULL AND NOT EXISTS (SELECT 1 FROM "
    "unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = "
    "i.indrelid AND a.attnum = k.attnum LEFT JOIN pg_collation co ON co.oid = a.attcollation "
    "WHERE k.ord <= i.indnkeyatts AND (NOT (a.atttypid IN ('int2'::regtype, 'int4'::regtype, "
    "'int8'::regtype, 'text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'uuid'::regtype, "
    "'bool'::regtype, 'date'::regtype, 'bytea'::regtype, 'name'::regtype, 'oid'::regtype, "
    "'timestamp'::regtype, 'timestamptz'::regtype) OR "
    "(a.atttypid = 'numeric'::regtype AND a.atttypmod <> -1)) OR "
    "coalesce((to_jsonb(co) ->> 'collisdeterministic')::bool, true) = false)), "
    "(SELECT json_agg(DISTINCT a.attname) FROM pg_attribute a WHERE a.attrelid = i.indrelid AND "
    "a.attnum > 0 AND (a.attnum = ANY (i.indkey::int2[]) OR EXISTS (SELECT 1 FROM pg_depend d "
    "WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid AND d.refclassid = "
    "'pg_class'::regclass AND d.refobjid = i.indrelid AND d.refobjsubid = a.attnum)))::text, "
    "(i.indexprs IS NOT NULL OR i.indpred IS NOT NULL) AND (pg_get_indexdef(i.indexrelid) ~ "
    "'[*]' OR NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND "
    "d.objid = i.indexrelid AND d.refobjid = i.indrelid AND d.refobjsubid > 0)), "
    "NOT i.indimmediate "
    "FROM pg_index i WHERE (i.indisunique OR i.indisexclusion) "
    "AND i.indrelid = ANY (ARRAY(SELECT $1::oid UNION ALL SELECT r FROM parts)) "
    "AND (i.indrelid = $1::oid OR NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = "
    "i.indexrelid)) "
    "ORDER BY i.indisprimary DESC, i.indexrelid";

/*
 * The group of tables foreign keys link to this one (both ways, transitively;
 * a self-reference counts): named by its least member, or no row. Partition
 * clones of a constraint (conparentid) are left out: events name the root.
 */
static const char FK_GROUP_SQL[] =
    "WITH RECURSIVE e(a, b) AS (SELECT conrelid, confrelid FROM pg_constraint WHERE contype = 'f' "
    "AND conparentid = 0 UNION ALL SELECT confrelid, conrelid FROM pg_constraint WHERE contype = "
    "'f' AND conparentid = 0), comp(r) AS (SELECT $1::oid UNION SELECT e.b FROM e JOIN comp ON "
    "e.a = comp.r) SELECT min(n.nspname || chr(31) || c.relname COLLATE \"C\") FROM comp JOIN "
    "pg_class c ON c.oid = comp.r JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE EXISTS (SELECT 1 FROM e WHERE e.a = $1::oid)";

/*
 * Each column's type as SQL, without typmod: multi-row statements cast text
 * to it, and the column's typmod then applies on assignment as for an
 * untyped parameter (a cast to varchar(n) would truncate silently). The
 * typmod given as -1, not NULL: format_type then names char(n) "bpchar" and
 * bit(n) "bit" quoted, types of any length; with NULL it says "character"
 * and bit, which as casts mean char(1) and bit(1) and cut 'abc' to 'a' and
 * B'1010' to B'1' without an error (test_cdc_apply_typmod).
 */
/*
 * Third column: how a table without a primary key finds the row of an
 * update/delete by this column's old value (col_match). 't': by its text
 * only, for types with no default btree operator class (json, xml, point,
 * composites ...: "json = unknown" does not exist); 'b': by "=" (an index on
 * the column still serves the lookup) and by text, for types whose "=" is
 * coarser than identity (numeric 1.0/1.00, citext, interval '1 day'/'24:00:00',
 * nondeterministic collations), else the other, equal-looking row changes;
 * 'e': by "=" alone. Domains are resolved to their base, arrays to their
 * element; enums, ranges and multiranges match through anyenum, anyrange,
 * anymultirange (to_regtype: none before PostgreSQL 14, as on YugabyteDB 2.x);
 * an operator class of a type this one is implicitly binary-coercible to
 * counts (varchar: text_ops; not xml, whose cast to text is not implicit).
 * Floats stay 'e' (-0 = 0): a YugabyteDB on PostgreSQL 11 prints them with
 * extra digits, so their text would not match in fall-back.
 */
static const char COLUMN_TYPES_SQL[] =
    "SELECT a.attname, format_type(a.atttypid, -1), CASE WHEN NOT EXISTS (SELECT 1 FROM "
    "pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod WHERE am.amname = 'btree' AND "
    "oc.opcdefault AND (oc.opcintype = m.t OR EXISTS (SELECT 1 FROM pg_cast k WHERE "
    "k.castsource = m.t AND k.casttarget = oc.opcintype AND k.castmethod = 'b' AND "
    "k.castcontext = 'i'))) THEN 't' "
    "WHEN m.t IN ('numeric'::regtype::oid, 'interval'::regtype::oid) OR m.typname = 'citext' OR "
    "coalesce((to_jsonb(co) ->> 'collisdeterministic')::bool, true) = false THEN 'b' ELSE 'e' END "
    "FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation "
    "CROSS JOIN LATERAL (WITH RECURSIVE d(t, n) AS (SELECT a.atttypid, 0 UNION ALL SELECT CASE "
    "WHEN y.typtype = 'd' THEN y.typbasetype ELSE y.typelem END, d.n + 1 FROM pg_type y JOIN d "
    "ON y.oid = d.t WHERE y.typtype = 'd' OR (y.typcategory = 'A' AND y.typelem <> 0)) "
    "SELECT CASE y.typtype WHEN 'e' THEN 'anyenum'::regtype::oid WHEN 'r' THEN "
    "'anyrange'::regtype::oid WHEN 'm' THEN to_regtype('anymultirange')::oid ELSE y.oid END AS "
    "t, y.typname FROM d JOIN pg_type y ON y.oid = d.t ORDER BY d.n DESC LIMIT 1) m "
    "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

static bool in_list(const strlist *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i], name) == 0)
            return true;
    return false;
}

static void json_names(const char *text, strlist *out)
{
    cJSON *arr = cJSON_Parse(text);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (cJSON_IsString(e) && !in_list(out, e->valuestring))
            strlist_push(out, e->valuestring);
    }
    cJSON_Delete(arr);
}

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
        /* a failed query (logged, maybe retried) says nothing about the table */
        if (PQstatus(c->pg) == CONNECTION_OK && !c->sqlstate[0])
            log_report(LOG_ERROR, NULL, "create it (import schema) or exclude it from the migration",
                       "table %s.%s of the change queue does not exist on the %s database", schema,
                       table, db_role_name(c->role));
        return false;
    }
    const char *q[1] = {oid};
    PGresult *r = pgconn_query(c, UNIQUE_INDEXES_SQL, 1, q);
    PGresult *fk = r ? pgconn_query(c, FK_GROUP_SQL, 1, q) : NULL;
    PGresult *cols = fk ? pgconn_query(c, COLUMN_TYPES_SQL, 1, q) : NULL;
    free(oid);
    if (!r || !fk || !cols) {
        PQclear(r);
        PQclear(fk);
        return false;
    }
    table_meta *t = xcalloc(1, sizeof *t);
    t->idx = idx;
    t->order_group = idx;
    t->schema_name = xstrdup(schema);
    t->table_name = xstrdup(table);
    t->qualified = pg_quote_qualified(schema, table);
    t->count_name = cdc_metainfo_table_name(schema, table);
    t->row_locator = c->is_yugabyte ? "ybctid" : "ctid";
    int n = PQntuples(r);
    t->uniq = xcalloc((size_t)n + 1, sizeof *t->uniq);
    size_t serial = 0;
    for (int i = 0; i < n; i++) {
        bool primary = strcmp(PQgetvalue(r, i, 0), "t") == 0;
        bool by_value = strcmp(PQgetvalue(r, i, 2), "t") == 0;
        strlist cols = STRLIST_INIT;
        json_names(PQgetvalue(r, i, 1), &cols);
        if (strcmp(PQgetvalue(r, i, 5), "t") == 0)
            t->key_deferrable = true;
        if (!by_value || t->key_deferrable) {
            t->unique_serial = true;
            serial++;
        }
        if (primary && t->pk.count == 0) {
            t->pk = cols;
            continue;
        }
        json_names(PQgetvalue(r, i, 3), &t->ucols);
        if (strcmp(PQgetvalue(r, i, 4), "t") == 0)
            t->ucols_all = true;
        if (by_value)
            t->uniq[t->nuniq++] = cols;
        else
            strlist_free(&cols);
    }
    PQclear(r);
    if (PQntuples(fk) == 1 && !PQgetisnull(fk, 0, 0))
        t->fk_group = xstrdup(PQgetvalue(fk, 0, 0));
    PQclear(fk);
    for (int i = 0; i < PQntuples(cols); i++) {
        strlist_push(&t->col_names, PQgetvalue(cols, i, 0));
        strlist_push(&t->col_types, PQgetvalue(cols, i, 1));
        strlist_push(&t->col_match, PQgetvalue(cols, i, 2));
    }
    PQclear(cols);
    log_info("apply: table %s: %zu primary-key column(s), %zu unique key(s) followed by value, "
             "%zu not (expression, partial, type or deferrable)%s%s",
             t->qualified, t->pk.count, t->nuniq, serial,
             t->fk_group ? ", linked by foreign keys" : "",
             t->key_deferrable ? "; a key is DEFERRABLE: applied in source order, by key "
                                 "only where one row has it" : "");
    *out = t;
    return true;
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
    strbuf sig;     /* names as key_part()s: a name may hold any byte but NUL */
    const char **params;
    int nparams;
    bool noop;      /* an update that changes no column, or folded into an earlier change */
    bool mergeable; /* may share one multi-row statement with like neighbours */
    strbuf key;     /* the row's primary-key values as key_part()s (duplicates end a multi-row run) */
} ev_stmt;

/* s->params is sized by build_stmt for every parameter the event can have. */
static void add_param(ev_stmt *s, const char *v)
{
    s->params[s->nparams++] = v;
}

static void append_ident(strbuf *sb, const char *name)
{
    char *q = pg_quote_ident(name);
    strbuf_append(sb, q);
    free(q);
}

/* SQL text is built only when a statement is prepared (sql != NULL). */
#define SQL_APPEND(sql, str)                                                                       \
    do {                                                                                           \
        if (sql)                                                                                   \
            strbuf_append(sql, str);                                                               \
    } while (0)
#define SQL_APPEND_CHAR(sql, c)                                                                    \
    do {                                                                                           \
        if (sql)                                                                                   \
            strbuf_append_char(sql, c);                                                            \
    } while (0)
#define SQL_APPENDF(sql, ...)                                                                      \
    do {                                                                                           \
        if (sql)                                                                                   \
            strbuf_appendf(sql, __VA_ARGS__);                                                      \
    } while (0)
#define SQL_IDENT(sql, name)                                                                       \
    do {                                                                                           \
        if (sql)                                                                                   \
            append_ident(sql, name);                                                               \
    } while (0)

/* A key of more columns than this is not guarded (guard_new_key). */
#define MAX_GUARDED_KEY 32

/*
 * An update that moves a row to a key another row has (a DEFERRABLE key lets
 * a source transaction pass through that): fail, by a division by zero in
 * the row's subquery, rather than leave two rows with one key, which nothing
 * checks under session_replication_role = replica. old_param[i]: the
 * parameter holding the old value of key column i.
 */
static void guard_new_key(const writer_item *it, ev_stmt *s, const int *old_param, strbuf *sql)
{
    const writer_change *ev = &it->ev;
    const table_meta *tm = it->tm;
    bool moves = false;
    for (size_t i = 0; i < ev->fields.count && !moves; i++)
        moves = in_list(&tm->pk, ev->fields.names[i]);
    if (!moves || tm->pk.count > MAX_GUARDED_KEY)
        return;
    SQL_APPENDF(sql, " AND 1 / (SELECT (count(*) = 0)::int FROM %s WHERE (", tm->qualified);
    for (size_t i = 0; i < tm->pk.count; i++) {
        SQL_APPEND(sql, i ? ", " : "");
        SQL_IDENT(sql, tm->pk.items[i]);
    }
    SQL_APPEND(sql, ") = (");
    for (size_t i = 0; i < tm->pk.count; i++) {
        bool found;
        const char *v = writer_cols_get(&ev->fields, tm->pk.items[i], &found);
        if (found) {
            SQL_APPENDF(sql, "%s$%d", i ? ", " : "", s->nparams + 1);
            add_param(s, v);
        } else {
            SQL_APPENDF(sql, "%s$%d", i ? ", " : "", old_param[i]);
        }
    }
    SQL_APPEND(sql, ") AND (");
    for (size_t i = 0; i < tm->pk.count; i++) {
        SQL_APPEND(sql, i ? ", " : "");
        SQL_IDENT(sql, tm->pk.items[i]);
    }
    SQL_APPEND(sql, ") <> (");
    for (size_t i = 0; i < tm->pk.count; i++)
        SQL_APPENDF(sql, "%s$%d", i ? ", " : "", old_param[i]);
    SQL_APPEND(sql, ")) = 1");
}

/* How the row is found by column name's value (COLUMN_TYPES_SQL): 'e', 't' or 'b'. */
static char column_match(const table_meta *tm, const char *name)
{
    for (size_t i = 0; i < tm->col_names.count && i < tm->col_match.count; i++)
        if (strcmp(tm->col_names.items[i], name) == 0)
            return tm->col_match.items[i][0];
    return 'e';
}

/*
 * WHERE for the row an update/delete is about: the primary key, or without
 * one the first row equal on every column the exporter identified it by.
 */
static bool build_where(const writer_item *it, ev_stmt *s, strbuf *sql, strbuf *err)
{
    const writer_change *ev = &it->ev;
    const table_meta *tm = it->tm;
    int old_key_param[MAX_GUARDED_KEY];
    strbuf_append_char(&s->sig, '\x1e');
    if (tm->pk.count) {
        /*
         * Two rows may have a DEFERRABLE key for a moment (keys swapped inside
         * one source transaction): without LIMIT this subquery fails when it
         * finds two, where "WHERE key = ..." would change both.
         */
        if (tm->key_deferrable)
            SQL_APPENDF(sql, " WHERE (tableoid, %s) = (SELECT tableoid, %s FROM %s WHERE ",
                        tm->row_locator, tm->row_locator, tm->qualified);
        else
            SQL_APPEND(sql, " WHERE ");
        for (size_t i = 0; i < tm->pk.count; i++) {
            bool found;
            const char *v = writer_old_value(ev, tm->pk.items[i], &found);
            if (!found || !v) {
                strbuf_appendf(err, "the event has no value for key column \"%s\"",
                               tm->pk.items[i]);
                return false;
            }
            if (i)
                SQL_APPEND(sql, " AND ");
            SQL_IDENT(sql, tm->pk.items[i]);
            SQL_APPENDF(sql, " = $%d", s->nparams + 1);
            if (i < MAX_GUARDED_KEY)
                old_key_param[i] = s->nparams + 1;
            add_param(s, v);
        }
        if (tm->key_deferrable && ev->op == WRITER_OP_UPDATE)
            guard_new_key(it, s, old_key_param, sql);
        if (tm->key_deferrable)
            SQL_APPEND_CHAR(sql, ')');
        return true;
    }
    const writer_cols *id = ev->key.count ? &ev->key : &ev->before;
    /* tableoid too: rows of two partitions can have the same ctid */
    SQL_APPENDF(sql, " WHERE (tableoid, %s) = (SELECT tableoid, %s FROM %s WHERE ", tm->row_locator,
                tm->row_locator, tm->qualified);
    for (size_t i = 0; i < id->count; i++) {
        char how = column_match(tm, id->names[i]);
        key_part(&s->sig, id->names[i]);
        strbuf_append_char(&s->sig, how); /* the SQL below differs by it */
        if (i)
            SQL_APPEND(sql, " AND ");
        if (how != 't') {
            SQL_IDENT(sql, id->names[i]);
            SQL_APPENDF(sql, " IS NOT DISTINCT FROM $%d", s->nparams + 1);
            add_param(s, id->values[i]);
        }
        if (how == 'b')
            SQL_APPEND(sql, " AND ");
        if (how != 'e') {
            /*
             * The same value as its own parameter: one parameter used as the
             * column's type and as text would be given two types.
             */
            SQL_APPEND_CHAR(sql, '(');
            SQL_IDENT(sql, id->names[i]);
            SQL_APPENDF(sql, ")::text IS NOT DISTINCT FROM $%d", s->nparams + 1);
            add_param(s, id->values[i]);
        }
    }
    SQL_APPEND(sql, " LIMIT 1)");
    return true;
}

/*
 * Can this event share a multi-row statement? Inserts always; updates and
 * deletes of a table with a primary key, unless the update sets a key or a
 * unique column (rows of one statement are changed in no defined order, so a
 * unique value handed from row to row could collide half-way).
 */
static void set_mergeable(const writer_item *it, ev_stmt *s)
{
    const writer_change *ev = &it->ev;
    const table_meta *tm = it->tm;
    bool found;
    for (size_t i = 0; i < tm->pk.count; i++) {
        const char *v = ev->op == WRITER_OP_INSERT
                            ? writer_cols_get(&ev->fields, tm->pk.items[i], &found)
                            : writer_old_value(ev, tm->pk.items[i], &found);
        key_part(&s->key, v); /* NULL apart from every text, "\x01" included */
    }
    if (ev->op == WRITER_OP_INSERT) {
        s->mergeable = true;
        return;
    }
    s->mergeable = tm->pk.count > 0 && !tm->key_deferrable;
    if (ev->op == WRITER_OP_UPDATE && tm->ucols_all && ev->fields.count)
        s->mergeable = false;
    for (size_t i = 0; ev->op == WRITER_OP_UPDATE && s->mergeable && i < ev->fields.count; i++) {
        const char *c = ev->fields.names[i];
        if (in_list(&tm->pk, c) || in_list(&tm->ucols, c))
            s->mergeable = false;
    }
}

/* Build sig/params/key for it, and its single-row SQL into sql unless NULL. */
static bool build_stmt(const writer_item *it, ev_stmt *s, strbuf *sql, strbuf *err)
{
    const writer_change *ev = &it->ev;
    const table_meta *tm = it->tm;
    set_mergeable(it, s); /* the end-of-stream event never reaches a writer */
    /* without a primary key, a column may be compared twice (build_where) */
    size_t nid = 2 * (ev->key.count + ev->before.count);
    s->params = xmalloc((ev->fields.count + 2 * tm->pk.count + nid + 1) * sizeof *s->params);
    strbuf_append_int(&s->sig, (int)ev->op);
    strbuf_append_char(&s->sig, '\x1f');
    strbuf_append_int(&s->sig, tm->idx);
    strbuf_append_char(&s->sig, '\x1f');
    switch (ev->op) {
    case WRITER_OP_INSERT:
        SQL_APPENDF(sql, "INSERT INTO %s (", tm->qualified);
        for (size_t i = 0; i < ev->fields.count; i++) {
            key_part(&s->sig, ev->fields.names[i]);
            if (i)
                SQL_APPEND(sql, ", ");
            SQL_IDENT(sql, ev->fields.names[i]);
            add_param(s, ev->fields.values[i]);
        }
        /* identity columns GENERATED ALWAYS take the source's values too */
        SQL_APPEND(sql, ") OVERRIDING SYSTEM VALUE VALUES (");
        for (int i = 0; i < s->nparams; i++)
            SQL_APPENDF(sql, "%s$%d", i ? ", " : "", i + 1);
        SQL_APPEND_CHAR(sql, ')');
        return true;
    case WRITER_OP_UPDATE:
        if (ev->fields.count == 0) {
            s->noop = true;
            return true;
        }
        SQL_APPENDF(sql, "UPDATE %s SET ", tm->qualified);
        for (size_t i = 0; i < ev->fields.count; i++) {
            key_part(&s->sig, ev->fields.names[i]);
            if (i)
                SQL_APPEND(sql, ", ");
            SQL_IDENT(sql, ev->fields.names[i]);
            SQL_APPENDF(sql, " = $%d", s->nparams + 1);
            add_param(s, ev->fields.values[i]);
        }
        return build_where(it, s, sql, err);
    case WRITER_OP_DELETE:
        SQL_APPENDF(sql, "DELETE FROM %s", tm->qualified);
        return build_where(it, s, sql, err);
    case WRITER_OP_TRUNCATE: /* applied alone, by apply_truncate() */
        break;
    }
    strbuf_append(err, "BUG: not a row change");
    return false;
}

/* The position of column name in cols, or cols->count. */
static size_t column_at(const writer_cols *cols, const char *name)
{
    size_t c = 0;
    while (c < cols->count && strcmp(cols->names[c], name) != 0)
        c++;
    return c;
}

/*
 * Fold the update st[j] into st[i], the change of its row just before it in
 * the batch (nothing else of the row between them): an insert, or an update
 * that sets no key column. st[i] takes the update's values and the update
 * becomes a no-op. The batch is one transaction, so the row that commits is
 * the same, and the target writes one row version instead of two: a row
 * created and then given its state at once, or a hot row (a counter, a
 * balance) updated by every transaction, becomes one write per batch. The
 * caller keeps to tables whose rows commute (table_meta.rows_commute: the
 * primary key is its only unique index, and no foreign key needs the source's
 * order): a value the update sets then reaches the target earlier than in the
 * source, which nothing else can see. Updates that set a key column are not
 * mergeable and never fold; nor does one setting a column st[i] does not set
 * (st[i]'s statement keeps its shape: its values for the update's columns are
 * replaced, in place, as the first parameters of an insert or update).
 */
static bool fold_update(writer_item **items, ev_stmt *st, size_t i, size_t j)
{
    const writer_change *ev = &items[j]->ev;
    const writer_change *into = &items[i]->ev;
    if (ev->op != WRITER_OP_UPDATE || !st[j].mergeable)
        return false;
    if (into->op != WRITER_OP_INSERT && (into->op != WRITER_OP_UPDATE || !st[i].mergeable))
        return false;
    const writer_cols *cols = &into->fields;
    for (size_t f = 0; f < ev->fields.count; f++)
        if (column_at(cols, ev->fields.names[f]) == cols->count)
            return false;
    for (size_t f = 0; f < ev->fields.count; f++)
        st[i].params[column_at(cols, ev->fields.names[f])] = ev->fields.values[f];
    st[j].noop = true;
    return true;
}

/* Per-table counts of one batch. */
typedef struct tcount {
    const table_meta *tm;
    int64_t n[3];
} tcount;

static void count_event(tcount **tc, size_t *ntc, const writer_item *it)
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

static void set_error(strbuf *err, const char *msg)
{
    strbuf_reset(err);
    /* the first line: ERROR and message; LINE/HINT details go to no one */
    strbuf_append_len(err, msg, strcspn(msg, "\n"));
    size_t l = err->len;
    while (l && (err->data[l - 1] == '\n' || err->data[l - 1] == ' '))
        err->data[--l] = '\0';
    err->len = l;
}

/* Prepare sql as name on the connection; false with err set. */
static bool prepare(applier *a, const char *name, const char *sql, int nparams, strbuf *err)
{
    PGresult *r = PQprepare(a->conn->pg, name, sql, nparams, NULL);
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        set_error(err, r ? PQresultErrorMessage(r) : PQerrorMessage(a->conn->pg));
        if (r)
            pgconn_note_result(a->conn, r);
        else
            a->conn->last_error_retryable = true;
        if (PQstatus(a->conn->pg) == CONNECTION_BAD)
            a->conn->last_error_retryable = true;
    }
    PQclear(r);
    return ok;
}

/* The type of column name, as SQL (format_type, without typmod), or NULL. */
static const char *column_type(const table_meta *tm, const char *name)
{
    for (size_t i = 0; i < tm->col_names.count; i++)
        if (strcmp(tm->col_names.items[i], name) == 0)
            return tm->col_types.items[i];
    return NULL;
}

/* v.pN cast to the type of column name; false when the catalog did not list it. */
static bool append_value(strbuf *sql, const table_meta *tm, const char *name, int no)
{
    const char *type = column_type(tm, name);
    if (!type)
        return false;
    strbuf_appendf(sql, "v.p%d::%s", no, type);
    return true;
}

/*
 * The statement of a run of like events of one table, however many: one
 * multi-row INSERT ... SELECT, UPDATE ... FROM or DELETE ... USING over
 * unnest() of one text array per parameter of the single-row statement (in
 * its order), each value cast to its column's type: the server reads it
 * with that type's input function, as it reads the single-row statement's
 * untyped parameters, and assigning it applies the column's typmod. One
 * shape for every run length: prepared and planned once. (A UNION ALL of one
 * SELECT per row was planned anew per run length and cost more to plan and
 * start than to run.) False when a column's type is unknown (the single-row
 * statements then report what is wrong).
 */
static bool build_merged(const writer_item *it, const ev_stmt *s, strbuf *sql)
{
    const writer_change *ev = &it->ev;
    const table_meta *tm = it->tm;
    strbuf from = STRBUF_INIT;
    strbuf_append(&from, "unnest(");
    for (int i = 0; i < s->nparams; i++)
        strbuf_appendf(&from, "%s$%d::text[]", i ? ", " : "", i + 1);
    strbuf_append(&from, ") AS v(");
    for (int i = 0; i < s->nparams; i++)
        strbuf_appendf(&from, "%sp%d", i ? ", " : "", i + 1);
    strbuf_append_char(&from, ')');
    bool ok = true;
    int p = 1;
    if (ev->op == WRITER_OP_INSERT) {
        strbuf_appendf(sql, "INSERT INTO %s (", tm->qualified);
        for (size_t i = 0; i < ev->fields.count; i++) {
            if (i)
                strbuf_append(sql, ", ");
            append_ident(sql, ev->fields.names[i]);
        }
        strbuf_append(sql, ") OVERRIDING SYSTEM VALUE SELECT ");
        for (size_t i = 0; i < ev->fields.count && ok; i++) {
            if (i)
                strbuf_append(sql, ", ");
            ok = append_value(sql, tm, ev->fields.names[i], p++);
        }
        strbuf_appendf(sql, " FROM %s", from.data);
        strbuf_free(&from);
        return ok;
    }
    if (ev->op == WRITER_OP_UPDATE) {
        strbuf_appendf(sql, "UPDATE %s AS t SET ", tm->qualified);
        for (size_t i = 0; i < ev->fields.count && ok; i++) {
            if (i)
                strbuf_append(sql, ", ");
            append_ident(sql, ev->fields.names[i]);
            strbuf_append(sql, " = ");
            ok = append_value(sql, tm, ev->fields.names[i], p++);
        }
        strbuf_appendf(sql, " FROM %s WHERE ", from.data);
    } else {
        strbuf_appendf(sql, "DELETE FROM %s AS t USING %s WHERE ", tm->qualified, from.data);
    }
    for (size_t i = 0; i < tm->pk.count && ok; i++) {
        strbuf_append(sql, i ? " AND t." : "t.");
        append_ident(sql, tm->pk.items[i]);
        strbuf_append(sql, " = ");
        ok = append_value(sql, tm, tm->pk.items[i], p++);
    }
    strbuf_free(&from);
    return ok;
}

/*
 * One text[] parameter in PostgreSQL's binary array format (array_recv):
 * ndim 1, a null flag, element type text, the length and lower bound 1, then
 * each element as its length (-1: NULL) and bytes. The server reads it without
 * parsing a literal, and nothing here is escaped: a text[] literal cost both
 * sides a scan of every value (strcspn for the quoting here, array_in there).
 */
#define TEXT_OID 25
static void put_i32(strbuf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    strbuf_append_len(b, (const char *)x, 4);
}

static void binary_text_array(strbuf *arr, const ev_stmt *st, const size_t *rows, size_t count,
                              int param)
{
    bool nulls = false;
    for (size_t r = 0; r < count && !nulls; r++)
        nulls = st[rows[r]].params[param] == NULL;
    put_i32(arr, 1);
    put_i32(arr, nulls ? 1 : 0);
    put_i32(arr, TEXT_OID);
    put_i32(arr, (uint32_t)count);
    put_i32(arr, 1);
    for (size_t r = 0; r < count; r++) {
        const char *v = st[rows[r]].params[param];
        if (!v) {
            put_i32(arr, UINT32_MAX); /* -1 */
            continue;
        }
        size_t len = strlen(v);
        put_i32(arr, (uint32_t)len);
        strbuf_append_len(arr, v, len);
    }
}

/* A statement of the pipeline: events plan[first .. first+count) under one name. */
typedef struct piece {
    size_t first, count;
    char name[24];
    const char **params; /* merged pieces own their array and its strings; single ones borrow */
    int *lengths;        /* merged pieces: their binary parameters' lengths; else NULL */
    int *formats;        /* merged pieces: all 1 (binary); else NULL (text) */
    int nparams;
} piece;

/* Events a multi-row statement takes at most (a batch's bytes are bounded already). */
#define MERGE_MAX 1000

typedef struct order_key {
    int table;
    int level;         /* rows_commute tables: how many earlier events of its row the batch has */
    const strbuf *sig; /* rows_commute tables: its statement shape; else NULL */
    size_t pos;
} order_key;

static int by_table(const void *x, const void *y)
{
    const order_key *a = x, *b = y;
    if (a->table != b->table)
        return a->table < b->table ? -1 : 1;
    if (a->level != b->level)
        return a->level < b->level ? -1 : 1;
    if (a->sig && b->sig) {
        size_t l = a->sig->len < b->sig->len ? a->sig->len : b->sig->len;
        int c = memcmp(a->sig->data, b->sig->data, l);
        if (c || a->sig->len != b->sig->len)
            return c ? c : a->sig->len < b->sig->len ? -1 : 1;
    }
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/*
 * The order to apply a batch in: grouped by order group (table), each
 * table's events in source order; but in a table whose rows commute (only a
 * primary key is unique: table_meta.rows_commute) just each row's own events
 * keep their order: the k-th event of each row goes in the k-th wave, and a
 * wave's events are grouped by statement shape, so an interleaved stream
 * (insert, update, delete, insert, ...) still makes long multi-row runs.
 * Other channels apply other rows in no order relative to these anyway.
 * The same pass folds an update into its row's change before it (fold_update),
 * counted in folded[0] (into an insert) and folded[1] (into an update).
 */
static void batch_order(writer_item **items, size_t n, ev_stmt *st, size_t *sorted,
                        int64_t folded[2])
{
    order_key *keys = xcalloc(n ? n : 1, sizeof *keys);
    strmap last = STRMAP_INIT; /* table and key -> 1 + the row's latest event so far */
    strbuf rk = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        const table_meta *tm = items[i]->tm;
        keys[i] = (order_key){tm->order_group, 0, NULL, i};
        if (!tm->rows_commute)
            continue;
        keys[i].sig = &st[i].sig; /* all of the table's, or the order is not total */
        if (st[i].noop || !st[i].key.len)
            continue;
        strbuf_reset(&rk);
        strbuf_append_int(&rk, tm->idx);
        strbuf_append_char(&rk, '\x1f');
        strbuf_append_len(&rk, st[i].key.data, st[i].key.len);
        size_t prev = (size_t)(intptr_t)strmap_get(&last, rk.data, rk.len);
        if (prev && fold_update(items, st, prev - 1, i)) {
            /* the change folded into stays the row's latest event */
            folded[items[prev - 1]->ev.op == WRITER_OP_INSERT ? 0 : 1]++;
            continue;
        }
        strmap_put(&last, rk.data, rk.len, (void *)(intptr_t)(i + 1));
        keys[i].level = prev ? keys[prev - 1].level + 1 : 0;
    }
    strbuf_free(&rk);
    strmap_free(&last, NULL);
    qsort(keys, n, sizeof *keys, by_table);
    for (size_t i = 0; i < n; i++)
        sorted[i] = keys[i].pos;
    free(keys);
}

/* strmap value of a shape whose multi-row statement cannot be built (single rows then) */
#define NO_MERGED ((intptr_t)-1)

/*
 * Prepare (once per connection) the statement of a piece like s0: multi-row
 * when merged. 1: p->name names it; 0: failed (err set); -1: no multi-row
 * statement for this shape (apply its events one by one).
 */
static int piece_statement(applier *a, const writer_item *it, const ev_stmt *s0, bool merged,
                           piece *p, strbuf *err)
{
    strbuf sig = STRBUF_INIT;
    strbuf_append_len(&sig, s0->sig.data, s0->sig.len);
    strbuf_append(&sig, merged ? "\x1d" "M" : "\x1d" "1");
    intptr_t v = (intptr_t)strmap_get(&a->stmts, sig.data, sig.len);
    int rc = 1;
    if (v == NO_MERGED) {
        rc = -1;
    } else if (v) {
        snprintf(p->name, sizeof p->name, "v%ld", (long)v);
    } else {
        strbuf sql = STRBUF_INIT;
        if (!merged) {
            ev_stmt tmp = {0};
            rc = build_stmt(it, &tmp, &sql, err) ? 1 : 0;
            strbuf_free(&tmp.sig);
            strbuf_free(&tmp.key);
            free(tmp.params);
        } else if (!build_merged(it, s0, &sql)) {
            rc = -1;
            strmap_put(&a->stmts, sig.data, sig.len, (void *)NO_MERGED);
        }
        if (rc == 1) {
            int no = ++a->next_stmt;
            snprintf(p->name, sizeof p->name, "v%d", no);
            if (prepare(a, p->name, sql.data, s0->nparams, err))
                strmap_put(&a->stmts, sig.data, sig.len, (void *)(intptr_t)no);
            else
                rc = 0;
        }
        strbuf_free(&sql);
    }
    strbuf_free(&sig);
    return rc;
}

/* The parameters of a multi-row piece: a binary text[] of each single-row parameter. */
static void merged_params(piece *p, const ev_stmt *st, const size_t *plan, int nparams)
{
    p->nparams = nparams;
    p->params = xmalloc((size_t)nparams * sizeof *p->params);
    p->lengths = xmalloc((size_t)nparams * sizeof *p->lengths);
    p->formats = xmalloc((size_t)nparams * sizeof *p->formats);
    strbuf arr = STRBUF_INIT;
    for (int i = 0; i < nparams; i++) {
        binary_text_array(&arr, st, plan + p->first, p->count, i);
        p->lengths[i] = (int)arr.len;
        p->formats[i] = 1;
        p->params[i] = strbuf_detach(&arr);
    }
}

/*
 * The run of like events starting at sorted[i]: their positions go to
 * plan[*nplan ..] in the order to apply; returns how many sorted entries
 * the run consumed. A run ends at a different statement shape or at a row
 * seen before in it, except for updates: a later update of a row setting the
 * same columns overwrites every value of the earlier one, so the earlier
 * one is dropped (the last values win, as applied one by one). No-op events
 * inside the run are passed over.
 */
static size_t take_run(const ev_stmt *st, const size_t *sorted, size_t i, size_t n, size_t *plan,
                       size_t *nplan)
{
    const ev_stmt *s0 = &st[sorted[i]];
    size_t start = *nplan;
    plan[(*nplan)++] = sorted[i];
    if (!s0->mergeable)
        return 1;
    bool collapse = s0->key.len && s0->sig.len && s0->sig.data[0] == (char)('0' + WRITER_OP_UPDATE);
    strmap seen = STRMAP_INIT; /* key -> 1 + index in plan */
    if (s0->key.len)
        strmap_put(&seen, s0->key.data, s0->key.len, (void *)(intptr_t)(start + 1));
    size_t used = 1;
    while (i + used < n && *nplan - start < MERGE_MAX) {
        const ev_stmt *s = &st[sorted[i + used]];
        if (s->noop) { /* sorted among like updates (a folded one): nothing to apply */
            used++;
            continue;
        }
        if (!s->mergeable || s->sig.len != s0->sig.len ||
            memcmp(s->sig.data, s0->sig.data, s->sig.len) != 0)
            break;
        void *at = s->key.len ? strmap_get(&seen, s->key.data, s->key.len) : NULL;
        if (at && !collapse)
            break;
        if (at) {
            plan[(intptr_t)at - 1] = sorted[i + used];
        } else {
            if (s->key.len)
                strmap_put(&seen, s->key.data, s->key.len, (void *)(intptr_t)(*nplan + 1));
            plan[(*nplan)++] = sorted[i + used];
        }
        used++;
    }
    strmap_free(&seen, NULL);
    return used;
}

/*
 * Cut the batch into pipeline pieces. Events of different tables commute (no
 * foreign-key check or trigger runs in a replica session), so the batch is
 * grouped by table, keeping each table's own order or each row's
 * (batch_order); runs of like events (same statement shape, distinct rows)
 * then share multi-row statements.
 * Without the replica role, tables linked by foreign keys share an order
 * group (table_meta.order_group): their events keep the source's order.
 * plan: the batch's positions in the order applied (pieces index it); folded: the
 * updates folded into their rows' earlier changes (batch_order).
 */
static bool plan_pieces(applier *a, writer_item **items, size_t n, ev_stmt *st, size_t *plan,
                        piece *pc, size_t *npieces, int64_t folded[2], writer_item **failed,
                        strbuf *err)
{
    size_t *sorted = xcalloc(n ? n : 1, sizeof *sorted);
    batch_order(items, n, st, sorted, folded);
    size_t np = 0, nplan = 0;
    bool ok = true;
    for (size_t i = 0; i < n && ok;) {
        if (st[sorted[i]].noop) {
            i++;
            continue;
        }
        const ev_stmt *s0 = &st[sorted[i]];
        size_t first = nplan;
        i += take_run(st, sorted, i, n, plan, &nplan);
        size_t run = nplan - first;
        if (run > 1) {
            piece *p = &pc[np];
            p->first = first;
            p->count = run;
            int rc = piece_statement(a, items[plan[first]], s0, true, p, err);
            if (rc == 0) {
                *failed = items[plan[first]];
                ok = false;
                break;
            }
            if (rc == 1) {
                merged_params(p, st, plan, s0->nparams);
                np++;
                continue;
            }
        }
        for (size_t r = 0; r < run; r++) {
            piece *p = &pc[np++];
            p->first = first + r;
            p->count = 1;
            if (piece_statement(a, items[plan[first + r]], s0, false, p, err) != 1) {
                *failed = items[plan[first + r]];
                ok = false;
                break;
            }
            p->params = st[plan[first + r]].params;
            p->nparams = st[plan[first + r]].nparams;
        }
    }
    free(sorted);
    *npieces = np;
    return ok;
}

enum { SENT_CONTROL = -1 };

/*
 * Prepared statements live in the server session: updates of wide tables set
 * ever new column sets, so the cache is emptied (between batches) once it holds
 * this many, keeping the session's memory bounded.
 */
#define STMT_CACHE_MAX 2000

/*
 * The channel's progress statement, not logged when it fails: a refusal (the
 * progress moved, another session committed) is the engine's to recover.
 */
static bool channel_progress(pgconn *c, const char *const *pp)
{
    PGresult *r = pgconn_query_quiet(c, CDC_SQL_CHANNEL_PROGRESS, 7, pp);
    PQclear(r);
    return r != NULL;
}

/* A TRUNCATE event, alone in its batch: the table emptied and the channel's progress, one transaction. */
static bool apply_truncate(applier *a, const char *after, writer_item *it, writer_item **failed,
                           strbuf *err)
{
    pgconn *c = a->conn;
    char ch[16], vsn[24];
    snprintf(ch, sizeof ch, "%d", a->channel);
    snprintf(vsn, sizeof vsn, "%lld", (long long)it->ev.vsn);
    const char *pp[7] = {a->migration_uuid, ch, vsn, "0", "0", "0", after};
    bool ok = pgconn_exec(c, "BEGIN") && pgconn_empty_table(c, it->tm->qualified) &&
              channel_progress(c, pp) && pgconn_exec(c, "COMMIT");
    if (!ok) {
        set_error(err, PQerrorMessage(c->pg));
        *failed = it;
        if (PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
            PGresult *r = PQexec(c->pg, "ROLLBACK");
            PQclear(r);
        }
        return false;
    }
    log_info("apply: vsn %lld emptied %s (TRUNCATE on the %s)", (long long)it->ev.vsn,
             it->tm->qualified, it->ev.exporter_role);
    return true;
}

/*
 * A change whose new values pass this many bytes goes by COPY: the pipelined
 * path's Bind message would be a second whole copy of the row, in libpq's
 * output buffer, while the event holds the first (issue 15's memory bound).
 * Such a change is alone in its batch (is_copy_row wants that): an event's
 * bytes count its values, and a batch takes another event only while it
 * stays under channels.c's BATCH_BYTES_MAX, which is no more than this.
 */
#define COPY_ROW_MIN ((size_t)4 << 20)
/* COPY data is produced and sent in pieces of about this size. */
#define COPY_CHUNK ((size_t)256 << 10)
/* The temporary table a huge update's row goes through (dropped at commit or rollback). */
#define COPY_UPDATE_TABLE "pg_temp.\"voyager_big_row\""

/*
 * Is this batch one huge insert or update to apply by COPY? An update only
 * by primary key, setting no key column (else the pipelined path, which
 * also handles a row identified without a key and a key that moves).
 */
static bool is_copy_row(writer_item *const *items, size_t n)
{
    if (n != 1)
        return false;
    const writer_change *ev = &items[0]->ev;
    const table_meta *tm = items[0]->tm;
    if (ev->op == WRITER_OP_UPDATE) {
        if (!tm->pk.count)
            return false;
        for (size_t i = 0; i < tm->pk.count; i++) {
            bool found;
            if (!writer_old_value(ev, tm->pk.items[i], &found) || !found)
                return false;
            writer_cols_get(&ev->fields, tm->pk.items[i], &found);
            if (found)
                return false;
        }
    } else if (ev->op != WRITER_OP_INSERT) {
        return false;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < ev->fields.count; i++)
        if (ev->fields.values[i])
            bytes += strlen(ev->fields.values[i]);
    return bytes >= COPY_ROW_MIN;
}

static bool put_copy(PGconn *pg, strbuf *b)
{
    bool ok = b->len == 0 || PQputCopyData(pg, b->data, (int)b->len) == 1;
    strbuf_reset(b);
    return ok;
}

/*
 * One row in COPY's text format (values[i], NULL as \N), sent piece by
 * piece: in blocking mode libpq sends what it buffers as it goes, so neither
 * side holds the row.
 */
static bool put_copy_row(PGconn *pg, const char *const *values, size_t count)
{
    strbuf b = STRBUF_INIT;
    bool ok = true;
    for (size_t i = 0; i < count && ok; i++) {
        if (i)
            strbuf_append_char(&b, '\t');
        const char *v = values[i];
        if (!v) {
            strbuf_append(&b, "\\N");
            continue;
        }
        /* a piece is sent once full, whether plain text or escapes filled it */
        while (*v && ok) {
            if (b.len >= COPY_CHUNK && !(ok = put_copy(pg, &b)))
                break;
            size_t run = strcspn(v, "\\\n\r\t");
            if (run) {
                size_t k = COPY_CHUNK - b.len < run ? COPY_CHUNK - b.len : run;
                strbuf_append_len(&b, v, k);
                v += k;
                continue;
            }
            strbuf_append_char(&b, '\\');
            strbuf_append_char(&b, *v == '\n' ? 'n' : *v == '\r' ? 'r' : *v == '\t' ? 't' : '\\');
            v++;
        }
    }
    strbuf_append_char(&b, '\n');
    ok = ok && put_copy(pg, &b);
    strbuf_free(&b);
    return ok;
}

static void append_idents(strbuf *sql, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        strbuf_append(sql, i ? ", " : "");
        append_ident(sql, names[i]);
    }
}

/* COPY table (names) FROM STDIN of one row; false with the failure noted in c. */
static bool copy_one_row(pgconn *c, const char *table, const char *const *names,
                         const char *const *values, size_t count)
{
    PGconn *pg = c->pg;
    strbuf sql = STRBUF_INIT;
    /* a GENERATED ALWAYS identity column takes the value as with OVERRIDING SYSTEM VALUE */
    strbuf_appendf(&sql, "COPY %s (", table);
    append_idents(&sql, names, count);
    strbuf_append(&sql, ") FROM STDIN");
    PGresult *r = PQexec(pg, sql.data);
    strbuf_free(&sql);
    if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
        pgconn_note_result(c, r);
        PQclear(r);
        return false;
    }
    PQclear(r);
    bool sent = put_copy_row(pg, values, count);
    /* after a failed send, the end (or its error) still ends the COPY state */
    int end = PQputCopyEnd(pg, sent ? NULL : "sending the row failed");
    bool ok = sent && end == 1;
    while ((r = PQgetResult(pg)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK) {
            if (ok)
                pgconn_note_result(c, r);
            ok = false;
        }
        PQclear(r);
        /*
         * Still in COPY: the end was not queued (libpq out of memory), and
         * PQgetResult would say so forever. The session is unusable; the
         * channel's retries report it.
         */
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT)
            break;
    }
    if (!sent || end != 1 || PQstatus(pg) == CONNECTION_BAD)
        c->last_error_retryable = true; /* the connection failed, not the row */
    return ok;
}

/*
 * A huge update: its new values and its key by COPY into a temporary table,
 * then one UPDATE ... FROM it. *rows: rows the UPDATE changed.
 */
static bool copy_update(pgconn *c, const writer_item *it, long *rows)
{
    const writer_change *ev = &it->ev;
    const table_meta *tm = it->tm;
    size_t nf = ev->fields.count, n = nf + tm->pk.count;
    const char **names = xmalloc(n * sizeof *names);
    const char **values = xmalloc(n * sizeof *values);
    for (size_t i = 0; i < nf; i++) {
        names[i] = ev->fields.names[i];
        values[i] = ev->fields.values[i];
    }
    for (size_t i = 0; i < tm->pk.count; i++) {
        bool found;
        names[nf + i] = tm->pk.items[i];
        values[nf + i] = writer_old_value(ev, tm->pk.items[i], &found);
    }
    /* the table's own column types (and typmods) for the row, no constraint */
    strbuf sql = STRBUF_INIT;
    strbuf_append(&sql, "CREATE TEMPORARY TABLE " COPY_UPDATE_TABLE " ON COMMIT DROP AS SELECT ");
    append_idents(&sql, names, n);
    strbuf_appendf(&sql, " FROM %s WITH NO DATA", tm->qualified);
    /* quiet: a refusal (no TEMP privilege) sends the row the pipelined way, it is no error */
    PGresult *made = pgconn_query_quiet(c, sql.data, 0, NULL);
    bool ok = made != NULL;
    PQclear(made);
    ok = ok && copy_one_row(c, COPY_UPDATE_TABLE, names, values, n);
    if (ok) {
        strbuf_reset(&sql);
        strbuf_appendf(&sql, "UPDATE %s AS t SET ", tm->qualified);
        for (size_t i = 0; i < nf; i++) {
            strbuf_append(&sql, i ? ", " : "");
            append_ident(&sql, names[i]);
            strbuf_append(&sql, " = v.");
            append_ident(&sql, names[i]);
        }
        strbuf_append(&sql, " FROM " COPY_UPDATE_TABLE " AS v WHERE ");
        for (size_t i = nf; i < n; i++) {
            strbuf_append(&sql, i > nf ? " AND t." : "t.");
            append_ident(&sql, names[i]);
            strbuf_append(&sql, " = v.");
            append_ident(&sql, names[i]);
        }
        PGresult *r = pgconn_query(c, sql.data, 0, NULL);
        ok = r != NULL;
        if (r)
            *rows = atol(PQcmdTuples(r));
        PQclear(r);
    }
    strbuf_free(&sql);
    free(names);
    free(values);
    return ok;
}

/*
 * Refusals of the COPY path itself, not of the row: COPY FROM into a table
 * whose row-level security applies to the user (0A000), a user without TEMP
 * on the database (42501). The pipelined path applies such a row as before.
 */
static bool copy_path_refused(const pgconn *c)
{
    return strcmp(c->sqlstate, "0A000") == 0 || strcmp(c->sqlstate, "42501") == 0;
}

/*
 * A batch of one huge insert or update (is_copy_row): outside pipeline mode,
 * its row by COPY, then the channel's progress and the table's counts, in
 * one transaction as the pipelined path sends them. A COMMIT left unanswered
 * is the caller's to resolve the same way (the progress row tells).
 * 1: applied; 0: failed (err, *failed set); -1: the COPY path was refused
 * (copy_path_refused) and rolled back: apply the batch by statements.
 */
static int apply_copy_row(applier *a, const char *after, writer_item *it, writer_item **failed,
                          strbuf *err)
{
    pgconn *c = a->conn;
    const writer_change *ev = &it->ev;
    bool insert = ev->op == WRITER_OP_INSERT;
    char ch[16], vsn[24];
    snprintf(ch, sizeof ch, "%d", a->channel);
    snprintf(vsn, sizeof vsn, "%lld", (long long)ev->vsn);
    const char *ni = insert ? "1" : "0", *nu = insert ? "0" : "1";
    const char *pp[7] = {a->migration_uuid, ch, vsn, ni, nu, "0", after};
    const char *tp[6] = {a->migration_uuid, ch, it->tm->count_name, ni, nu, "0"};
    long rows = 1;
    bool ok = pgconn_exec(c, "BEGIN");
    if (ok && !(insert ? copy_one_row(c, it->tm->qualified, ev->fields.names, ev->fields.values,
                                      ev->fields.count)
                       : copy_update(c, it, &rows))) {
        ok = false;
        if (PQstatus(c->pg) == CONNECTION_OK && copy_path_refused(c)) {
            const char *why = PQerrorMessage(c->pg);
            log_info("apply: vsn %lld on %s: %.*s; applied by statement instead",
                     (long long)ev->vsn, it->tm->qualified, (int)strcspn(why, "\n"), why);
            pgconn_rollback_after_failure(c);
            if (PQtransactionStatus(c->pg) == PQTRANS_IDLE) {
                c->last_error_retryable = false;
                return -1;
            }
        }
        *failed = it;
    }
    ok = ok && channel_progress(c, pp) &&
         pgconn_exec_params(c, CDC_SQL_TABLE_COUNTS, 6, tp) && pgconn_exec(c, "COMMIT");
    if (!ok) {
        set_error(err, PQerrorMessage(c->pg));
        if (PQstatus(c->pg) == CONNECTION_BAD)
            c->last_error_retryable = true;
        else if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
            pgconn_rollback_after_failure(c);
        return 0;
    }
    if (rows < 1 && ++a->zero_row_changes <= 10)
        log_warn("apply: update of vsn %lld on %s found no row", (long long)ev->vsn,
                 it->tm->qualified);
    log_info("apply: vsn %lld %s %s by COPY (a row of many bytes)", (long long)ev->vsn,
             insert ? "inserted into" : "updated in", it->tm->qualified);
    return 1;
}

bool applier_apply_progress(applier *a, int64_t after_vsn, int64_t vsn)
{
    char ch[16], v[24], after[24];
    snprintf(ch, sizeof ch, "%d", a->channel);
    snprintf(v, sizeof v, "%lld", (long long)vsn);
    snprintf(after, sizeof after, "%lld", (long long)after_vsn);
    const char *pp[7] = {a->migration_uuid, ch, v, "0", "0", "0", after};
    /* one statement, its own transaction; "stale" (moved by another session) fails its cast */
    PGresult *r = PQexecParams(a->conn->pg, CDC_SQL_CHANNEL_PROGRESS, 7, NULL, pp, NULL, NULL, 0);
    bool ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok;
}

bool applier_apply_batch(applier *a, int64_t after_vsn, writer_item **items, size_t n,
                         writer_item **failed, strbuf *err)
{
    *failed = NULL;
    a->conn->last_error_retryable = false;
    char after[24];
    snprintf(after, sizeof after, "%lld", (long long)after_vsn);
    if (n == 1 && items[0]->ev.op == WRITER_OP_TRUNCATE)
        return apply_truncate(a, after, items[0], failed, err);
    if (is_copy_row(items, n)) {
        int rc = apply_copy_row(a, after, items[0], failed, err);
        if (rc >= 0)
            return rc == 1;
    }
    PGconn *pg = a->conn->pg;
    if (a->stmts.count >= STMT_CACHE_MAX) {
        PGresult *r = PQexec(pg, "DEALLOCATE ALL");
        PQclear(r);
        applier_reset(a);
    }
    ev_stmt *st = xcalloc(n ? n : 1, sizeof *st);
    size_t *order = xcalloc(n ? n : 1, sizeof *order);
    piece *pc = xcalloc(n ? n : 1, sizeof *pc);
    size_t np = 0;
    tcount *tc = NULL;
    size_t ntc = 0;
    int64_t totals[3] = {0, 0, 0};
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        if (!build_stmt(items[i], &st[i], NULL, err)) {
            *failed = items[i];
            ok = false;
        }
        count_event(&tc, &ntc, items[i]);
        totals[items[i]->ev.op]++;
    }
    int64_t folded[2] = {0, 0};
    if (ok)
        ok = plan_pieces(a, items, n, st, order, pc, &np, folded, failed, err);
    /* sent[k]: the piece of the k-th statement in the pipeline, or SENT_CONTROL */
    long *sent = xcalloc(np + ntc + 4, sizeof *sent);
    size_t nsent = 0;
    if (ok && !PQenterPipelineMode(pg)) {
        set_error(err, PQerrorMessage(pg));
        a->conn->last_error_retryable = true;
        ok = false;
    }
    if (ok) {
        bool sent_ok = PQsendQueryParams(pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
        sent[nsent++] = SENT_CONTROL;
        for (size_t k = 0; k < np && sent_ok; k++) {
            sent_ok = PQsendQueryPrepared(pg, pc[k].name, pc[k].nparams, pc[k].params,
                                          pc[k].lengths, pc[k].formats, 0);
            sent[nsent++] = (long)k;
        }
        char ch[16], vsn[24], c0[24], c1[24], c2[24];
        snprintf(ch, sizeof ch, "%d", a->channel);
        snprintf(vsn, sizeof vsn, "%lld", (long long)items[n - 1]->ev.vsn);
        snprintf(c0, sizeof c0, "%lld", (long long)totals[0]);
        snprintf(c1, sizeof c1, "%lld", (long long)totals[1]);
        snprintf(c2, sizeof c2, "%lld", (long long)totals[2]);
        const char *pp[7] = {a->migration_uuid, ch, vsn, c0, c1, c2, after};
        if (sent_ok) {
            sent_ok = PQsendQueryParams(pg, CDC_SQL_CHANNEL_PROGRESS, 7, NULL, pp, NULL, NULL, 0);
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
            set_error(err, PQerrorMessage(pg));
            a->conn->last_error_retryable = true;
            ok = false;
        } else {
            /* read one result (+ NULL) per statement, then the sync */
            bool have_error = false;
            for (size_t k = 0; k < nsent; k++) {
                PGresult *r = PQgetResult(pg);
                if (!r) {
                    if (!have_error)
                        set_error(err, PQerrorMessage(pg));
                    a->conn->last_error_retryable = true;
                    have_error = true;
                    break;
                }
                ExecStatusType es = PQresultStatus(r);
                if (es == PGRES_FATAL_ERROR && !have_error) {
                    have_error = true;
                    set_error(err, PQresultErrorMessage(r));
                    pgconn_note_result(a->conn, r);
                    if (sent[k] >= 0)
                        *failed = items[order[pc[sent[k]].first]];
                    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
                    if (*failed && (*failed)->tm->key_deferrable && state &&
                        (strcmp(state, "21000") == 0 || strcmp(state, "22012") == 0))
                        strbuf_append(err, strcmp(state, "21000") == 0
                                               ? " (two rows have its DEFERRABLE key here: the event "
                                                 "does not tell them apart)"
                                               : " (the update gives the row a key another row has: "
                                                 "its DEFERRABLE key let the source pass through a "
                                                 "duplicate inside one transaction, which is not "
                                                 "applied here: nothing would check it)");
                } else if (es == PGRES_COMMAND_OK && sent[k] >= 0) {
                    const piece *p = &pc[sent[k]];
                    if (p->count > 1)
                        a->merged_events += (int64_t)p->count;
                    const writer_item *it = items[order[p->first]];
                    long done = atol(PQcmdTuples(r));
                    if (it->ev.op != WRITER_OP_INSERT && done < (long)p->count) {
                        a->zero_row_changes += (long)p->count - done;
                        if (a->zero_row_changes <= 10)
                            log_warn("apply: %s of vsn %lld on %s found no row%s",
                                     it->ev.op == WRITER_OP_UPDATE ? "update" : "delete",
                                     (long long)it->ev.vsn, it->tm->qualified,
                                     p->count > 1 ? " (or one of the events applied with it)"
                                                  : "");
                    }
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
    for (size_t k = 0; k < np; k++) {
        if (pc[k].count > 1) {
            for (int i = 0; i < pc[k].nparams; i++)
                free((char *)pc[k].params[i]);
            free(pc[k].params);
            free(pc[k].lengths);
            free(pc[k].formats);
        }
    }
    for (size_t i = 0; i < n; i++) {
        strbuf_free(&st[i].sig);
        strbuf_free(&st[i].key);
        free(st[i].params);
    }
    free(pc);
    free(st);
    free(order);
    free(tc);
    free(sent);
    if (ok) {
        a->folded_into_inserts += folded[0];
        a->folded_into_updates += folded[1];
    }
    return ok;
}
