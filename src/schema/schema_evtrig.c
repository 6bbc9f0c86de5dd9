#include "schema/schema_evtrig.h"

#include <stdlib.h>

bool schema_evtrig_sql(pgconn *c, const strlist *schemas, bool comments, strbuf *out, size_t *count)
{
    *count = 0;
    for (size_t i = 0; i < schemas->count; i++) {
        const char *p[2] = {schemas->items[i], comments ? "t" : "f"};
        PGresult *r = pgconn_query(
            c,
            "SELECT format('CREATE EVENT TRIGGER %I ON %I%s EXECUTE FUNCTION %I.%I()', e.evtname, e.evtevent,"
            "   CASE WHEN e.evttags IS NULL THEN '' ELSE ' WHEN TAG IN (' ||"
            "     (SELECT string_agg(quote_literal(t), ', ') FROM unnest(e.evttags) t) || ')' END,"
            "   n.nspname, p.proname),"
            " CASE e.evtenabled WHEN 'D' THEN format('ALTER EVENT TRIGGER %I DISABLE', e.evtname)"
            "   WHEN 'R' THEN format('ALTER EVENT TRIGGER %I ENABLE REPLICA', e.evtname)"
            "   WHEN 'A' THEN format('ALTER EVENT TRIGGER %I ENABLE ALWAYS', e.evtname) END,"
            " CASE WHEN $2::boolean AND obj_description(e.oid, 'pg_event_trigger') IS NOT NULL"
            "   THEN format('COMMENT ON EVENT TRIGGER %I IS %L', e.evtname, obj_description(e.oid, 'pg_event_trigger'))"
            " END"
            " FROM pg_catalog.pg_event_trigger e JOIN pg_catalog.pg_proc p ON p.oid = e.evtfoid"
            " JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = $1 ORDER BY e.evtname",
            2, p);
        if (!r)
            return false;
        for (int row = 0; row < PQntuples(r); row++) {
            for (int col = 0; col < 3; col++) {
                if (PQgetisnull(r, row, col))
                    continue;
                strbuf_append(out, PQgetvalue(r, row, col));
                strbuf_append(out, ";\n\n");
            }
            (*count)++;
        }
        PQclear(r);
    }
    return true;
}
