#include "db/db_identity.h"

#include <string.h>

/*
 * The system identifier alone is shared by a physical copy (a promoted
 * standby, a restored base backup): the timeline tells a promoted copy apart,
 * the port a copy on the same host. Where pg_control_system() is revoked the
 * address, port and name are what is left (address "local socket": a Unix
 * socket). Two statements: a function the user may not execute fails the
 * whole statement, even in a branch not taken.
 */
static const char LOCATED_SQL[] =
    "SELECT (SELECT oid::text FROM pg_catalog.pg_database WHERE datname = current_database()),"
    " coalesce(host(inet_server_addr()), 'local socket'), current_setting('port'),"
    " current_database(),"
    " has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')"
    " AND has_function_privilege('pg_catalog.pg_control_checkpoint()', 'EXECUTE')";
static const char CONTROL_SQL[] =
    "SELECT s.system_identifier::text, c.timeline_id::text"
    " FROM pg_catalog.pg_control_system() s, pg_catalog.pg_control_checkpoint() c";

static void add_columns(cJSON *id, PGresult *r, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!PQgetisnull(r, 0, i))
            cJSON_AddStringToObject(id, names[i], PQgetvalue(r, 0, i));
}

cJSON *db_identity_read(pgconn *c)
{
    if (!c || c->is_yugabyte)
        return NULL; /* a YugabyteDB database is never a PostgreSQL source's */
    PGresult *r = pgconn_query_quiet(c, LOCATED_SQL, 0, NULL);
    if (!r || PQntuples(r) != 1) {
        PQclear(r);
        return NULL;
    }
    static const char *const located[] = {"DatabaseOid", "ServerAddress", "Port", "Database"};
    cJSON *id = cJSON_CreateObject();
    add_columns(id, r, located, 4);
    bool control = strcmp(PQgetvalue(r, 0, 4), "t") == 0;
    PQclear(r);
    r = control ? pgconn_query_quiet(c, CONTROL_SQL, 0, NULL) : NULL;
    if (r && PQntuples(r) == 1) {
        static const char *const exact[] = {"SystemIdentifier", "Timeline"};
        add_columns(id, r, exact, 2);
    }
    PQclear(r);
    return id;
}

static const char *field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool all_equal(const cJSON *a, const cJSON *b, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        const char *x = field(a, names[i]), *y = field(b, names[i]);
        if (!x || !y || strcmp(x, y) != 0)
            return false;
    }
    return true;
}

bool db_identity_same(const cJSON *a, const cJSON *b)
{
    if (!cJSON_IsObject(a) || !cJSON_IsObject(b))
        return false;
    static const char *const exact[] = {"SystemIdentifier", "Timeline", "DatabaseOid", "Port"};
    static const char *const located[] = {"ServerAddress", "Port", "Database"};
    if (field(a, "SystemIdentifier") && field(b, "SystemIdentifier"))
        return all_equal(a, b, exact, 4);
    /* one side could not read the control data: where the server listens is all there is */
    return all_equal(a, b, located, 3);
}
