#include "cdc/queue_generation.h"

#include "catalog/catalog_int.h" /* transitional (issue 14): SQL moves into src/catalog/ */
#include "cdc/queue_format.h"
#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

static bool ensure(cJSON *rec, void *arg)
{
    char **out = arg;
    cJSON *g = cJSON_GetObjectItemCaseSensitive(rec, QUEUE_GENERATION_KEY);
    if (cJSON_IsString(g)) {
        *out = xstrdup(g->valuestring);
        return true;
    }
    char id[37];
    if (!uuid_v4(id)) {
        log_error("cannot read /dev/urandom to make a queue generation id");
        return false;
    }
    if (g)
        cJSON_DeleteItemFromObjectCaseSensitive(rec, QUEUE_GENERATION_KEY);
    cJSON_AddStringToObject(rec, QUEUE_GENERATION_KEY, id);
    *out = xstrdup(id);
    return true;
}

char *queue_generation_get(catalog *m)
{
    char *gen = NULL;
    if (!catalog_status_update(m, ensure, &gen)) {
        free(gen);
        return NULL;
    }
    return gen;
}

bool queue_generation_renew(catalog *m)
{
    char id[37];
    if (!uuid_v4(id)) {
        log_error("cannot read /dev/urandom to make a queue generation id");
        return false;
    }
    return catalog_status_set_string(m, QUEUE_GENERATION_KEY, id);
}

bool queue_generation_forget_applied(catalog *m, const char *importer_role)
{
    if (strcmp(importer_role, "target_db_importer") != 0 &&
        strcmp(importer_role, "source_replica_db_importer") != 0 &&
        strcmp(importer_role, "source_db_importer") != 0) {
        log_bug("unknown importer role %s", importer_role);
        return false;
    }
    /* the column name comes from the fixed set above, never from the user */
    char *sql = xasprintf("UPDATE queue_segment SET imported_by_%s = 0", importer_role);
    bool ok = catalog_exec(m, sql);
    free(sql);
    return ok;
}
