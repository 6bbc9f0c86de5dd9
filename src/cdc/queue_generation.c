#include "cdc/queue_generation.h"

#include "catalog/queue_meta.h"
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
    return qm_segments_forget_applied(m, importer_role);
}
