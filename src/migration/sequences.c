#include "migration/sequences.h"

#include "catalog/migration_state.h"
#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

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
