#include "cdc/cdc_tables.h"

#include "db/pgconn.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

void cdc_tables_free(cdc_tables *t)
{
    strlist_free(&t->schemas);
    strlist_free(&t->tables);
}

char *cdc_tables_to_json(const cdc_tables *t)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < t->tables.count; i++) {
        cJSON *p = cJSON_CreateArray();
        cJSON_AddItemToArray(p, cJSON_CreateString(t->schemas.items[i]));
        cJSON_AddItemToArray(p, cJSON_CreateString(t->tables.items[i]));
        cJSON_AddItemToArray(a, p);
    }
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    char *out = xstrdup(s);
    cJSON_free(s);
    return out;
}

bool cdc_tables_from_json(cdc_tables *t, const char *json)
{
    cJSON *a = json ? cJSON_Parse(json) : NULL;
    bool ok = cJSON_IsArray(a);
    const cJSON *p;
    cJSON_ArrayForEach(p, a)
    {
        const cJSON *s = cJSON_GetArrayItem(p, 0), *n = cJSON_GetArrayItem(p, 1);
        if (!cJSON_IsString(s) || !cJSON_IsString(n)) {
            ok = false;
            break;
        }
        strlist_push(&t->schemas, s->valuestring);
        strlist_push(&t->tables, n->valuestring);
    }
    cJSON_Delete(a);
    return ok;
}

/* One identifier at *p: "quoted ""part""" or plain (folded to lower case, as PostgreSQL does). */
static bool parse_ident(const char **p, char **out)
{
    strbuf sb = STRBUF_INIT;
    const char *s = *p;
    if (*s == '"') {
        for (s++;; s++) {
            if (!*s) {
                strbuf_free(&sb);
                return false;
            }
            if (*s == '"') {
                if (s[1] != '"')
                    break;
                s++;
            }
            strbuf_append_char(&sb, *s);
        }
        s++;
    } else {
        for (; *s && *s != '.'; s++)
            strbuf_append_char(&sb, (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s);
    }
    *p = s;
    *out = strbuf_detach(&sb);
    return **out != '\0';
}

bool cdc_parse_qualified(const char *s, char **schema, char **table)
{
    *schema = *table = NULL;
    char *a = NULL;
    if (!parse_ident(&s, &a)) {
        free(a);
        return false;
    }
    if (*s == '\0') {
        *schema = xstrdup("public");
        *table = a;
        return true;
    }
    *schema = a;
    if (*s != '.')
        return false;
    s++;
    return parse_ident(&s, table) && *s == '\0';
}
