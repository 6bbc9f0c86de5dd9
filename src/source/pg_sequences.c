/*
 * Sequence values of a PostgreSQL source (source.h read_sequences and
 * feed_read_sequences): what the importers set the target's sequences to
 * after the snapshot and at cutover.
 */
#include "source/pg_int.h"

#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

bool pg_sequences_read(pgconn *c, const strlist *schemas, sequence_value **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char *arr = pg_text_array_literal(schemas);
    const char *p[1] = {arr};
    PGresult *r = pgconn_query(c,
                               "SELECT n.nspname, c.relname FROM pg_class c"
                               " JOIN pg_namespace n ON n.oid = c.relnamespace"
                               " WHERE c.relkind = 'S' AND n.nspname = ANY ($1::text[]) ORDER BY 1, 2",
                               1, p);
    free(arr);
    if (!r)
        return false;
    int rows = PQntuples(r);
    sequence_value *v = xcalloc((size_t)rows + 1, sizeof *v);
    bool ok = true;
    /*
     * Each sequence read itself, not through pg_sequences: that view says NULL
     * for a sequence the user may not read, which would be restored as never used.
     */
    for (int i = 0; ok && i < rows; i++) {
        v[i].schema = xstrdup(PQgetvalue(r, i, 0));
        v[i].name = xstrdup(PQgetvalue(r, i, 1));
        char *q = pg_quote_qualified(v[i].schema, v[i].name);
        char *sql = xasprintf("SELECT last_value, is_called FROM %s", q);
        PGresult *one = pgconn_query(c, sql, 0, NULL);
        ok = one && PQntuples(one) == 1;
        if (ok) {
            v[i].last_value = strtoll(PQgetvalue(one, 0, 0), NULL, 10);
            v[i].is_called = PQgetvalue(one, 0, 1)[0] == 't';
        }
        PQclear(one);
        free(sql);
        free(q);
    }
    PQclear(r);
    if (!ok) {
        sequence_values_free(v, (size_t)rows);
        return false;
    }
    *out = v;
    *n = (size_t)rows;
    return true;
}

bool pg_read_sequences(source *s, const char *snapshot, const strlist *schemas, sequence_value **out,
                       size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!snapshot) {
        pgconn *c = pg_control(s);
        return c && pg_sequences_read(c, schemas, out, n);
    }
    /* The feed's snapshot is held by its replication connection: read it from another. */
    pgconn *c = pgconn_connect(s->conf, NULL);
    if (!c)
        return false;
    char *lit = pg_quote_literal(snapshot);
    char *set = xasprintf("SET TRANSACTION SNAPSHOT %s", lit);
    bool ok = pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ") && pgconn_exec(c, set) &&
              pg_sequences_read(c, schemas, out, n);
    pgconn_exec(c, "COMMIT");
    free(set);
    free(lit);
    pgconn_close(c);
    return ok;
}
