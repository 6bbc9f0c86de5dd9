#include "db/pgconn.h"

#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *first_line(const char *msg, char *buf, size_t n)
{
    snprintf(buf, n, "%s", msg ? msg : "");
    buf[strcspn(buf, "\n")] = '\0';
    /* libpq prefixes "connection to server at ... failed: "; keep what follows. */
    char *p = strstr(buf, "failed: ");
    if (p && strncmp(buf, "connection to server", 20) == 0)
        memmove(buf, p + 8, strlen(p + 8) + 1);
    return buf;
}

char *pgconn_describe_connect_error(const db_conf *conf, const char *msg, char **hint)
{
    const char *role = db_role_name(conf->role);
    const char *host = conf->host ? conf->host : "localhost";
    char line[512];
    first_line(msg, line, sizeof line);
    if (!msg)
        msg = "";
    char *out = NULL, *advice = NULL;
    if (strstr(msg, "password authentication failed")) {
        out = xasprintf("%s database: password authentication failed for user \"%s\"", role,
                        conf->user ? conf->user : "");
        advice = xasprintf("check --%s-db-user and the password (--%s-db-password or %s)", role,
                           role, db_role_password_env(conf->role));
    } else if (strstr(msg, "no password supplied") || strstr(msg, "fe_sendauth")) {
        out = xasprintf("%s database wants a password", role);
        advice = xasprintf("give --%s-db-password or set %s", role,
                           db_role_password_env(conf->role));
    } else if (strstr(msg, "Connection refused")) {
        out = xasprintf("%s database: cannot connect to %s:%d (connection refused)", role, host,
                        conf->port);
        advice = xasprintf("check --%s-db-host and --%s-db-port and that the server is running",
                           role, role);
    } else if (strstr(msg, "could not translate host name") ||
               strstr(msg, "Name or service not known")) {
        out = xasprintf("%s database: unknown host \"%s\"", role, host);
        advice = xasprintf("check --%s-db-host", role);
    } else if (strstr(msg, "timeout expired") || strstr(msg, "timed out")) {
        out = xasprintf("%s database: connection to %s:%d timed out", role, host, conf->port);
        advice = xasprintf("check --%s-db-host, --%s-db-port and the network", role, role);
    } else if (strstr(msg, "database \"") && strstr(msg, "does not exist")) {
        out = xasprintf("%s database: %s", role, line);
        advice = xasprintf("check --%s-db-name", role);
    } else if (strstr(msg, "role \"") && strstr(msg, "does not exist")) {
        out = xasprintf("%s database: %s", role, line);
        advice = xasprintf("check --%s-db-user", role);
    } else if (strstr(msg, "SSL") || strstr(msg, "ssl") || strstr(msg, "certificate")) {
        out = xasprintf("%s database: %s", role, line);
        advice = xasprintf("check the --%s-ssl-* flags", role);
    } else {
        out = xasprintf("%s database: cannot connect to %s:%d: %s", role, host, conf->port, line);
    }
    if (hint)
        *hint = advice;
    else
        free(advice);
    return out;
}

/* Server notices (NOTICE: schema already exists...) belong in the log, not on the operator's screen. */
static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    size_t n = strlen(message);
    while (n > 0 && message[n - 1] == '\n')
        n--;
    log_debug("server: %.*s", (int)n, message);
}

/* The last failed connect of this thread: for pgconn_connect_retrying(). */
static _Thread_local struct {
    char why[768];
    char hint[256]; /* "" when the failure has no advice */
    bool transient;
    bool overloaded;
} last_connect;

static void note_connect_failure(const char *libpq_msg, const char *why, const char *hint,
                                 bool wants_password)
{
    /* the server is (re)starting, gone for now, or the network dropped: worth waiting for */
    static const char *const transient[] = {
        "Connection refused",       "server closed the connection", "timeout expired",
        "not yet accepting connections", "the database system is starting up",
        "the database system is shutting down", "the database system is in recovery mode",
        "too many clients",         "Connection reset by peer",     "could not receive data",
        "No route to host",         "Network is unreachable",       "terminating connection",
        "SSL SYSCALL error",        "could not send",               "Connection timed out",
    };
    /* the server is up and refused for want of a free connection slot (53300) */
    static const char *const overloaded[] = {
        "too many clients", "remaining connection slots are reserved", "too many connections",
    };
    snprintf(last_connect.why, sizeof last_connect.why, "%s", why);
    snprintf(last_connect.hint, sizeof last_connect.hint, "%s", hint ? hint : "");
    last_connect.transient = false;
    last_connect.overloaded = false;
    for (size_t i = 0; !wants_password && i < ARRAY_LEN(overloaded); i++)
        if (strcasestr(libpq_msg, overloaded[i]))
            last_connect.overloaded = true;
    for (size_t i = 0; !wants_password && i < ARRAY_LEN(transient); i++)
        if (strstr(libpq_msg, transient[i]))
            last_connect.transient = true;
}

bool pgconn_last_connect_overloaded(void) { return last_connect.overloaded; }

char *pgconn_startup_options(const char *env_options)
{
    /*
     * Startup options outrank ALTER DATABASE/ROLE ... SET, survive RESET ALL, are
     * kept by PQconninfo (a renewed apply session has them) and reach a walsender,
     * whose pgoutput formats values with them. An explicit "options" hides
     * PGOPTIONS, so the user's go first; the last -c of a name wins, so ours win.
     */
    static const char pinned[] = "-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c TimeZone=UTC "
                                 "-c extra_float_digits=3 -c lc_monetary=C";
    if (env_options && *env_options)
        return xasprintf("%s %s", env_options, pinned);
    return xstrdup(pinned);
}

static pgconn *connect_with(db_conf *conf, const pgconn_options *opt, const char *options)
{
    static const pgconn_options none = {0};
    if (!opt)
        opt = &none;
    if (opt->why)
        *opt->why = NULL;
    if (opt->hint)
        *opt->hint = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", opt->port > 0 ? opt->port : conf->port);

    for (int attempt = 0; attempt < 2; attempt++) {
        const char *keys[24];
        const char *vals[24];
        int n = 0;
#define KV(k, v)                                                                                   \
    do {                                                                                           \
        if (v) {                                                                                   \
            keys[n] = (k);                                                                         \
            vals[n] = (v);                                                                         \
            n++;                                                                                   \
        }                                                                                          \
    } while (0)
        KV("host", opt->host ? opt->host : conf->host);
        keys[n] = "port";
        vals[n++] = port;
        KV("user", conf->user);
        KV("password", conf->password);
        KV("dbname", opt->dbname ? opt->dbname : conf->name);
        KV("sslmode", conf->ssl_mode);
        KV("sslcert", conf->ssl_cert);
        KV("sslkey", conf->ssl_key);
        KV("sslrootcert", conf->ssl_root_cert);
        KV("sslcrl", conf->ssl_crl);
        KV("replication", opt->replication);
        KV("application_name", opt->application_name ? opt->application_name : "yb-voyager");
        KV("connect_timeout", "15");
        /*
         * Idle 30 s, then a probe every 10 s, dead after 3 unanswered; data
         * unacknowledged for 60 s also ends the connection (TCP only; ignored on
         * a Unix socket). Without these a silent network drop hangs a read forever.
         */
        KV("keepalives", "1");
        KV("keepalives_idle", "30");
        KV("keepalives_interval", "10");
        KV("keepalives_count", "3");
        KV("tcp_user_timeout", "60000");
        KV("client_encoding", "UTF8");
        KV("options", options);
#undef KV
        keys[n] = vals[n] = NULL;
        PGconn *pg = PQconnectdbParams(keys, vals, 0);
        if (pg && PQstatus(pg) == CONNECTION_OK) {
            pgconn *c = xcalloc(1, sizeof *c);
            c->pg = pg;
            c->role = conf->role;
            PQsetNoticeProcessor(pg, notice_to_log, NULL);
            c->server_version_num = PQserverVersion(pg);
            if (!opt->replication || strcmp(opt->replication, "database") == 0) {
                char *v = pgconn_query_value(c, "SELECT version()", 0, NULL);
                c->is_yugabyte = v && strstr(v, "-YB-") != NULL;
                free(v);
            }
            log_debug("connected to %s database %s:%s as %s (backend pid %d%s)",
                      db_role_name(conf->role), opt->host ? opt->host : conf->host, port,
                      conf->user ? conf->user : "", PQbackendPID(pg),
                      c->is_yugabyte ? ", YugabyteDB" : "");
            return c;
        }
        bool wants_password = pg && PQconnectionNeedsPassword(pg) && !conf->password;
        char *hint = NULL;
        char *why =
            pgconn_describe_connect_error(conf, pg ? PQerrorMessage(pg) : "out of memory", &hint);
        note_connect_failure(pg ? PQerrorMessage(pg) : "out of memory", why, hint, wants_password);
        PQfinish(pg);
        if (wants_password && attempt == 0 && isatty(STDIN_FILENO)) {
            free(why);
            free(hint);
            if (!db_conf_prompt_password(conf))
                return NULL;
            continue;
        }
        if (opt->warn)
            log_report(LOG_WARN, NULL, hint, "%s", why);
        else if (!opt->quiet)
            log_report(LOG_ERROR, NULL, hint, "%s", why);
        if (opt->why)
            *opt->why = why;
        else
            free(why);
        if (opt->hint)
            *opt->hint = hint;
        else
            free(hint);
        return NULL;
    }
    return NULL;
}

pgconn *pgconn_connect(db_conf *conf, const pgconn_options *opt)
{
    char *options = pgconn_startup_options(getenv("PGOPTIONS"));
    pgconn *c = connect_with(conf, opt, options);
    free(options);
    return c;
}

void pgconn_rollback_after_failure(pgconn *c)
{
    if (PQstatus(c->pg) != CONNECTION_OK)
        return;
    bool retryable = c->last_error_retryable;
    char sqlstate[sizeof c->sqlstate];
    memcpy(sqlstate, c->sqlstate, sizeof sqlstate);
    pgconn_exec(c, "ROLLBACK");
    c->last_error_retryable = retryable;
    memcpy(c->sqlstate, sqlstate, sizeof sqlstate);
}

void pgconn_close(pgconn *c)
{
    if (!c)
        return;
    PQfinish(c->pg);
    free(c);
}

const char *pgconn_note_result(pgconn *c, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
    snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
    c->last_error_retryable =
        pg_error_is_retryable(c->sqlstate, msg, PQstatus(c->pg) == CONNECTION_BAD);
    return msg ? msg : "";
}

static PGresult *run(pgconn *c, const char *sql, int nparams, const char *const *params, bool quiet)
{
    c->sqlstate[0] = '\0';
    c->last_error_retryable = false;
    PGresult *res = nparams > 0 ? PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0)
                                : PQexec(c->pg, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    const char *msg = pgconn_note_result(c, res);
    if (!quiet) {
        char line[1024];
        snprintf(line, sizeof line, "%s", msg);
        line[strcspn(line, "\n")] = '\0';
        if (c->retries && c->last_error_retryable)
            log_warn("%s database (pid %d): %s", db_role_name(c->role), PQbackendPID(c->pg), line);
        else
            log_error("%s database (pid %d): %s", db_role_name(c->role), PQbackendPID(c->pg), line);
        log_debug("failed statement: %.2000s", sql);
    }
    PQclear(res);
    return NULL;
}

PGresult *pgconn_query(pgconn *c, const char *sql, int nparams, const char *const *params)
{
    return run(c, sql, nparams, params, false);
}

PGresult *pgconn_query_quiet(pgconn *c, const char *sql, int nparams, const char *const *params)
{
    return run(c, sql, nparams, params, true);
}

bool pgconn_exec(pgconn *c, const char *sql)
{
    PGresult *r = run(c, sql, 0, NULL, false);
    PQclear(r);
    return r != NULL;
}

bool pgconn_exec_params(pgconn *c, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = run(c, sql, nparams, params, false);
    PQclear(r);
    return r != NULL;
}

char *pgconn_query_value(pgconn *c, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = run(c, sql, nparams, params, false);
    if (!r)
        return NULL;
    char *v = (PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
                  ? xstrdup(PQgetvalue(r, 0, 0))
                  : NULL;
    PQclear(r);
    return v;
}

int pgconn_relation_exists(pgconn *c, const char *name)
{
    const char *p[1] = {name};
    char *v = pgconn_query_value(c, "SELECT to_regclass($1) IS NOT NULL", 1, p);
    int out = v ? strcmp(v, "t") == 0 : -1;
    free(v);
    return out;
}

char *pg_quote_ident(const char *ident)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append_char(&sb, '"');
    for (const char *p = ident; *p; p++) {
        if (*p == '"')
            strbuf_append_char(&sb, '"');
        strbuf_append_char(&sb, *p);
    }
    strbuf_append_char(&sb, '"');
    return strbuf_detach(&sb);
}

char *pg_quote_qualified(const char *schema, const char *name)
{
    char *s = pg_quote_ident(schema);
    char *n = pg_quote_ident(name);
    char *q = xasprintf("%s.%s", s, n);
    free(s);
    free(n);
    return q;
}

static bool plain_ident(const char *s)
{
    if (!*s || !((*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '$'))
            return false;
    return true;
}

static void append_min_quoted(strbuf *sb, const char *s)
{
    if (plain_ident(s)) {
        strbuf_append(sb, s);
        return;
    }
    strbuf_append_char(sb, '"');
    for (; *s; s++) {
        if (*s == '"')
            strbuf_append_char(sb, '"');
        strbuf_append_char(sb, *s);
    }
    strbuf_append_char(sb, '"');
}

char *pg_quote_ident_min(const char *ident)
{
    strbuf sb = STRBUF_INIT;
    append_min_quoted(&sb, ident);
    return strbuf_detach(&sb);
}

char *pg_quote_qualified_min(const char *schema, const char *name)
{
    strbuf sb = STRBUF_INIT;
    append_min_quoted(&sb, schema);
    strbuf_append_char(&sb, '.');
    append_min_quoted(&sb, name);
    return strbuf_detach(&sb);
}

char *pg_quote_literal(const char *s)
{
    strbuf sb = STRBUF_INIT;
    bool backslash = strchr(s, '\\') != NULL;
    if (backslash)
        strbuf_append_char(&sb, 'E');
    strbuf_append_char(&sb, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'' || *p == '\\')
            strbuf_append_char(&sb, *p);
        strbuf_append_char(&sb, *p);
    }
    strbuf_append_char(&sb, '\'');
    return strbuf_detach(&sb);
}

/* One statement that may fail without aborting the transaction: under a savepoint. */
static bool exec_or_roll_back_to(pgconn *c, const char *sql, const char *savepoint)
{
    char *sp = xasprintf("SAVEPOINT %s", savepoint);
    bool ok = pgconn_exec(c, sp);
    free(sp);
    if (!ok)
        return false;
    PGresult *r = pgconn_query_quiet(c, sql, 0, NULL);
    ok = r != NULL;
    PQclear(r);
    char *back = xasprintf("%s %s", ok ? "RELEASE SAVEPOINT" : "ROLLBACK TO SAVEPOINT", savepoint);
    bool back_ok = pgconn_exec(c, back);
    free(back);
    return ok && back_ok;
}

bool pgconn_empty_table(pgconn *c, const char *qualified)
{
    const char *qp[1] = {qualified};
    char *kind = pgconn_query_value(c, "SELECT relkind FROM pg_class WHERE oid = to_regclass($1)", 1, qp);
    if (!kind)
        return false;
    /* ONLY: inheritance children are tables of their own. A partitioned table has no rows of its own. */
    const char *only = strcmp(kind, "p") == 0 ? "" : "ONLY ";
    char *trunc = xasprintf("TRUNCATE %s%s", only, qualified);
    char *del = xasprintf("DELETE FROM %s%s", only, qualified);
    bool ok = true;
    /* TRUNCATE is refused when another table has a foreign key to this one: then DELETE, checks off when allowed. */
    if (!exec_or_roll_back_to(c, trunc, "voyager_empty")) {
        exec_or_roll_back_to(c, "SET LOCAL session_replication_role = replica", "voyager_empty");
        ok = pgconn_exec(c, del);
    }
    free(trunc);
    free(del);
    free(kind);
    return ok;
}

bool pgconn_ensure(pgconn *c, retry_state *rs, const char *what,
                   const volatile sig_atomic_t *interrupt, bool *reconnected)
{
    if (reconnected)
        *reconnected = false;
    for (;;) {
        if (PQstatus(c->pg) == CONNECTION_OK) {
            PGresult *r = pgconn_query_quiet(c, "SELECT 1", 0, NULL);
            PQclear(r);
            /* a non-connection error (e.g. an aborted transaction) is for the caller's statement to report */
            if (r || (PQstatus(c->pg) == CONNECTION_OK && !c->last_error_retryable))
                return true;
        }
        char line[512];
        snprintf(line, sizeof line, "%s", PQerrorMessage(c->pg));
        line[strcspn(line, "\n")] = '\0';
        if (!retry_failed(rs)) {
            log_report(LOG_ERROR, NULL,
                       "run the same command again once the database is reachable (or raise "
                       RETRY_TIMEOUT_ENV ")",
                       "%s database: %s: the connection is lost and could not be re-established "
                       "within %llds (%s)",
                       db_role_name(c->role), what, (long long)(rs->policy.deadline_ms / 1000),
                       line);
            return false;
        }
        log_warn("%s database: %s: connection lost (%s); reconnecting (attempt %d, giving up "
                 "after %llds)",
                 db_role_name(c->role), what, line, rs->attempt,
                 (long long)(rs->policy.deadline_ms / 1000));
        if (!retry_backoff(rs, interrupt))
            return false;
        PQreset(c->pg);
        if (PQstatus(c->pg) == CONNECTION_OK) {
            PQsetNoticeProcessor(c->pg, notice_to_log, NULL);
            if (reconnected)
                *reconnected = true;
        }
    }
}

pgconn *pgconn_connect_retrying(db_conf *conf, const pgconn_options *opt, retry_state *rs,
                                const volatile sig_atomic_t *interrupt, bool *gave_up)
{
    static const pgconn_options none = {0};
    pgconn_options o = opt ? *opt : none;
    o.quiet = true;
    o.warn = false;
    *gave_up = false;
    for (;;) {
        last_connect.why[0] = '\0';
        last_connect.hint[0] = '\0';
        pgconn *c = pgconn_connect(conf, &o);
        if (c)
            return c;
        if (!last_connect.transient) {
            if (last_connect.why[0])
                log_report(LOG_ERROR, NULL, last_connect.hint[0] ? last_connect.hint : NULL, "%s",
                           last_connect.why);
            return NULL;
        }
        if (!retry_failed(rs) || !retry_backoff(rs, interrupt)) {
            log_report(LOG_ERROR, NULL,
                       "run the same command again once the database is reachable (or raise "
                       RETRY_TIMEOUT_ENV ")",
                       "%s; gave up after %llds", last_connect.why,
                       (long long)(retry_elapsed_ms(rs) / 1000));
            *gave_up = true;
            return NULL;
        }
        log_warn("%s; retrying (attempt %d, giving up after %llds)", last_connect.why, rs->attempt,
                 (long long)(rs->policy.deadline_ms / 1000));
    }
}

char *pg_text_array_literal(const strlist *l)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append_char(&sb, '{');
    for (size_t i = 0; i < l->count; i++) {
        if (i)
            strbuf_append_char(&sb, ',');
        strbuf_append_char(&sb, '"');
        for (const char *p = l->items[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                strbuf_append_char(&sb, '\\');
            strbuf_append_char(&sb, *p);
        }
        strbuf_append_char(&sb, '"');
    }
    strbuf_append_char(&sb, '}');
    return strbuf_detach(&sb);
}
