#include "db/dbconf.h"

#include "core/log.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

const char *db_role_name(db_role role)
{
    switch (role) {
    case DB_SOURCE:
        return "source";
    case DB_TARGET:
        return "target";
    case DB_SOURCE_REPLICA:
        return "source-replica";
    }
    return "?";
}

const char *db_role_password_env(db_role role)
{
    switch (role) {
    case DB_SOURCE:
        return "SOURCE_DB_PASSWORD";
    case DB_TARGET:
        return "TARGET_DB_PASSWORD";
    case DB_SOURCE_REPLICA:
        return "SOURCE_REPLICA_DB_PASSWORD";
    }
    return "?";
}

int db_default_port(const char *type, db_role role)
{
    if (type && strcmp(type, "oracle") == 0)
        return 1521;
    if (type && strcmp(type, "mysql") == 0)
        return 3306;
    /* PostgreSQL, the source or a source-replica, as upstream; the target is YugabyteDB */
    return role == DB_TARGET ? 5433 : 5432;
}

void db_conf_free(db_conf *c)
{
    free(c->type);
    free(c->host);
    free(c->user);
    if (c->password) /* do not leave it in freed heap memory */
        memset(c->password, 0, strlen(c->password));
    free(c->password);
    free(c->name);
    free(c->schema);
    free(c->ssl_mode);
    free(c->ssl_cert);
    free(c->ssl_key);
    free(c->ssl_root_cert);
    free(c->ssl_crl);
    memset(c, 0, sizeof *c);
}

static void add_str(cJSON *j, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(j, k, v);
}

cJSON *db_conf_to_json(const db_conf *c)
{
    cJSON *j = cJSON_CreateObject();
    add_str(j, "DBType", c->type);
    add_str(j, "Host", c->host);
    cJSON_AddNumberToObject(j, "Port", c->port);
    add_str(j, "User", c->user);
    add_str(j, "DBName", c->name);
    add_str(j, "Schema", c->schema);
    add_str(j, "SSLMode", c->ssl_mode);
    add_str(j, "SSLCertPath", c->ssl_cert);
    add_str(j, "SSLKey", c->ssl_key);
    add_str(j, "SSLRootCert", c->ssl_root_cert);
    add_str(j, "SSLCRL", c->ssl_crl);
    return j;
}

static char *json_str(const cJSON *j, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

void db_conf_from_json(db_conf *c, const cJSON *j, db_role role)
{
    memset(c, 0, sizeof *c);
    c->role = role;
    c->type = json_str(j, "DBType");
    c->host = json_str(j, "Host");
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(j, "Port");
    c->port = cJSON_IsNumber(port) ? port->valueint : db_default_port(c->type, role);
    c->user = json_str(j, "User");
    c->name = json_str(j, "DBName");
    c->schema = json_str(j, "Schema");
    c->ssl_mode = json_str(j, "SSLMode");
    c->ssl_cert = json_str(j, "SSLCertPath");
    c->ssl_key = json_str(j, "SSLKey");
    c->ssl_root_cert = json_str(j, "SSLRootCert");
    c->ssl_crl = json_str(j, "SSLCRL");
}

static void env_add(strlist *env, const char *k, const char *v)
{
    if (v)
        strlist_push_owned(env, xasprintf("%s=%s", k, v));
}

void db_conf_child_env(const db_conf *c, strlist *env)
{
    char port[16];
    snprintf(port, sizeof port, "%d", c->port);
    env_add(env, "PGHOST", c->host);
    env_add(env, "PGPORT", port);
    env_add(env, "PGUSER", c->user);
    env_add(env, "PGPASSWORD", c->password);
    env_add(env, "PGDATABASE", c->name);
    env_add(env, "PGSSLMODE", c->ssl_mode);
    env_add(env, "PGSSLCERT", c->ssl_cert);
    env_add(env, "PGSSLKEY", c->ssl_key);
    env_add(env, "PGSSLROOTCERT", c->ssl_root_cert);
    env_add(env, "PGSSLCRL", c->ssl_crl);
}

bool db_conf_prompt_password(db_conf *c)
{
    const char *role = db_role_name(c->role);
    FILE *tty = isatty(STDIN_FILENO) ? fopen("/dev/tty", "r+e") : NULL;
    if (!tty) {
        char *hint = xasprintf("give --%s-db-password or set %s", role, db_role_password_env(c->role));
        log_report(LOG_ERROR, NULL, hint, "the %s database wants a password", role);
        free(hint);
        return false;
    }
    struct termios old, quiet;
    int fd = fileno(tty);
    bool restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    fprintf(tty, "Password to %s database (%s@%s:%d): ", role, c->user ? c->user : "",
            c->host ? c->host : "", c->port);
    fflush(tty);
    char buf[1024];
    bool ok = fgets(buf, sizeof buf, tty) != NULL;
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    if (!ok) {
        log_error("no password entered for the %s database", role);
        return false;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    free(c->password);
    c->password = xstrdup(buf);
    memset(buf, 0, sizeof buf);
    return true;
}
