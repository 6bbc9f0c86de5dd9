#include "cdc/event.h"

#include "cdc/queue_format.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fail(char *err, size_t n, const char *what)
{
    snprintf(err, n, "%s", what);
    return false;
}

/* An object of column -> string|null into cols; a missing member gives an empty set. */
static bool parse_cols(const cJSON *obj, cdc_cols *cols, const char *member, char *err, size_t n)
{
    memset(cols, 0, sizeof *cols);
    if (!obj || cJSON_IsNull(obj))
        return true;
    if (!cJSON_IsObject(obj)) {
        snprintf(err, n, "\"%s\" is not an object", member);
        return false;
    }
    size_t count = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        count++;
    if (count == 0)
        return true;
    cols->names = xcalloc(count, sizeof *cols->names);
    cols->values = xcalloc(count, sizeof *cols->values);
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!c->string) {
            snprintf(err, n, "\"%s\" has a member without a name", member);
            return false;
        }
        const char *v;
        if (cJSON_IsNull(c))
            v = NULL;
        else if (cJSON_IsString(c))
            v = c->valuestring;
        else {
            snprintf(err, n, "\"%s\".\"%s\" is not a string or null", member, c->string);
            return false;
        }
        cols->names[cols->count] = c->string;
        cols->values[cols->count] = v;
        cols->count++;
    }
    return true;
}

static const char *get_str(const cJSON *root, const char *name)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, name);
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

bool cdc_event_parse(const char *line, size_t len, cdc_event *ev, char *err, size_t err_len)
{
    memset(ev, 0, sizeof *ev);
    ev->json = cJSON_ParseWithLength(line, len);
    if (!ev->json || !cJSON_IsObject(ev->json)) {
        cdc_event_free(ev);
        return fail(err, err_len, "not a JSON object");
    }
    const cJSON *vsn = cJSON_GetObjectItemCaseSensitive(ev->json, "vsn");
    if (!cJSON_IsNumber(vsn) || vsn->valuedouble < 1 || vsn->valuedouble > 9007199254740992.0) {
        cdc_event_free(ev);
        return fail(err, err_len, "\"vsn\" missing or not a positive integer");
    }
    ev->vsn = (int64_t)vsn->valuedouble;
    const char *op = get_str(ev->json, "op");
    ev->exporter_role = get_str(ev->json, "exporter_role");
    if (!op || !ev->exporter_role) {
        cdc_event_free(ev);
        return fail(err, err_len, "\"op\" or \"exporter_role\" missing");
    }
    if (strcmp(op, QUEUE_OP_INSERT) == 0)
        ev->op = CDC_OP_INSERT;
    else if (strcmp(op, QUEUE_OP_UPDATE) == 0)
        ev->op = CDC_OP_UPDATE;
    else if (strcmp(op, QUEUE_OP_DELETE) == 0)
        ev->op = CDC_OP_DELETE;
    else if (strcmp(op, QUEUE_OP_CUTOVER_TARGET) == 0 || strcmp(op, QUEUE_OP_CUTOVER_SOURCE) == 0 ||
             strcmp(op, QUEUE_OP_CUTOVER_SOURCE_REPLICA) == 0) {
        ev->op = CDC_OP_CUTOVER;
        ev->cutover_op = op;
        return true;
    } else {
        cdc_event_free(ev);
        return fail(err, err_len, "unknown \"op\"");
    }
    ev->schema_name = get_str(ev->json, "schema_name");
    ev->table_name = get_str(ev->json, "table_name");
    if (!ev->schema_name || !ev->table_name) {
        cdc_event_free(ev);
        return fail(err, err_len, "\"schema_name\" or \"table_name\" missing");
    }
    if (!parse_cols(cJSON_GetObjectItemCaseSensitive(ev->json, "key"), &ev->key, "key", err,
                    err_len) ||
        !parse_cols(cJSON_GetObjectItemCaseSensitive(ev->json, "fields"), &ev->fields, "fields",
                    err, err_len) ||
        !parse_cols(cJSON_GetObjectItemCaseSensitive(ev->json, "before_fields"), &ev->before,
                    "before_fields", err, err_len)) {
        cdc_event_free(ev);
        return false;
    }
    if (ev->op == CDC_OP_INSERT && ev->fields.count == 0) {
        cdc_event_free(ev);
        return fail(err, err_len, "insert without \"fields\"");
    }
    if (ev->op != CDC_OP_INSERT && ev->key.count == 0 && ev->before.count == 0) {
        cdc_event_free(ev);
        return fail(err, err_len, "update or delete without \"key\"");
    }
    return true;
}

static void free_cols(cdc_cols *c)
{
    free(c->names);
    free(c->values);
    memset(c, 0, sizeof *c);
}

void cdc_event_free(cdc_event *ev)
{
    if (!ev)
        return;
    free_cols(&ev->key);
    free_cols(&ev->fields);
    free_cols(&ev->before);
    cJSON_Delete(ev->json);
    memset(ev, 0, sizeof *ev);
}

const char *cdc_cols_get(const cdc_cols *cols, const char *name, bool *found)
{
    for (size_t i = 0; i < cols->count; i++) {
        if (strcmp(cols->names[i], name) == 0) {
            *found = true;
            return cols->values[i];
        }
    }
    *found = false;
    return NULL;
}

const char *cdc_event_old_value(const cdc_event *ev, const char *name, bool *found)
{
    const char *v = cdc_cols_get(&ev->key, name, found);
    if (*found)
        return v;
    return cdc_cols_get(&ev->before, name, found);
}

const char *cdc_event_new_value(const cdc_event *ev, const char *name, bool *found)
{
    const char *v = cdc_cols_get(&ev->fields, name, found);
    if (*found || ev->op != CDC_OP_UPDATE)
        return v;
    return cdc_event_old_value(ev, name, found);
}
