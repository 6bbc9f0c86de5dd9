/*
 * The one libmariadb wrapper for a MySQL or MariaDB source (and, later, the fall-back /
 * fall-forward MySQL writer): connect from a db_conf with utf8mb4, run statements and queries
 * with errors logged once (naming the role, host:port and user), fetch whole results into owned
 * string tables, quote identifiers with backticks.
 *
 * Statement text never carries user input: values go as parameters of a prepared statement
 * (mysql_conn_query with nparams > 0), names through mysql_quote_ident().
 */
#ifndef VOYAGER_SOURCE_MYSQL_MYSQL_CONN_H
#define VOYAGER_SOURCE_MYSQL_MYSQL_CONN_H

#include "db/dbconf.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct st_mysql MYSQL;

typedef struct mysql_conn {
    MYSQL *my;
    db_role role;
    char *endpoint;                    /* "host:port" or the socket path, for messages */
    char *user;                        /* for messages */
    char *server_version;              /* SELECT VERSION(): "10.11.19-MariaDB-0+deb12u1-log" */
    unsigned long server_version_num;  /* 101119 (major*10000 + minor*100 + patch) */
    bool is_mariadb;
    unsigned int last_errno;           /* of the last failed call, 0 if none */
    char sqlstate[6];                  /* of the last failed call, "" if none */
    bool retries; /* the owner retries a transient failure (mysql_errno_transient): logged as a warning */
    unsigned int read_timeout;         /* mysql_conn_options.read_timeout */
    const char *timeout_env;           /* mysql_conn_options.timeout_env */
    long long started_ms;              /* when the last statement was sent (monotonic) */
    unsigned int statement_timeout_s;  /* the session's statement time limit, 0: none set */
} mysql_conn;

typedef struct mysql_conn_options {
    bool quiet;                   /* do not log a failure (the caller reports it) */
    char **why;                   /* when not NULL, a failure's one-line description (caller frees) */
    char **hint;                  /* when not NULL, what to do about it, or NULL (caller frees) */
    unsigned int *err;            /* when not NULL, a failure's mysql_errno (0: it had none) */
    unsigned int connect_timeout; /* seconds; 0: 10 */
    /*
     * Seconds a read or a write on the connection may wait; 0: none (a binlog stream waits for
     * events). lock_wait: the server's lock_wait_timeout too, the reads waiting a few seconds
     * longer (the server's refusal says why). A statement that times out is logged as "no answer
     * within N s", naming timeout_env (when given) as the setting.
     */
    unsigned int read_timeout;
    bool lock_wait;
    const char *timeout_env;
    bool no_database;             /* connect without selecting conf->name */
    /*
     * limit_statements: every statement of the session may run statement_timeout_s seconds (0:
     * no limit, set too, over a server-wide one): mysql_statement_timeout_sql. A server that
     * has no such limit fails the connect when statement_timeout_s > 0.
     */
    bool limit_statements;
    unsigned int statement_timeout_s;
} mysql_conn_options;

/*
 * The statement that limits how long the session's statements run: MariaDB (10.1+)
 * `SET SESSION max_statement_time = N` (seconds, every statement); MySQL (5.7.8+)
 * `SET SESSION max_execution_time = N*1000` (milliseconds, SELECTs only). 0: no limit. NULL: the
 * server has no such setting (version: mysql_get_server_version's major*10000 + minor*100 +
 * patch). Caller frees.
 */
char *mysql_statement_timeout_sql(bool is_mariadb, unsigned long version, unsigned int seconds);
/* Did error e (a mysql_errno) stop a statement that ran past the session's time limit? */
bool mysql_errno_statement_timeout(unsigned int e);
/*
 * Log that `what` (a statement's first line, or what it was doing: "reading table t") ran past
 * the session's time limit (c->statement_timeout_s; err: the server's error), with the flag that
 * raises it.
 */
void mysql_conn_report_statement_timeout(const mysql_conn *c, unsigned int err, const char *what);

/*
 * What conf's ssl_mode and files ask of the connection (docs/DECISIONS.md "MySQL source", TLS):
 *   disable       no TLS (a certificate, key, root cert or CRL given is refused: unused)
 *   allow, prefer TLS when the server offers it, plain text when it does not, or when the TLS
 *                 handshake fails (a warning says so); the files given are used for it
 *   require       TLS or no connection
 *   verify-ca     require, and the certificate's chain checked against ssl_root_cert (which
 *                 must be given), not the host name
 *   verify-full   require, and the chain (ssl_root_cert, else the system's CAs) and host name
 * With a root cert, every mode that uses TLS checks the chain (as libpq does); a CRL is refused
 * where no chain is checked. An empty value counts as not given. False with *why and *hint (one
 * line each, caller frees) for a combination refused.
 */
typedef struct mysql_tls_plan {
    bool tls;         /* ask for TLS (the files given are used for it) */
    bool required;    /* no connection without TLS */
    bool verify_host; /* the host name checked too (MYSQL_OPT_SSL_VERIFY_SERVER_CERT) */
    bool plain_retry; /* a failed TLS handshake is tried again in plain text */
} mysql_tls_plan;
bool mysql_tls_plan_of(const db_conf *conf, mysql_tls_plan *plan, char **why, char **hint);

/*
 * Connect to conf (host, port, user, password, name, ssl_*). A host starting with '/' is a unix
 * socket path. TLS as mysql_tls_plan_of says (a refused combination fails before connecting).
 * The session runs in utf8mb4 with time_zone '+00:00' (TIMESTAMP values read in UTC).
 * When the server refuses a login without password and stdin is a TTY, asks for it once (kept
 * in conf). On failure logs what failed (naming host:port and the user) with the flag or
 * statement that fixes it on a hint: line, and returns NULL. Caller closes with mysql_conn_close().
 */
mysql_conn *mysql_conn_open(db_conf *conf, const mysql_conn_options *opt);
void mysql_conn_close(mysql_conn *c);

/*
 * One-line description of a connection failure (client error number and message) for an
 * operator: what failed and where (host:port, user). *hint (when hint is not NULL): the fix, one
 * line, NULL when there is none to give. Caller frees both.
 */
char *mysql_conn_describe_connect_error(const db_conf *conf, unsigned int err, const char *msg,
                                        char **hint);

/*
 * Did error e (a mysql_errno) break the connection: the server went away, shut down or killed
 * it, or the network failed? A new connection may mend it.
 */
bool mysql_errno_lost(unsigned int e);
/*
 * A lost connection, or a server error the same work may pass on another try (a deadlock, a
 * lock wait timeout, too many connections): the MySQL side of db/retry.h's transient errors.
 */
bool mysql_errno_transient(unsigned int e);

/* A fully fetched result: strings owned by the struct, NULL for SQL NULL. */
typedef struct mysql_rows {
    size_t nrows, ncols;
    char **colnames;        /* ncols names */
    char **cells;           /* nrows * ncols, row-major; NUL-terminated (binary data too) */
    unsigned long *lengths; /* nrows * ncols byte lengths (0 for NULL) */
} mysql_rows;

#define MYSQL_ROWS_INIT {0, 0, NULL, NULL, NULL}
/* The cell at row r, column c: NULL for SQL NULL. */
const char *mysql_rows_get(const mysql_rows *rows, size_t r, size_t c);
/* The index of the column named name, or -1. */
int mysql_rows_col(const mysql_rows *rows, const char *name);
void mysql_rows_free(mysql_rows *rows);

/* Run a statement, discarding any result. Logs and returns false on error. */
bool mysql_conn_exec(mysql_conn *c, const char *sql);
/*
 * Run a query and fetch all its rows into *out (initialised by the call; free it with
 * mysql_rows_free(), also after a failure). With nparams > 0 the statement is prepared and
 * params[i] (text, NULL for SQL NULL) are bound to its '?' placeholders. Logs and returns false
 * on error.
 */
bool mysql_conn_query(mysql_conn *c, const char *sql, int nparams, const char *const *params,
                      mysql_rows *out);
/* Like mysql_conn_query but logs nothing on error (last_errno / sqlstate still set). */
bool mysql_conn_query_quiet(mysql_conn *c, const char *sql, int nparams, const char *const *params,
                            mysql_rows *out);
/*
 * The first column of the first row (caller frees); NULL when the query failed (logged), had no
 * row or the value is NULL (*found tells the last two apart when not NULL).
 */
char *mysql_conn_query_value(mysql_conn *c, const char *sql, int nparams, const char *const *params,
                             bool *found);

/* `ident` with embedded backticks doubled. Caller frees. */
char *mysql_quote_ident(const char *ident);
/* `db`.`name`. Caller frees. */
char *mysql_quote_qualified(const char *db, const char *name);

#endif
