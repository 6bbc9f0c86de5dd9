/*
 * Connecting a command to one of the migration's databases. The first command
 * that connects to a role records its configuration (never the password) in
 * the migration status record (SourceDBConf / TargetDBConf /
 * SourceReplicaDBConf); later commands that lack connection flags (import data
 * to source, get data-migration-report, end migration) read it from there.
 */
#ifndef VOYAGER_CLI_CMD_CONNECT_H
#define VOYAGER_CLI_CMD_CONNECT_H

#include "cli/cmd_ctx.h"
#include "db/dbconf.h"
#include "db/connect.h"
#include "db/pgconn.h"

/*
 * Fill conf from the flags of this role that the command accepts. Strings are
 * copied; free with db_conf_free(). Missing port gets db_default_port().
 */
void db_conf_from_opts(db_conf *conf, const opts *o, db_role role);


/*
 * Build conf for role: from this command's flags when it has them (and the
 * user flag is set), else from the status record plus the password flag/env.
 * Logs a clear error and returns false when neither says where the database is.
 * Caller frees conf with db_conf_free().
 */
bool cmd_db_conf(cmd_ctx *ctx, db_role role, db_conf *conf);

/* The source this migration recorded (export schema / export data) is MySQL/MariaDB. */
bool cmd_recorded_source_is_mysql(cmd_ctx *ctx);

/*
 * Connect (prompting for a password on a TTY if the server wants one) and
 * record conf in the status record. Returns NULL after a one-line error.
 * Caller closes. conf keeps any password entered, for further connections.
 */
pgconn *cmd_connect(cmd_ctx *ctx, db_conf *conf, const pgconn_options *opt);
/* The same, waiting out a database that is restarting or out of reach (pgconn_connect_retrying). */
pgconn *cmd_connect_retrying(cmd_ctx *ctx, db_conf *conf, const pgconn_options *opt,
                             retry_state *rs, bool *gave_up);

/* The exit code for a failure talking to role: EXIT_SOURCE_ERROR or EXIT_TARGET_ERROR. */
int cmd_db_exit_code(db_role role);

#endif
