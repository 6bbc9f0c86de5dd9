/*
 * Reading libpg_query's JSON parse trees. Every node is a wrapper object with
 * one member named after the node type ({"FuncCall": {...}}); fields equal to
 * their default (false, 0, empty) are left out by libpg_query.
 */
#include "schema/analyze/analyze_int.h"

#include <ctype.h>
#include <string.h>

cJSON *an_unwrap(const cJSON *wrapped, const char **kind)
{
    if (!cJSON_IsObject(wrapped) || !wrapped->child || wrapped->child->next) {
        if (kind)
            *kind = NULL;
        return NULL;
    }
    if (kind)
        *kind = wrapped->child->string;
    return wrapped->child;
}

const char *an_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool an_bool(const cJSON *obj, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

int an_int(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

const char *an_sval(const cJSON *wrapped)
{
    const char *kind;
    const cJSON *n = an_unwrap(wrapped, &kind);
    if (!n || strcmp(kind, "String") != 0)
        return NULL;
    return an_str(n, "sval");
}

const char *an_last_name(const cJSON *names)
{
    const cJSON *last = NULL, *it;
    cJSON_ArrayForEach(it, names) last = it;
    return last ? an_sval(last) : NULL;
}

char *an_join_names(const cJSON *names)
{
    strbuf sb = STRBUF_INIT;
    const cJSON *it;
    cJSON_ArrayForEach(it, names)
    {
        const char *s = an_sval(it);
        if (!s)
            continue;
        if (sb.len)
            strbuf_append_char(&sb, '.');
        strbuf_append(&sb, s);
    }
    return strbuf_detach(&sb);
}

char *an_rangevar_name(const cJSON *rv)
{
    const char *schema = an_str(rv, "schemaname"), *rel = an_str(rv, "relname");
    if (!rel)
        return xstrdup("");
    return schema ? xasprintf("%s.%s", schema, rel) : xstrdup(rel);
}

char *an_rangevar_key(const cJSON *rv)
{
    const char *schema = an_str(rv, "schemaname"), *rel = an_str(rv, "relname");
    return xasprintf("%s.%s", schema ? schema : "public", rel ? rel : "");
}

void an_walk(const cJSON *tree, an_visit_fn fn, void *arg)
{
    if (!tree)
        return;
    if (cJSON_IsArray(tree)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, tree) an_walk(it, fn, arg);
        return;
    }
    if (!cJSON_IsObject(tree))
        return;
    const cJSON *it;
    cJSON_ArrayForEach(it, tree)
    {
        /* Node-type members start with an upper-case letter; fields do not. */
        if (cJSON_IsObject(it) && it->string && isupper((unsigned char)it->string[0]))
            fn(it->string, it, arg);
        an_walk(it, fn, arg);
    }
}

const char *an_type_name(const cJSON *type_name, bool *array)
{
    if (array)
        *array = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(type_name, "arrayBounds")) > 0;
    return an_last_name(cJSON_GetObjectItemCaseSensitive(type_name, "names"));
}
