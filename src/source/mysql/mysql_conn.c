#include "source/mysql/mysql_conn.h"

#include "core/log.h"
#include "core/util.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* lock_wait: how much longer a read waits than the server's lock_wait_timeout (seconds) */
#define LOCK_WAIT_MARGIN_S 5

/* mysql_library_init is not thread-safe; everything else is per connection. */
static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static void library_init(void)
{
    mysql_library_init(0, NULL, NULL);
}

static void first_line(const char *msg, char *out, size_t n)
{
    if (!msg)
        msg = "";
    size_t len = strcspn(msg, "\r\n");
    if (len >= n)
        len = n - 1;
    memcpy(out, msg, len);
    out[len] = '\0';
}

static char *endpoint_of(const db_conf *conf)
{
    const char *host = conf->host && *conf->host ? conf->host : "localhost";
    if (host[0] == '/')
        return xstrdup(host);
    return xasprintf("%s:%d", host, conf->port > 0 ? conf->port : 3306);
}

char *mysql_conn_describe_connect_error(const db_conf *conf, unsigned int err, const char *msg,
                                        char **hint)
{
    const char *role = db_role_name(conf->role);
    const char *user = conf->user ? conf->user : "";
    const char *db = conf->name ? conf->name : "";
    char *where = endpoint_of(conf);
    char line[512];
    first_line(msg, line, sizeof line);
    char *out, *advice = NULL;
    switch (err) {
    case ER_ACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
        if (!conf->password) {
            out = xasprintf("%s database (MySQL at %s): user \"%s\" was refused without a password",
                            role, where, user);
            advice = xasprintf("give --%s-db-password or set %s", role,
                               db_role_password_env(conf->role));
        } else {
            out = xasprintf("%s database (MySQL at %s): access denied for user \"%s\" (wrong password, "
                            "or no account for this user from this host)",
                            role, where, user);
            advice = xasprintf("check --%s-db-user and the password (--%s-db-password or %s)", role,
                               role, db_role_password_env(conf->role));
        }
        break;
    case ER_HOST_NOT_PRIVILEGED:
        out = xasprintf("%s database (MySQL at %s): this host may not connect as user \"%s\"", role,
                        where, user);
        advice = xasprintf("create the account for the host voyager connects from (CREATE USER "
                           "'%s'@'<host>')",
                           user);
        break;
    case ER_BAD_DB_ERROR:
        out = xasprintf("%s database (MySQL at %s, user \"%s\"): unknown database \"%s\"", role, where,
                        user, db);
        advice = xasprintf("check --%s-db-name", role);
        break;
    case ER_DBACCESS_DENIED_ERROR:
        out = xasprintf("%s database (MySQL at %s): user \"%s\" may not use database \"%s\"", role,
                        where, user, db);
        advice = xasprintf("check --%s-db-name, or GRANT SELECT ON `%s`.* TO the user", role, db);
        break;
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
        out = xasprintf("%s database (MySQL at %s, user \"%s\"): cannot connect (%s)", role, where,
                        user, line);
        advice = xasprintf("check --%s-db-host and --%s-db-port and that the server is running",
                           role, role);
        break;
    case CR_UNKNOWN_HOST:
        out = xasprintf("%s database (MySQL at %s, user \"%s\"): unknown host", role, where, user);
        advice = xasprintf("check --%s-db-host", role);
        break;
    case CR_SERVER_LOST:
    case CR_SERVER_GONE_ERROR:
        out = xasprintf("%s database (MySQL at %s, user \"%s\"): the connection was lost or timed out "
                        "(%s)",
                        role, where, user, line);
        advice = xasprintf("check --%s-db-host, --%s-db-port and the network", role, role);
        break;
    case ER_CON_COUNT_ERROR:
        out = xasprintf("%s database (MySQL at %s, user \"%s\"): too many connections", role, where,
                        user);
        advice = xstrdup("raise the server's max_connections or lower --parallel-jobs");
        break;
    case CR_SSL_CONNECTION_ERROR:
        out = xasprintf("%s database (MySQL at %s, user \"%s\"): %s", role, where, user, line);
        advice = xasprintf("check the --%s-ssl-* flags", role);
        break;
    case CR_AUTH_PLUGIN_CANNOT_LOAD:
        out = xasprintf("%s database (MySQL at %s, user \"%s\"): %s", role, where, user, line);
        advice = xstrdup("use an account with mysql_native_password (caching_sha2_password is not "
                         "tested with this client)");
        break;
    default:
        out = xasprintf("%s database (MySQL at %s, user \"%s\"): cannot connect: %s (error %u)", role,
                        where, user, line, err);
        break;
    }
    free(where);
    if (hint)
        *hint = advice;
    else
        free(advice);
    return out;
}

bool mysql_errno_lost(unsigned int e)
{
    switch (e) {
    case CR_SERVER_LOST:
    case CR_SERVER_GONE_ERROR:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case ER_NET_READ_ERROR:
    case ER_NET_READ_INTERRUPTED:
    case ER_NET_ERROR_ON_WRITE:
    case ER_NET_WRITE_INTERRUPTED:
        return true;
    default:
        return false;
    }
}

/* MySQL's ER_QUERY_TIMEOUT (max_execution_time); libmariadb's header has another name there. */
#define MYSQL_ER_QUERY_TIMEOUT 3024

bool mysql_errno_statement_timeout(unsigned int e)
{
    return e == ER_STATEMENT_TIMEOUT || e == MYSQL_ER_QUERY_TIMEOUT;
}

char *mysql_statement_timeout_sql(bool is_mariadb, unsigned long version, unsigned int seconds)
{
    if (is_mariadb)
        return version >= 100101 ? xasprintf("SET SESSION max_statement_time = %u", seconds) : NULL;
    return version >= 50708 ? xasprintf("SET SESSION max_execution_time = %llu",
                                        (unsigned long long)seconds * 1000)
                            : NULL;
}

bool mysql_errno_transient(unsigned int e)
{
    return mysql_errno_lost(e) || e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT ||
           e == ER_CON_COUNT_ERROR;
}

/* A path flag counts as given unless empty (an empty value clears a recorded one). */
static bool given(const char *v)
{
    return v && *v;
}

bool mysql_tls_plan_of(const db_conf *conf, mysql_tls_plan *plan, char **why, char **hint)
{
    const char *role = db_role_name(conf->role);
    const char *mode = given(conf->ssl_mode) ? conf->ssl_mode : "prefer";
    *plan = (mysql_tls_plan){0};
    *why = *hint = NULL;
    if (str_eq(mode, "disable")) {
        const char *unused = given(conf->ssl_cert)        ? "ssl-cert"
                             : given(conf->ssl_key)       ? "ssl-key"
                             : given(conf->ssl_root_cert) ? "ssl-root-cert"
                             : given(conf->ssl_crl)       ? "ssl-crl"
                                                          : NULL;
        if (unused) {
            *why = xasprintf("--%s-%s is not used with --%s-ssl-mode disable (no TLS)", role, unused, role);
            *hint = xasprintf("remove --%s-%s (an empty value clears a recorded one), or choose "
                              "--%s-ssl-mode prefer, require or verify-*",
                              role, unused, role);
            return false;
        }
        return true;
    }
    if (str_eq(mode, "allow") || str_eq(mode, "prefer")) {
        plan->tls = plan->plain_retry = true;
    } else if (str_eq(mode, "require")) {
        plan->tls = plan->required = true;
    } else if (str_eq(mode, "verify-ca")) {
        if (!given(conf->ssl_root_cert)) {
            *why = xasprintf("--%s-ssl-mode verify-ca checks the server's certificate against "
                             "--%s-ssl-root-cert, which is not given",
                             role, role);
            *hint = xasprintf("give --%s-ssl-root-cert (the CA's certificate file), or use "
                              "--%s-ssl-mode verify-full (the system's CAs and the host name)",
                              role, role);
            return false;
        }
        plan->tls = plan->required = true;
    } else if (str_eq(mode, "verify-full")) {
        plan->tls = plan->required = plan->verify_host = true;
    } else {
        *why = xasprintf("unknown --%s-ssl-mode \"%s\"", role, mode);
        *hint = xstrdup("give disable, allow, prefer, require, verify-ca or verify-full");
        return false;
    }
    /* Connector/C checks a certificate's chain (and so a CRL) only against a CA given, or in verify-full */
    if (given(conf->ssl_crl) && !given(conf->ssl_root_cert) && !plan->verify_host) {
        *why = xasprintf("--%s-ssl-crl is used only when the server's certificate is checked, which "
                         "--%s-ssl-mode %s without --%s-ssl-root-cert does not do",
                         role, role, mode, role);
        *hint = xasprintf("give --%s-ssl-root-cert too, or use --%s-ssl-mode verify-full", role, role);
        return false;
    }
    return true;
}

/*
 * The plan's options on my. With tls, MYSQL_OPT_SSL_ENFORCE asks Connector/C 3.3 for TLS when the
 * server offers it and goes on in plain text when it does not (required is checked after the
 * connect); a CA file makes it check the certificate's chain (not the host name: verify-ca),
 * MYSQL_OPT_SSL_VERIFY_SERVER_CERT adds the host name and fails on a server without TLS.
 */
static void set_ssl(MYSQL *my, const db_conf *conf, const mysql_tls_plan *plan, bool tls)
{
    if (!tls)
        return;
    my_bool yes = 1, no = 0;
    mysql_optionsv(my, MYSQL_OPT_SSL_ENFORCE, &yes);
    mysql_optionsv(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, plan->verify_host ? &yes : &no);
    if (given(conf->ssl_root_cert))
        mysql_optionsv(my, MYSQL_OPT_SSL_CA, conf->ssl_root_cert);
    if (given(conf->ssl_cert))
        mysql_optionsv(my, MYSQL_OPT_SSL_CERT, conf->ssl_cert);
    if (given(conf->ssl_key))
        mysql_optionsv(my, MYSQL_OPT_SSL_KEY, conf->ssl_key);
    if (given(conf->ssl_crl))
        mysql_optionsv(my, MYSQL_OPT_SSL_CRL, conf->ssl_crl);
}

static void note_error(mysql_conn *c)
{
    c->last_errno = mysql_errno(c->my);
    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", mysql_sqlstate(c->my));
}

/* Log (unless quiet) and hand back a failure already described: why and hint are taken. */
static void report_failure(char *why, char *hint, const mysql_conn_options *opt)
{
    if (!opt->quiet)
        log_report(LOG_ERROR, NULL, hint, "%s", why);
    if (opt->why)
        *opt->why = why;
    else
        free(why);
    if (opt->hint)
        *opt->hint = hint;
    else
        free(hint);
}

static void report_connect_failure(const db_conf *conf, unsigned int err, const char *msg,
                                   const mysql_conn_options *opt)
{
    char *hint = NULL;
    char *why = mysql_conn_describe_connect_error(conf, err, msg, &hint);
    report_failure(why, hint, opt);
}

/*
 * prefer and allow: the TLS handshake failed (a certificate the CA given refuses, a protocol the
 * server cannot speak), so the connection is made again in plain text, as libpq's prefer does.
 * Said once per role and process: every connection of the run would say the same.
 */
static void warn_plain_retry(const db_conf *conf, const char *msg)
{
    static _Atomic bool warned[3];
    if ((unsigned)conf->role < 3 && atomic_exchange(&warned[conf->role], true))
        return;
    const char *role = db_role_name(conf->role);
    char *where = endpoint_of(conf);
    char line[512];
    first_line(msg, line, sizeof line);
    char *hint = xasprintf("--%s-ssl-mode require or verify-* refuses a connection without TLS", role);
    log_report(LOG_WARN, NULL, hint,
               "%s database (MySQL at %s): TLS failed (%s); connecting without TLS, as --%s-ssl-mode %s "
               "allows",
               role, where, line, role, given(conf->ssl_mode) ? conf->ssl_mode : "prefer");
    free(hint);
    free(where);
}

/* opt->limit_statements: the session's statement time limit (false after reporting). */
static bool limit_statements(mysql_conn *c, const mysql_conn_options *opt)
{
    char *sql = mysql_statement_timeout_sql(c->is_mariadb, c->server_version_num, opt->statement_timeout_s);
    if (!sql) {
        if (opt->statement_timeout_s == 0)
            return true; /* no such setting: no limit already */
        char *why = xasprintf("%s database (MySQL at %s): %s cannot limit how long a statement runs "
                              "(max_execution_time came with MySQL 5.7.8, max_statement_time with "
                              "MariaDB 10.1)",
                              db_role_name(c->role), c->endpoint, c->server_version);
        report_failure(why, xstrdup("give --statement-timeout 0 (no limit)"), opt);
        return false;
    }
    bool ok = mysql_conn_exec(c, sql);
    free(sql);
    if (!ok) {
        if (opt->err)
            *opt->err = c->last_errno;
        return false;
    }
    c->statement_timeout_s = opt->statement_timeout_s;
    return true;
}

mysql_conn *mysql_conn_open(db_conf *conf, const mysql_conn_options *opt)
{
    static const mysql_conn_options none = {0};
    if (!opt)
        opt = &none;
    if (opt->why)
        *opt->why = NULL;
    if (opt->hint)
        *opt->hint = NULL;
    if (opt->err)
        *opt->err = 0;
    mysql_tls_plan plan;
    char *bad = NULL, *bad_hint = NULL;
    if (!mysql_tls_plan_of(conf, &plan, &bad, &bad_hint)) {
        char *why = xasprintf("%s database (MySQL): %s", db_role_name(conf->role), bad);
        free(bad);
        report_failure(why, bad_hint, opt);
        return NULL;
    }
    pthread_once(&library_once, library_init);
    bool tls = plan.tls, prompted = false;
    for (;;) {
        MYSQL *my = mysql_init(NULL);
        if (!my) {
            report_connect_failure(conf, CR_OUT_OF_MEMORY, "out of memory", opt);
            return NULL;
        }
        unsigned int timeout = opt->connect_timeout ? opt->connect_timeout : 10;
        mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        /* a server that stops answering (stopped, hung, a network gone silent) fails the call */
        /* with lock_wait the server gives up first, and its answer says why */
        unsigned int io_timeout = opt->read_timeout + (opt->read_timeout && opt->lock_wait ? LOCK_WAIT_MARGIN_S : 0);
        if (io_timeout) {
            mysql_optionsv(my, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
            mysql_optionsv(my, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
        }
        mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
        /* Never read my.cnf files or LOAD DATA LOCAL: the connection is what conf says. */
        my_bool no = 0;
        mysql_optionsv(my, MYSQL_OPT_LOCAL_INFILE, &no);
        set_ssl(my, conf, &plan, tls);
        const char *host = conf->host && *conf->host ? conf->host : "localhost";
        const char *socket = NULL;
        if (host[0] == '/') {
            socket = host;
            host = "localhost";
        } else if (str_eq(host, "localhost")) {
            /* libmariadb would take "localhost" for its default socket; voyager means TCP */
            host = "127.0.0.1";
        }
        unsigned int port = conf->port > 0 ? (unsigned int)conf->port : 3306;
        const char *db = opt->no_database ? NULL : conf->name;
        if (!mysql_real_connect(my, host, conf->user, conf->password, db, port, socket,
                                CLIENT_MULTI_RESULTS)) {
            unsigned int err = mysql_errno(my);
            char msg[512];
            snprintf(msg, sizeof msg, "%s", mysql_error(my));
            mysql_close(my);
            if (err == CR_SSL_CONNECTION_ERROR && tls && plan.plain_retry) {
                warn_plain_retry(conf, msg);
                tls = false;
                continue;
            }
            bool wants_password = (err == ER_ACCESS_DENIED_ERROR || err == ER_ACCESS_DENIED_NO_PASSWORD_ERROR) &&
                                  !conf->password;
            if (wants_password && !prompted && isatty(STDIN_FILENO)) {
                prompted = true;
                if (!db_conf_prompt_password(conf))
                    return NULL;
                continue;
            }
            if (opt->err)
                *opt->err = err;
            report_connect_failure(conf, err, msg, opt);
            return NULL;
        }
        if (plan.required && !mysql_get_ssl_cipher(my)) {
            /* Connector/C 3.3 goes on in plain text when the server offers no TLS, unless verify-full */
            mysql_close(my);
            const char *role = db_role_name(conf->role);
            char *where = endpoint_of(conf);
            char *why = xasprintf("%s database (MySQL at %s, user \"%s\"): the server offers no TLS, "
                                  "which --%s-ssl-mode %s requires",
                                  role, where, conf->user ? conf->user : "", role, conf->ssl_mode);
            char *hint = xasprintf("enable TLS on the server (ssl_cert and ssl_key), or use "
                                   "--%s-ssl-mode prefer to connect without it",
                                   role);
            free(where);
            if (opt->err)
                *opt->err = CR_SSL_CONNECTION_ERROR;
            report_failure(why, hint, opt);
            return NULL;
        }
        mysql_conn *c = xcalloc(1, sizeof *c);
        c->my = my;
        c->role = conf->role;
        c->endpoint = endpoint_of(conf);
        c->user = xstrdup(conf->user ? conf->user : "");
        c->server_version = xstrdup(mysql_get_server_info(my));
        c->server_version_num = mysql_get_server_version(my);
        c->is_mariadb = strstr(c->server_version, "MariaDB") != NULL;
        c->read_timeout = io_timeout;
        c->timeout_env = opt->timeout_env;
        /*
         * TIMESTAMP values in UTC whatever the server's zone; names stay as the server has them.
         * lock_wait: a statement waiting on a lock (FLUSH TABLES WITH READ LOCK behind a long
         * query, with every writer queued behind it) gives up on the server before the read
         * timeout gives up here, so nothing is left waiting there.
         */
        char *set = opt->lock_wait && opt->read_timeout
                        ? xasprintf("SET time_zone = '+00:00', lock_wait_timeout = %u", opt->read_timeout)
                        : xstrdup("SET time_zone = '+00:00'");
        bool set_ok = mysql_conn_exec(c, set);
        free(set);
        if (set_ok && opt->limit_statements && !limit_statements(c, opt)) {
            mysql_conn_close(c);
            return NULL;
        }
        if (!set_ok) {
            if (opt->err)
                *opt->err = c->last_errno;
            mysql_conn_close(c);
            return NULL;
        }
        return c;
    }
}

void mysql_conn_close(mysql_conn *c)
{
    if (!c)
        return;
    mysql_close(c->my);
    free(c->endpoint);
    free(c->user);
    free(c->server_version);
    free(c);
}

/* Did the last statement fail because the server did not answer within the read timeout? */
static bool timed_out(const mysql_conn *c)
{
    return c->read_timeout && (c->last_errno == CR_SERVER_LOST || c->last_errno == CR_SERVER_GONE_ERROR) &&
           now_monotonic_ms() - c->started_ms >= (long long)c->read_timeout * 1000 - 1000;
}

static void report_timeout(const mysql_conn *c, const char *line, log_level lvl)
{
    char *hint = c->timeout_env ? xasprintf("check that the server runs and answers (not stopped, not "
                                            "overloaded, the network up); if it is only slow, raise %s "
                                            "(seconds)",
                                            c->timeout_env)
                                : xstrdup("check that the server runs and answers (not stopped, not "
                                          "overloaded, the network up)");
    log_report(lvl, "the server stopped answering, or the network to it went silent", hint,
               "%s database (MySQL at %s): no answer within %u s to: %.200s", db_role_name(c->role),
               c->endpoint, c->read_timeout, line);
    free(hint);
}

void mysql_conn_report_statement_timeout(const mysql_conn *c, unsigned int err, const char *what)
{
    log_report(LOG_ERROR, NULL, "raise --statement-timeout (seconds; 0: no limit)",
               "%s database (MySQL at %s): %.200s ran longer than --statement-timeout %u s; the server "
               "stopped it (error %u)",
               db_role_name(c->role), c->endpoint, what, c->statement_timeout_s, err);
}

static void log_failure(mysql_conn *c, const char *what, const char *sql, bool quiet)
{
    note_error(c);
    if (quiet)
        return;
    char line[512];
    first_line(sql, line, sizeof line);
    log_level lvl = c->retries && mysql_errno_transient(c->last_errno) ? LOG_WARN : LOG_ERROR;
    if (timed_out(c)) {
        report_timeout(c, line, lvl);
        return;
    }
    if (c->statement_timeout_s && mysql_errno_statement_timeout(c->last_errno)) {
        mysql_conn_report_statement_timeout(c, c->last_errno, line);
        return;
    }
    log_msg(lvl, "%s database (MySQL at %s): %s (error %u, SQLSTATE %s) in: %.200s", db_role_name(c->role),
            c->endpoint, what, c->last_errno, c->sqlstate, line);
}

static void clear_error(mysql_conn *c)
{
    c->last_errno = 0;
    c->sqlstate[0] = '\0';
    c->started_ms = now_monotonic_ms();
}

bool mysql_conn_exec(mysql_conn *c, const char *sql)
{
    clear_error(c);
    if (mysql_real_query(c->my, sql, strlen(sql)) != 0) {
        log_failure(c, mysql_error(c->my), sql, false);
        return false;
    }
    /* drain every result (a CALL or multi-result statement) */
    int more;
    do {
        MYSQL_RES *res = mysql_store_result(c->my);
        if (res)
            mysql_free_result(res);
        else if (mysql_field_count(c->my) != 0) {
            log_failure(c, mysql_error(c->my), sql, false);
            return false;
        }
        more = mysql_next_result(c->my);
        if (more > 0) {
            log_failure(c, mysql_error(c->my), sql, false);
            return false;
        }
    } while (more == 0);
    return true;
}

const char *mysql_rows_get(const mysql_rows *rows, size_t r, size_t c)
{
    if (r >= rows->nrows || c >= rows->ncols)
        return NULL;
    return rows->cells[r * rows->ncols + c];
}

int mysql_rows_col(const mysql_rows *rows, const char *name)
{
    for (size_t i = 0; i < rows->ncols; i++)
        if (str_case_eq(rows->colnames[i], name))
            return (int)i;
    return -1;
}

void mysql_rows_free(mysql_rows *rows)
{
    if (!rows)
        return;
    for (size_t i = 0; i < rows->nrows * rows->ncols; i++)
        free(rows->cells[i]);
    for (size_t i = 0; i < rows->ncols; i++)
        free(rows->colnames[i]);
    free(rows->cells);
    free(rows->lengths);
    free(rows->colnames);
    *rows = (mysql_rows)MYSQL_ROWS_INIT;
}

/* Append one row's cells to out (growing its arrays). */
static void rows_push(mysql_rows *out, size_t *cap, char **cells, unsigned long *lengths)
{
    if (out->nrows == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        out->cells = xrealloc(out->cells, *cap * out->ncols * sizeof *out->cells);
        out->lengths = xrealloc(out->lengths, *cap * out->ncols * sizeof *out->lengths);
    }
    memcpy(out->cells + out->nrows * out->ncols, cells, out->ncols * sizeof *cells);
    memcpy(out->lengths + out->nrows * out->ncols, lengths, out->ncols * sizeof *lengths);
    out->nrows++;
}

/* xstrndup that keeps embedded NULs (binary values). */
static char *copy_bytes(const char *p, size_t n)
{
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static bool query_text(mysql_conn *c, const char *sql, mysql_rows *out, bool quiet)
{
    if (mysql_real_query(c->my, sql, strlen(sql)) != 0) {
        log_failure(c, mysql_error(c->my), sql, quiet);
        return false;
    }
    MYSQL_RES *res = mysql_store_result(c->my);
    if (!res) {
        if (mysql_field_count(c->my) != 0) {
            log_failure(c, mysql_error(c->my), sql, quiet);
            return false;
        }
        return true; /* a statement without a result: no rows */
    }
    out->ncols = mysql_num_fields(res);
    out->colnames = xcalloc(out->ncols ? out->ncols : 1, sizeof *out->colnames);
    MYSQL_FIELD *fields = mysql_fetch_fields(res);
    for (size_t i = 0; i < out->ncols; i++)
        out->colnames[i] = xstrdup(fields[i].name);
    size_t cap = 0;
    char **cells = xcalloc(out->ncols ? out->ncols : 1, sizeof *cells);
    unsigned long *lens = xcalloc(out->ncols ? out->ncols : 1, sizeof *lens);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *l = mysql_fetch_lengths(res);
        for (size_t i = 0; i < out->ncols; i++) {
            cells[i] = row[i] ? copy_bytes(row[i], l[i]) : NULL;
            lens[i] = row[i] ? l[i] : 0;
        }
        rows_push(out, &cap, cells, lens);
    }
    free(cells);
    free(lens);
    mysql_free_result(res);
    while (mysql_next_result(c->my) == 0) {
        MYSQL_RES *more = mysql_store_result(c->my);
        if (more)
            mysql_free_result(more);
    }
    return true;
}

static bool query_prepared(mysql_conn *c, const char *sql, int nparams, const char *const *params,
                           mysql_rows *out, bool quiet)
{
    MYSQL_STMT *st = mysql_stmt_init(c->my);
    if (!st) {
        log_failure(c, "out of memory", sql, quiet);
        return false;
    }
    bool ok = false;
    MYSQL_BIND *pb = NULL, *rb = NULL;
    unsigned long *plen = NULL, *rlen = NULL;
    my_bool *pnull = NULL, *rnull = NULL, *rerr = NULL;
    char *small = NULL;
    char **cells = NULL;
    unsigned long *lens = NULL;
    MYSQL_RES *meta = NULL;
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0)
        goto stmt_error;
    if ((int)mysql_stmt_param_count(st) != nparams) {
        log_bug("%d parameters given for %lu placeholders in: %.200s", nparams,
                mysql_stmt_param_count(st), sql);
        goto done;
    }
    pb = xcalloc((size_t)nparams, sizeof *pb);
    plen = xcalloc((size_t)nparams, sizeof *plen);
    pnull = xcalloc((size_t)nparams, sizeof *pnull);
    for (int i = 0; i < nparams; i++) {
        pnull[i] = params[i] == NULL;
        plen[i] = params[i] ? strlen(params[i]) : 0;
        pb[i].buffer_type = params[i] ? MYSQL_TYPE_STRING : MYSQL_TYPE_NULL;
        pb[i].buffer = (void *)params[i];
        pb[i].buffer_length = plen[i];
        pb[i].length = &plen[i];
        pb[i].is_null = &pnull[i];
    }
    if (mysql_stmt_bind_param(st, pb) != 0 || mysql_stmt_execute(st) != 0)
        goto stmt_error;
    meta = mysql_stmt_result_metadata(st);
    if (!meta) {
        ok = mysql_stmt_errno(st) == 0; /* no result set: no rows */
        if (!ok)
            goto stmt_error;
        goto done;
    }
    out->ncols = mysql_num_fields(meta);
    size_t nc = out->ncols ? out->ncols : 1;
    out->colnames = xcalloc(nc, sizeof *out->colnames);
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    for (size_t i = 0; i < out->ncols; i++)
        out->colnames[i] = xstrdup(fields[i].name);
    my_bool update_max = 0;
    mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
    if (mysql_stmt_store_result(st) != 0)
        goto stmt_error;
    /*
     * Each value as text: into a small buffer per column (numbers and dates always fit; the
     * library converts them to text), longer strings fetched again at their full length.
     */
    enum { SMALL = 128 };
    rb = xcalloc(nc, sizeof *rb);
    rlen = xcalloc(nc, sizeof *rlen);
    rnull = xcalloc(nc, sizeof *rnull);
    rerr = xcalloc(nc, sizeof *rerr);
    small = xcalloc(nc, SMALL);
    for (size_t i = 0; i < out->ncols; i++) {
        rb[i].buffer_type = MYSQL_TYPE_STRING;
        rb[i].buffer = small + i * SMALL;
        rb[i].buffer_length = SMALL;
        rb[i].length = &rlen[i];
        rb[i].is_null = &rnull[i];
        rb[i].error = &rerr[i];
    }
    if (mysql_stmt_bind_result(st, rb) != 0)
        goto stmt_error;
    cells = xcalloc(nc, sizeof *cells);
    lens = xcalloc(nc, sizeof *lens);
    size_t cap = 0;
    for (;;) {
        int r = mysql_stmt_fetch(st);
        if (r == MYSQL_NO_DATA)
            break;
        if (r == 1)
            goto stmt_error;
        for (size_t i = 0; i < out->ncols; i++) {
            cells[i] = NULL;
            lens[i] = 0;
            if (rnull[i])
                continue;
            char *buf = xmalloc(rlen[i] + 1);
            if (rlen[i] < SMALL) {
                memcpy(buf, small + i * SMALL, rlen[i]);
            } else {
                MYSQL_BIND one = {0};
                unsigned long got = 0;
                one.buffer_type = MYSQL_TYPE_STRING;
                one.buffer = buf;
                one.buffer_length = rlen[i] + 1;
                one.length = &got;
                if (mysql_stmt_fetch_column(st, &one, (unsigned int)i, 0) != 0) {
                    free(buf);
                    for (size_t j = 0; j < i; j++)
                        free(cells[j]);
                    goto stmt_error;
                }
            }
            buf[rlen[i]] = '\0';
            cells[i] = buf;
            lens[i] = rlen[i];
        }
        rows_push(out, &cap, cells, lens);
    }
    ok = true;
    goto done;
stmt_error:
    c->last_errno = mysql_stmt_errno(st);
    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", mysql_stmt_sqlstate(st));
    if (!quiet && timed_out(c)) {
        char line[512];
        first_line(sql, line, sizeof line);
        report_timeout(c, line, c->retries ? LOG_WARN : LOG_ERROR);
    } else if (!quiet) {
        char line[512];
        first_line(sql, line, sizeof line);
        log_error("%s database (MySQL at %s): %s (error %u, SQLSTATE %s) in: %.200s",
                  db_role_name(c->role), c->endpoint, mysql_stmt_error(st), c->last_errno, c->sqlstate,
                  line);
    }
done:
    if (meta)
        mysql_free_result(meta);
    mysql_stmt_close(st);
    free(pb);
    free(plen);
    free(pnull);
    free(rb);
    free(rlen);
    free(rnull);
    free(rerr);
    free(small);
    free(cells);
    free(lens);
    return ok;
}

static bool query(mysql_conn *c, const char *sql, int nparams, const char *const *params,
                  mysql_rows *out, bool quiet)
{
    *out = (mysql_rows)MYSQL_ROWS_INIT;
    clear_error(c);
    if (nparams > 0)
        return query_prepared(c, sql, nparams, params, out, quiet);
    return query_text(c, sql, out, quiet);
}

bool mysql_conn_query(mysql_conn *c, const char *sql, int nparams, const char *const *params,
                      mysql_rows *out)
{
    return query(c, sql, nparams, params, out, false);
}

bool mysql_conn_query_quiet(mysql_conn *c, const char *sql, int nparams, const char *const *params,
                            mysql_rows *out)
{
    return query(c, sql, nparams, params, out, true);
}

char *mysql_conn_query_value(mysql_conn *c, const char *sql, int nparams, const char *const *params,
                             bool *found)
{
    mysql_rows rows;
    char *v = NULL;
    bool any = false;
    if (query(c, sql, nparams, params, &rows, false) && rows.nrows > 0 && rows.ncols > 0) {
        any = true;
        const char *cell = mysql_rows_get(&rows, 0, 0);
        v = cell ? copy_bytes(cell, rows.lengths[0]) : NULL;
    }
    mysql_rows_free(&rows);
    if (found)
        *found = any;
    return v;
}

char *mysql_quote_ident(const char *ident)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append_char(&sb, '`');
    for (const char *p = ident ? ident : ""; *p; p++) {
        if (*p == '`')
            strbuf_append_char(&sb, '`');
        strbuf_append_char(&sb, *p);
    }
    strbuf_append_char(&sb, '`');
    return strbuf_detach(&sb);
}

char *mysql_quote_qualified(const char *db, const char *name)
{
    char *a = mysql_quote_ident(db), *b = mysql_quote_ident(name);
    char *r = xasprintf("%s.%s", a, b);
    free(a);
    free(b);
    return r;
}
