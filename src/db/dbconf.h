/*
 * Where a database is and how to reach it: built from the command's flags
 * (source-db-*, target-db-*, source-replica-db-*) or from the copy kept in the
 * migration status record (which never holds a password).
 */
#ifndef VOYAGER_DB_DBCONF_H
#define VOYAGER_DB_DBCONF_H

#include <cjson/cJSON.h>
#include <stdbool.h>

typedef enum db_role { DB_SOURCE = 0, DB_TARGET, DB_SOURCE_REPLICA } db_role;

/* "source", "target", "source-replica": also the flag prefix and config section. */
const char *db_role_name(db_role role);
/* "SOURCE_DB_PASSWORD", ... */
const char *db_role_password_env(db_role role);

typedef struct db_conf {
    db_role role;
    char *type;      /* postgresql | oracle | mysql | yugabytedb */
    char *host;
    int port;
    char *user;
    char *password;  /* NULL: none given (libpq may still find one, or ask us) */
    char *name;
    char *schema;    /* comma list for a PostgreSQL source */
    char *ssl_mode;
    char *ssl_cert;
    char *ssl_key;
    char *ssl_root_cert;
    char *ssl_crl;
} db_conf;

/* The port when none is given: 5432/1521/3306 by type; the target 5433. */
int db_default_port(const char *type, db_role role);
void db_conf_free(db_conf *conf);
/* The record's form, without the password. Caller owns the result. */
cJSON *db_conf_to_json(const db_conf *conf);
/* Read the record's form. Strings copied. */
void db_conf_from_json(db_conf *conf, const cJSON *j, db_role role);
/*
 * Environment for a child process (pg_dump, psql): PGHOST, PGPORT, PGUSER,
 * PGPASSWORD, PGDATABASE, PGSSL*. Adds "NAME=value" strings to env.
 */
struct strlist;
void db_conf_child_env(const db_conf *conf, struct strlist *env);

/*
 * Ask for the password on the terminal when the server wants one and none
 * was given. Returns false (with a one-line error naming the flag and the
 * environment variable) when not on a TTY.
 */
bool db_conf_prompt_password(db_conf *conf);

#endif
