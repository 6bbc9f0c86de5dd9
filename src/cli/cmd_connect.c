#include "cli/cmd_connect.h"

#include "db/connect.h"

#include "core/exitcodes.h"
#include "core/log.h"
#include "catalog/catalog.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int cmd_db_exit_code(db_role role)
{
    return role == DB_SOURCE ? EXIT_SOURCE_ERROR : EXIT_TARGET_ERROR;
}

static bool str_same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static char *get_flag(const opts *o, db_role role, const char *suffix)
{
    char *name = xasprintf("%s-%s", db_role_name(role), suffix);
    char *v = xstrdup(opts_get(o, name));
    free(name);
    return v;
}

void db_conf_from_opts(db_conf *c, const opts *o, db_role role)
{
    memset(c, 0, sizeof *c);
    c->role = role;
    if (role == DB_SOURCE)
        c->type = xstrdup(opts_get(o, "source-db-type"));
    if (!c->type)
        c->type = xstrdup(role == DB_TARGET ? "yugabytedb" : "postgresql");
    c->host = get_flag(o, role, "db-host");
    char *port = get_flag(o, role, "db-port");
    int64_t p = 0;
    c->port = (port && parse_int64(port, 1, 65535, &p)) ? (int)p : db_default_port(c->type, role);
    free(port);
    c->user = get_flag(o, role, "db-user");
    c->password = get_flag(o, role, "db-password");
    c->name = get_flag(o, role, "db-name");
    c->schema = get_flag(o, role, "db-schema");
    c->ssl_mode = get_flag(o, role, "ssl-mode");
    c->ssl_cert = get_flag(o, role, "ssl-cert");
    c->ssl_key = get_flag(o, role, "ssl-key");
    c->ssl_root_cert = get_flag(o, role, "ssl-root-cert");
    c->ssl_crl = get_flag(o, role, "ssl-crl");
}

/*
 * The source's type: this command's --source-db-type, else what the migration
 * recorded, else PostgreSQL for a command that connects to the source. NULL: unknown.
 */
static const char *source_type(const cmd_ctx *ctx, const cJSON *rec)
{
    if (opts_is_set(ctx->opts, "source-db-type"))
        return opts_get(ctx->opts, "source-db-type");
    const cJSON *src = rec ? cJSON_GetObjectItemCaseSensitive(rec, "SourceDBConf") : NULL;
    const cJSON *t = src ? cJSON_GetObjectItemCaseSensitive(src, "DBType") : NULL;
    if (cJSON_IsString(t))
        return t->valuestring;
    /* a command that connects to the source defaults to PostgreSQL (db_conf_from_opts) */
    return opts_has_flag(ctx->opts, "source-db-type") ? "postgresql" : NULL;
}

/*
 * Flags documented for other sources only: with a PostgreSQL or MySQL source
 * they would be accepted and ignored, so they are refused (upstream refuses
 * --target-db-schema the same way). "public" is the target schema's default.
 * An Oracle source is refused as a whole ("not built yet") by the commands.
 */
static bool refuse_not_applicable(const cmd_ctx *ctx, const cJSON *rec)
{
    const char *type = source_type(ctx, rec);
    bool mysql = type && strcmp(type, "mysql") == 0;
    if (mysql && opts_is_set(ctx->opts, "target-db-schema") &&
        strcmp(opts_get(ctx->opts, "target-db-schema"), "public") != 0) {
        /* import data would still load into public: the two commands must agree, so neither takes it */
        log_report(LOG_ERROR, "a MySQL migration is imported into the target's schema public",
                   "remove --target-db-schema (or give public)",
                   "--target-db-schema %s is not built yet for a MySQL source",
                   opts_get(ctx->opts, "target-db-schema"));
        return false;
    }
    if (!type || (!mysql && strcmp(type, "postgresql") != 0))
        return true;
    /* nothing reads them for these sources (a MySQL source-replica's database is its schema) */
    static const char *const oracle_only[] = {"oracle-db-sid", "oracle-tns-alias", "oracle-home",
                                              "source-replica-db-sid", "target-db-schema",
                                              "source-replica-db-schema"};
    for (size_t i = 0; i < ARRAY_LEN(oracle_only); i++) {
        const char *name = oracle_only[i];
        bool target_schema = strcmp(name, "target-db-schema") == 0;
        if (!opts_is_set(ctx->opts, name) || (target_schema && mysql))
            continue;
        if (target_schema && strcmp(opts_get(ctx->opts, name), "public") == 0)
            continue;
        const char *hint = "remove it";
        if (strstr(name, "schema"))
            hint = mysql ? "remove it; a MySQL source-replica's database (--source-replica-db-name) is "
                           "its schema"
                         : "remove it; the tables keep their source schema names on the target";
        log_report(LOG_ERROR, target_schema ? "it is for Oracle and MySQL sources" : "it is for Oracle sources",
                   hint, "--%s is not applicable for a %s source", name, mysql ? "MySQL" : "PostgreSQL");
        return false;
    }
    return true;
}

/*
 * A migration has one source: a --source-db-type other than the one recorded
 * would have this command read or write the source with another database's
 * client (a confusing connection error at best), so it is refused, naming both.
 */
static bool refuse_other_source_type(const cmd_ctx *ctx, const cJSON *rec)
{
    if (!opts_is_set(ctx->opts, "source-db-type"))
        return true;
    const cJSON *src = rec ? cJSON_GetObjectItemCaseSensitive(rec, "SourceDBConf") : NULL;
    const cJSON *t = src ? cJSON_GetObjectItemCaseSensitive(src, "DBType") : NULL;
    const char *given = opts_get(ctx->opts, "source-db-type");
    if (!cJSON_IsString(t) || str_case_eq(t->valuestring, given))
        return true;
    char *hint = xasprintf("leave --source-db-type out (or give %s), or use a new export dir for "
                           "another source", t->valuestring);
    log_report(LOG_ERROR, "the first command that connected to the source recorded its type", hint,
               "--source-db-type %s: this migration's source is %s", given, t->valuestring);
    free(hint);
    return false;
}

/*
 * Recorded values fill what this command's flags leave unset; a flag given
 * (command line, environment or config file) always wins.
 */
static void overlay_flags(const cmd_ctx *ctx, db_role role, db_conf *conf)
{
    const char *r = db_role_name(role);
    struct {
        const char *suffix;
        char **field;
    } strs[] = {
        {"db-host", &conf->host},           {"db-user", &conf->user},
        {"db-name", &conf->name},           {"db-schema", &conf->schema},
        {"ssl-mode", &conf->ssl_mode},      {"ssl-cert", &conf->ssl_cert},
        {"ssl-key", &conf->ssl_key},        {"ssl-root-cert", &conf->ssl_root_cert},
        {"ssl-crl", &conf->ssl_crl},
    };
    for (size_t i = 0; i < ARRAY_LEN(strs); i++) {
        char *name = xasprintf("%s-%s", r, strs[i].suffix);
        if (opts_is_set(ctx->opts, name)) {
            free(*strs[i].field);
            *strs[i].field = xstrdup(opts_get(ctx->opts, name));
        }
        free(name);
    }
    char *port = xasprintf("%s-db-port", r);
    if (opts_is_set(ctx->opts, port))
        conf->port = (int)opts_get_int(ctx->opts, port); /* 1..65535: checked when parsed */
    free(port);
    if (role == DB_SOURCE && opts_is_set(ctx->opts, "source-db-type")) {
        free(conf->type);
        conf->type = xstrdup(opts_get(ctx->opts, "source-db-type"));
    }
}

/*
 * Writing to a database other than the one the migration has used so far is
 * never silent: the user confirms it (--yes or the terminal).
 */
static bool confirm_same_database(const cmd_ctx *ctx, const db_conf *now, const db_conf *was)
{
    if (str_same(now->host, was->host) && now->port == was->port && str_same(now->name, was->name))
        return true;
    const char *r = db_role_name(now->role);
    char *q = xasprintf("the %s database given (%s:%d/%s) is not the one this migration recorded "
                        "(%s:%d/%s): use the given one from now on?",
                        r, now->host ? now->host : "", now->port, now->name ? now->name : "",
                        was->host ? was->host : "", was->port, was->name ? was->name : "");
    bool yes = cmd_confirm(ctx, q);
    free(q);
    if (yes) {
        log_warn("the %s database changed from %s:%d/%s to %s:%d/%s (confirmed)", r,
                 was->host ? was->host : "", was->port, was->name ? was->name : "",
                 now->host ? now->host : "", now->port, now->name ? now->name : "");
    } else {
        char *hint = xasprintf("give the recorded --%s-db-host/--%s-db-port/--%s-db-name (or omit "
                               "them), or pass --yes to switch on purpose",
                               r, r, r);
        log_report(LOG_ERROR, NULL, hint, "refused to switch the %s database of this migration", r);
        free(hint);
    }
    return yes;
}

bool cmd_db_conf(cmd_ctx *ctx, db_role role, db_conf *conf)
{
    const char *r = db_role_name(role);
    char *user_flag = xasprintf("%s-db-user", r);
    char *pw_flag = xasprintf("%s-db-password", r);
    bool has_flags = opts_has_flag(ctx->opts, user_flag);
    cJSON *rec = catalog_status_load(ctx->meta);
    const cJSON *saved = rec ? cJSON_GetObjectItemCaseSensitive(rec, db_conf_record_key(role)) : NULL;
    bool ok = refuse_other_source_type(ctx, rec) && refuse_not_applicable(ctx, rec);
    memset(conf, 0, sizeof *conf);
    conf->role = role;
    if (!ok) {
        /* refused above */
    } else if (!cJSON_IsObject(saved)) {
        if (has_flags && opts_is_set(ctx->opts, user_flag)) {
            db_conf_from_opts(conf, ctx->opts, role);
        } else if (has_flags) {
            log_error("required flag --%s not set (give it on the command line or in --config-file)",
                      user_flag);
            ok = false;
        } else {
            log_report(LOG_ERROR, NULL,
                       "run the command that connects to it first (its flags record where it is)",
                       "no %s database is known to this migration yet", r);
            ok = false;
        }
    } else {
        db_conf_from_json(conf, saved, role);
        if (has_flags) {
            db_conf was;
            db_conf_from_json(&was, saved, role);
            overlay_flags(ctx, role, conf);
            ok = confirm_same_database(ctx, conf, &was);
            db_conf_free(&was);
        }
        const char *pw = opts_get(ctx->opts, pw_flag);
        if (!pw)
            pw = getenv(db_role_password_env(role));
        conf->password = xstrdup(pw);
    }
    cJSON_Delete(rec);
    free(user_flag);
    free(pw_flag);
    return ok;
}

pgconn *cmd_connect(cmd_ctx *ctx, db_conf *conf, const pgconn_options *opt)
{
    return db_connect_recorded(ctx->meta, conf, opt);
}

pgconn *cmd_connect_retrying(cmd_ctx *ctx, db_conf *conf, const pgconn_options *opt,
                             retry_state *rs, bool *gave_up)
{
    return db_connect_recorded_retrying(ctx->meta, conf, opt, rs, &cmd_interrupted, gave_up);
}

/* The source type this migration recorded (export data / export schema) is MySQL/MariaDB. */
bool cmd_recorded_source_is_mysql(cmd_ctx *ctx)
{
    cJSON *rec = ctx->meta ? catalog_status_load(ctx->meta) : NULL;
    const cJSON *src = rec ? cJSON_GetObjectItemCaseSensitive(rec, "SourceDBConf") : NULL;
    const cJSON *t = src ? cJSON_GetObjectItemCaseSensitive(src, "DBType") : NULL;
    bool mysql = cJSON_IsString(t) && str_case_eq(t->valuestring, "mysql");
    cJSON_Delete(rec);
    return mysql;
}
