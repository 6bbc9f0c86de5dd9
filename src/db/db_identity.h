/*
 * Which PostgreSQL database a connection reached, as a JSON object that can be
 * recorded in the status record and compared later: import data refuses to
 * write into the database export data recorded as the source.
 */
#ifndef VOYAGER_DB_DB_IDENTITY_H
#define VOYAGER_DB_DB_IDENTITY_H

#include "db/pgconn.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* The status record's key of the source's identity. */
#define DB_IDENTITY_SOURCE_KEY "SourceDBIdentity"

/*
 * The identity of c's database: the cluster's system identifier, timeline,
 * port and the database's OID when pg_control_system() may be called, else
 * the server's address, port and the database's name. NULL (nothing logged)
 * when it cannot be read. Caller frees with cJSON_Delete().
 */
cJSON *db_identity_read(pgconn *c);

/* a and b name the same database (false when either is NULL or they are of different kinds). */
bool db_identity_same(const cJSON *a, const cJSON *b);

#endif
