#include "db/connect.h"

#include "catalog/catalog.h"
#include "core/log.h"
#include "db/db_identity.h"

#include <stdlib.h>

#include <libpq-fe.h>

const char *db_conf_record_key(db_role role)
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

engine_status db_role_failure(db_role role)
{
    return role == DB_SOURCE ? ENGINE_SOURCE_FAILED : ENGINE_TARGET_FAILED;
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

bool db_conf_record(catalog *cat, const db_conf *conf, const char *version, bool yugabyte)
{
    save_arg a = {db_conf_record_key(conf->role), db_conf_to_json(conf)};
    /* the server's version, for reports (analyze-schema's "Database version") */
    if (version)
        cJSON_AddStringToObject(a.conf, "DBVersion", version);
    if (yugabyte && conf->role == DB_TARGET)
        cJSON_ReplaceItemInObjectCaseSensitive(a.conf, "DBType", cJSON_CreateString("yugabytedb"));
    bool ok = catalog_status_update(cat, save_conf, &a);
    cJSON_Delete(a.conf);
    return ok;
}

/*
 * The source's identity too, for import data to refuse writing into it. Kept
 * under its own key, not in SourceDBConf: a connection that cannot read it (a
 * walsender's, which takes no extended-protocol query) rewrites the
 * configuration without losing it.
 */
static pgconn *record_conf(catalog *cat, db_conf *conf, pgconn *c, const pgconn_options *opt)
{
    if (!c)
        return NULL;
    db_conf_record(cat, conf, PQparameterStatus(c->pg, "server_version"), c->is_yugabyte);
    if (conf->role == DB_SOURCE && !(opt && opt->replication)) {
        cJSON *id = db_identity_read(c);
        if (id)
            catalog_status_set_json(cat, DB_IDENTITY_SOURCE_KEY, id);
        cJSON_Delete(id);
    }
    return c;
}

static const volatile sig_atomic_t *connect_interrupt;

void db_connect_set_interrupt(const volatile sig_atomic_t *flag) { connect_interrupt = flag; }

pgconn *db_connect_recorded(catalog *cat, db_conf *conf, const pgconn_options *opt)
{
    static const pgconn_options none = {0};
    const pgconn_options *o = opt ? opt : &none;
    retry_policy pol = retry_policy_default();
    retry_state rs;
    retry_init(&rs, &pol);
    for (;;) {
        char *why = NULL, *hint = NULL;
        pgconn_options attempt = *o;
        attempt.quiet = true;
        attempt.warn = false;
        attempt.why = &why;
        attempt.hint = &hint;
        pgconn *c = pgconn_connect(conf, &attempt);
        if (c)
            return record_conf(cat, conf, c, o);
        /*
         * A full server (YugabyteDB answers 53300 while its tservers are busy)
         * is waited out like any transient fault; anything else on a first
         * connection is most likely a wrong flag, reported at once.
         */
        bool wait = pgconn_last_connect_overloaded() && retry_failed(&rs);
        if (wait)
            log_warn("%s; waiting for a free connection slot (attempt %d, giving up after %llds: %s)",
                     why ? why : "connection refused", rs.attempt,
                     (long long)(rs.policy.deadline_ms / 1000), RETRY_TIMEOUT_ENV);
        if (!wait || !retry_backoff(&rs, connect_interrupt)) {
            if (why && o->warn)
                log_report(LOG_WARN, NULL, hint, "%s", why);
            else if (why && !o->quiet)
                log_report(LOG_ERROR, NULL, hint, "%s", why);
            if (o->why)
                *o->why = why;
            else
                free(why);
            if (o->hint)
                *o->hint = hint;
            else
                free(hint);
            return NULL;
        }
        free(why);
        free(hint);
    }
}

pgconn *db_connect_recorded_retrying(catalog *cat, db_conf *conf, const pgconn_options *opt,
                                     retry_state *rs, const volatile sig_atomic_t *interrupt,
                                     bool *gave_up)
{
    return record_conf(cat, conf, pgconn_connect_retrying(conf, opt, rs, interrupt, gave_up), opt);
}
