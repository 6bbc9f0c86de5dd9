#include "migration/sequences.h"

#include "catalog/migration_state.h"
#include "cdc/cdc_tables.h"
#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

bool sequences_record(pgconn *c, const strlist *schemas, catalog *m, const char *phase, int *count)
{
    *count = 0;
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
    int n = PQntuples(r);
    sequence_value *values = xcalloc((size_t)n + 1, sizeof *values);
    bool ok = true;
    /*
     * Each sequence read itself, not through pg_sequences: that view says NULL
     * for a sequence the user may not read, which would be restored as never used.
     */
    for (int i = 0; ok && i < n; i++) {
        char *q = pg_quote_qualified(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        char *sql = xasprintf("SELECT last_value, is_called FROM %s", q);
        PGresult *v = pgconn_query(c, sql, 0, NULL);
        ok = v && PQntuples(v) == 1;
        if (ok) {
            values[i] = (sequence_value){
                .schema = PQgetvalue(r, i, 0),
                .name = PQgetvalue(r, i, 1),
                .last_value = strtoll(PQgetvalue(v, 0, 0), NULL, 10),
                .is_called = PQgetvalue(v, 0, 1)[0] == 't',
            };
        }
        PQclear(v);
        free(sql);
        free(q);
    }
    /* the strings stay r's: values is freed alone */
    ok = ok && sequence_values_save(m, phase, values, (size_t)n);
    if (ok)
        *count = n;
    PQclear(r);
    free(values);
    return ok;
}

bool sequences_restore(catalog *m, pgconn *c, const char *phase, int *restored)
{
    *restored = 0;
    sequence_value *seqs = NULL;
    size_t n = 0;
    if (!sequence_values_load(m, phase, &seqs, &n))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        if (!seqs[i].schema || !seqs[i].name)
            continue;
        char *q = pg_quote_qualified(seqs[i].schema, seqs[i].name);
        char *value = xasprintf("%lld", seqs[i].last_value);
        const char *p[3] = {q, value, seqs[i].is_called ? "true" : "false"};
        int exists = pgconn_relation_exists(c, q);
        if (exists == 1) {
            char *r = pgconn_query_value(c, "SELECT setval($1::regclass, $2::bigint, $3::boolean)",
                                         3, p);
            ok = r != NULL;
            free(r);
            (*restored)++;
        } else if (exists == 0) {
            log_warn("sequence %s does not exist on the %s database: not restored", q,
                     db_role_name(c->role));
        } else {
            ok = false;
        }
        free(value);
        free(q);
    }
    sequence_values_free(seqs, n);
    return ok;
}
