/*
 * Connecting an engine to one of the migration's databases. Every successful
 * connection records its configuration (never the password) in the migration
 * status record (SourceDBConf / TargetDBConf / SourceReplicaDBConf): later
 * commands without connection flags (import data to source, get
 * data-migration-report, end migration) read it from there.
 */
#ifndef VOYAGER_DB_CONNECT_H
#define VOYAGER_DB_CONNECT_H

#include "core/engine.h"
#include "db/dbconf.h"
#include "db/pgconn.h"
#include "db/retry.h"

#include <signal.h>
#include <stdbool.h>

struct catalog;

/* "SourceDBConf", "TargetDBConf", "SourceReplicaDBConf". */
const char *db_conf_record_key(db_role role);

/*
 * Record conf (never the password) with the server's version (NULL: none) in the migration
 * status record; yugabyte: a target that is YugabyteDB. For connections made without
 * db_connect_recorded (a MySQL source). False after a logged error.
 */
bool db_conf_record(struct catalog *cat, const db_conf *conf, const char *version, bool yugabyte);

/*
 * Connect (prompting for a password on a TTY if the server wants one) and
 * record conf. A server with no free connection slot (53300) is waited for
 * under the retry policy (db/retry.h); any other failure returns NULL at once
 * after an error (with its hint). Caller closes. conf keeps any password entered, for
 * further connections.
 */
pgconn *db_connect_recorded(struct catalog *cat, db_conf *conf, const pgconn_options *opt);
/* The flag (set by SIGINT/SIGTERM) that ends a wait of db_connect_recorded(); NULL: none. */
void db_connect_set_interrupt(const volatile sig_atomic_t *flag);

/* The same, waiting out a database that is restarting or out of reach (pgconn_connect_retrying). */
pgconn *db_connect_recorded_retrying(struct catalog *cat, db_conf *conf, const pgconn_options *opt,
                                     retry_state *rs, const volatile sig_atomic_t *interrupt,
                                     bool *gave_up);

/* How an engine reports a failure talking to role: ENGINE_SOURCE_FAILED or ENGINE_TARGET_FAILED. */
engine_status db_role_failure(db_role role);

#endif
