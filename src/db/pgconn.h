/*
 * The one libpq wrapper for PostgreSQL and YugabyteDB (YSQL): connect with all
 * connection flags, detect the server, run statements with errors logged once
 * (naming the database role and backend pid), and classify errors.
 */
#ifndef VOYAGER_DB_PGCONN_H
#define VOYAGER_DB_PGCONN_H

#include "core/util.h"
#include "db/dbconf.h"
#include "db/retry.h"

#include <libpq-fe.h>
#include <stdbool.h>

typedef struct pgconn {
    PGconn *pg;
    db_role role;
    bool is_yugabyte;        /* version() says YugabyteDB */
    int server_version_num;  /* e.g. 150004 */
    char sqlstate[6];        /* of the last failed statement, "" if none */
    bool last_error_retryable;
    bool retries; /* the owner retries transient errors: they are logged as warnings */
} pgconn;

typedef struct pgconn_options {
    const char *replication;      /* NULL, or "database" for a logical replication connection */
    const char *application_name; /* default "yb-voyager" */
    const char *host;             /* override conf->host (YugabyteDB node spreading) */
    int port;                     /* override when > 0 */
    const char *dbname;           /* override conf->name */
    bool quiet;                   /* do not log a failure (the caller reports it) */
    char **why;                   /* when not NULL, a failure's one-line description (caller frees) */
    char **hint;                  /* when not NULL, what to check about it, or NULL (caller frees) */
    bool warn;                    /* log a failure as a warning: the caller retries */
} pgconn_options;

/*
 * Connect. When the server asks for a password and none was given, prompts on a
 * TTY (storing it in conf for later connections). On failure logs the problem
 * with a hint: line naming the flag to fix, and returns NULL. Caller closes.
 * Every connection has TCP keepalives and a TCP user timeout, so a peer that
 * vanished (host down, network cut) is noticed in about a minute instead of
 * never; a live peer that stops answering is the caller's to time out.
 * Every session, the walsender's too, reads and writes values with the
 * settings of pgconn_startup_options(), whatever the database or role
 * defaults are: a value's text means the same on both sides of a migration.
 */
pgconn *pgconn_connect(db_conf *conf, const pgconn_options *opt);
/*
 * libpq "options" for a connection: env_options (PGOPTIONS, or NULL) followed by
 * DateStyle ISO, IntervalStyle postgres, TimeZone UTC, extra_float_digits 3 and
 * lc_monetary C, the settings compare data and pg_dump read values with. Caller frees.
 */
char *pgconn_startup_options(const char *env_options);
void pgconn_close(pgconn *c);
/*
 * End a transaction whose statement failed, when the connection is still up,
 * keeping the failure's classification (last_error_retryable, sqlstate): the
 * caller decides on a retry from the failure, not from the ROLLBACK's success.
 */
void pgconn_rollback_after_failure(pgconn *c);
/*
 * pgconn_connect() that waits out a database that is restarting or out of
 * reach: transient failures (refused, closed, starting up, ...) are retried
 * under rs with a warning each; others are logged as errors at once. NULL
 * after logging; *gave_up when the policy's deadline passed (a rerun may
 * succeed: exit 3).
 */
pgconn *pgconn_connect_retrying(db_conf *conf, const pgconn_options *opt, retry_state *rs,
                                const volatile sig_atomic_t *interrupt, bool *gave_up);

/*
 * The last pgconn_connect() of this thread that failed was refused by a
 * server that is up but has no free connection slot (53300 "too many
 * clients"): worth waiting for even on a command's first connection.
 */
bool pgconn_last_connect_overloaded(void);

/*
 * A connection failure for an operator: one line naming the role and what went
 * wrong (returned), and in *hint (when not NULL) what to check, such as the flag
 * to fix, or NULL when there is nothing to suggest. Caller frees both.
 */
char *pgconn_describe_connect_error(const db_conf *conf, const char *libpq_message, char **hint);

/* Run a statement returning no rows. Logs and returns false on error. */
bool pgconn_exec(pgconn *c, const char *sql);
/* The same with $1.. parameters (text). */
bool pgconn_exec_params(pgconn *c, const char *sql, int nparams, const char *const *params);
/*
 * Run a query; returns the result (caller PQclear()s) or NULL on error (logged).
 * Accepts PGRES_TUPLES_OK and PGRES_COMMAND_OK.
 */
PGresult *pgconn_query(pgconn *c, const char *sql, int nparams, const char *const *params);
/* Like pgconn_query but does not log: for errors the caller expects (e.g. already exists). */
PGresult *pgconn_query_quiet(pgconn *c, const char *sql, int nparams, const char *const *params);
/* Single value of a one-row query (caller frees), NULL on error or no row. */
char *pgconn_query_value(pgconn *c, const char *sql, int nparams, const char *const *params);
/*
 * Whether the relation (table, sequence, ...) with this name exists, as
 * to_regclass() resolves it (quote the parts). 1 yes, 0 no, -1 when the query failed (logged).
 */
int pgconn_relation_exists(pgconn *c, const char *name);
/*
 * Remove every row of a table (quoted qualified name), inside the caller's
 * transaction: TRUNCATE ONLY (TRUNCATE for a partitioned table) under a
 * savepoint; when refused because another table has a foreign key to it,
 * DELETE with session_replication_role = replica when the user may set it.
 * False after logging.
 */
bool pgconn_empty_table(pgconn *c, const char *qualified);

/*
 * Make a long-lived connection usable before relying on it: a quiet round
 * trip, and when the server closed it (an idle session outlives a server
 * restart with PQstatus still OK) reconnect (PQreset, same parameters) under
 * rs, with a warning per attempt. rs: the caller's run of failures (its
 * deadline spans every retry of the caller's operation). False once the
 * policy's deadline passed (logged as an error that says to run the same
 * command again) or when *interrupt became set. Session settings are the
 * caller's to redo after a reconnect (*reconnected).
 */
bool pgconn_ensure(pgconn *c, retry_state *rs, const char *what,
                   const volatile sig_atomic_t *interrupt, bool *reconnected);

/* Record sqlstate/retryability of res into c; returns the error message or "". */
const char *pgconn_note_result(pgconn *c, const PGresult *res);

/* Identifier quoting: always quotes, doubling embedded quotes. Caller frees. */
char *pg_quote_ident(const char *ident);
/* "schema"."table". Caller frees. */
char *pg_quote_qualified(const char *schema, const char *name);
/*
 * schema.table with each part in double quotes only where PostgreSQL needs
 * them (upstream's minimally quoted name): public."Order". Unambiguous, and
 * readable in messages. Caller frees.
 */
char *pg_quote_qualified_min(const char *schema, const char *name);
/* One name quoted the same way (as --source-db-schema takes it). Caller frees. */
char *pg_quote_ident_min(const char *ident);
/* SQL string literal, E'' form when needed. Caller frees. */
char *pg_quote_literal(const char *s);
/* PostgreSQL array literal {"a","b"} of the items, for a text[] parameter (caller frees). */
char *pg_text_array_literal(const strlist *l);

#endif
