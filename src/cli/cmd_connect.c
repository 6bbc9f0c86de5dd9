#include "cli/cmd_connect.h"

#include "core/exitcodes.h"
#include "core/log.h"
#include "core/metadb.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

const char *cmd_conf_record_key(db_role role)
{
    switch (role) {
    case DB_SOURCE:
        return "SourceDBConf";
    case DB_TARGET:
        return "TargetDBConf";
    case DB_SOURCE_REPLICA:
        return "SourceReplicaDBConf";
    }
    return "?";
}

int cmd_db_exit_code(db_role role)
{
    return role == DB_SOURCE ? EXIT_SOURCE_ERROR : EXIT_TARGET_ERROR;
}

bool cmd_db_conf(cmd_ctx *ctx, db_role role, db_conf *conf)
{
    const char *r = db_role_name(role);
    char *user_flag = xasprintf("%s-db-user", r);
    char *pw_flag = xasprintf("%s-db-password", r);
    bool from_flags = opts_has_flag(ctx->opts, user_flag) && opts_is_set(ctx->opts, user_flag);
    bool ok = true;
    if (from_flags) {
        db_conf_from_opts(conf, ctx->opts, role);
    } else {
        cJSON *rec = metadb_status_load(ctx->meta);
        const cJSON *saved = rec ? cJSON_GetObjectItemCaseSensitive(rec, cmd_conf_record_key(role)) : NULL;
        if (cJSON_IsObject(saved)) {
            db_conf_from_json(conf, saved, role);
            const char *pw = opts_get(ctx->opts, pw_flag);
            if (!pw)
                pw = getenv(db_role_password_env(role));
            conf->password = xstrdup(pw);
        } else if (opts_has_flag(ctx->opts, user_flag)) {
            log_error("required flag --%s not set (give it on the command line or in --config-file)",
                      user_flag);
            ok = false;
        } else {
            log_error("no %s database is known to this migration yet: run the command that "
                      "connects to it first (its flags record where it is)", r);
            ok = false;
        }
        cJSON_Delete(rec);
    }
    free(user_flag);
    free(pw_flag);
    return ok;
}

typedef struct save_arg {
    const char *key;
    cJSON *conf;
} save_arg;

static bool save_conf(cJSON *rec, void *arg)
{
    save_arg *a = arg;
    cJSON *copy = cJSON_Duplicate(a->conf, 1);
    if (cJSON_GetObjectItemCaseSensitive(rec, a->key))
        cJSON_ReplaceItemInObjectCaseSensitive(rec, a->key, copy);
    else
        cJSON_AddItemToObject(rec, a->key, copy);
    return true;
}

pgconn *cmd_connect(cmd_ctx *ctx, db_conf *conf, const pgconn_options *opt)
{
    pgconn *c = pgconn_connect(conf, opt);
    if (!c)
        return NULL;
    save_arg a = {cmd_conf_record_key(conf->role), db_conf_to_json(conf)};
    /* the server's version, for reports (analyze-schema's "Database version") */
    const char *ver = PQparameterStatus(c->pg, "server_version");
    if (ver)
        cJSON_AddStringToObject(a.conf, "DBVersion", ver);
    if (c->is_yugabyte && conf->role == DB_TARGET)
        cJSON_ReplaceItemInObjectCaseSensitive(a.conf, "DBType", cJSON_CreateString("yugabytedb"));
    metadb_status_update(ctx->meta, save_conf, &a);
    cJSON_Delete(a.conf);
    return c;
}
