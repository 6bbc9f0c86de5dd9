/*
 * Memory: the memo owns its map's keys and entries (copies of the key indexes and
 * old_needed flags it compares against; the column names pointer is the feed's, compared,
 * never read). JSON texts are built and freed within each call.
 */
#include "cdc/target_keys.h"

#include "catalog/queue_meta.h"
#include "cdc/event_json.h"
#include "core/key_parts.h"
#include "core/log.h"
#include "core/strmap.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* A table as last recorded this run. */
typedef struct seen_table {
    const char *const *columns; /* the feed's array: a new one may name other columns */
    size_t ncols, nkey;
    size_t *key;
    bool *old; /* NULL: the feed did not say, every old value is carried */
} seen_table;

struct target_keys_memo {
    strmap tables; /* key_part schema, table -> seen_table* */
    strbuf keybuf;
};

static void seen_free(void *v)
{
    seen_table *t = v;
    if (!t)
        return;
    free(t->key);
    free(t->old);
    free(t);
}

void target_keys_memo_free(target_keys_memo *memo)
{
    if (!memo)
        return;
    strmap_free(&memo->tables, seen_free);
    strbuf_free(&memo->keybuf);
    free(memo);
}

/* Does t describe ch's table as it is now? Cheap: this runs for every change. */
static bool seen_same(const seen_table *t, const src_change *ch)
{
    if (t->columns != ch->columns || t->ncols != ch->ncols || t->nkey != ch->nkey ||
        (t->old == NULL) != (ch->old_needed == NULL))
        return false;
    if (t->nkey && memcmp(t->key, ch->key, t->nkey * sizeof *t->key) != 0)
        return false;
    return !t->old || !t->ncols || memcmp(t->old, ch->old_needed, t->ncols * sizeof *t->old) == 0;
}

static void seen_set(seen_table *t, const src_change *ch)
{
    free(t->key);
    free(t->old);
    t->columns = ch->columns;
    t->ncols = ch->ncols;
    t->nkey = ch->nkey;
    t->key = xcalloc(ch->nkey + 1, sizeof *t->key);
    if (ch->nkey)
        memcpy(t->key, ch->key, ch->nkey * sizeof *t->key);
    t->old = NULL;
    if (ch->old_needed) {
        t->old = xcalloc(ch->ncols + 1, sizeof *t->old);
        if (ch->ncols)
            memcpy(t->old, ch->old_needed, ch->ncols * sizeof *t->old);
    }
}

/* The columns whose old values ch's events carry, as cdc_stream.c writes them, into out. */
static void carried_columns(const src_change *ch, strlist *out)
{
    for (size_t i = 0; i < ch->ncols; i++) {
        bool carried = !ch->old_needed || ch->old_needed[i];
        for (size_t k = 0; k < ch->nkey && !carried; k++)
            carried = ch->key[k] == i;
        if (carried)
            strlist_push(out, ch->columns[i]);
    }
}

/* The JSON array of cols (caller frees). */
static char *columns_json(const strlist *cols)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append_char(&sb, '[');
    for (size_t i = 0; i < cols->count; i++) {
        if (i)
            strbuf_append_char(&sb, ',');
        json_append_string(&sb, cols->items[i], strlen(cols->items[i]));
    }
    strbuf_append_char(&sb, ']');
    return strbuf_detach(&sb);
}

/* The names of a JSON array of columns_json(), into out. */
static void columns_parse(const char *json, strlist *out)
{
    cJSON *a = cJSON_Parse(json);
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
        if (cJSON_IsString(it))
            strlist_push(out, it->valuestring);
    cJSON_Delete(a);
}

/*
 * Record what ch's events carry, as far as every event of its table already in the queue
 * carries it too: the events queued before the source's table gained a unique index lack
 * its old values, so a record never grows within one queue (qm_queue_reset forgets it).
 */
static bool record(catalog *cat, const char *exporter_role, const src_change *ch)
{
    char *was = NULL;
    if (!qm_table_keys_get(cat, exporter_role, ch->schema, ch->table, &was))
        return false;
    strlist now = {0}, prev = {0}, both = {0};
    carried_columns(ch, &now);
    if (was) {
        columns_parse(was, &prev);
        for (size_t i = 0; i < now.count; i++)
            if (strlist_contains(&prev, now.items[i]))
                strlist_push(&both, now.items[i]);
    }
    char *json = columns_json(was ? &both : &now);
    bool ok = (was && strcmp(was, json) == 0) ||
              qm_table_keys_set(cat, exporter_role, ch->schema, ch->table, json);
    free(json);
    free(was);
    strlist_free(&now);
    strlist_free(&prev);
    strlist_free(&both);
    return ok;
}

bool target_keys_note(catalog *cat, const char *exporter_role, target_keys_memo **memo,
                      const src_change *ch)
{
    if (ch->op == SRC_TRUNCATE)
        return true;
    if (!*memo)
        *memo = xcalloc(1, sizeof **memo);
    strbuf *k = &(*memo)->keybuf;
    strbuf_reset(k);
    key_part(k, ch->schema);
    key_part(k, ch->table);
    seen_table *t = strmap_get(&(*memo)->tables, k->data, k->len);
    if (t && seen_same(t, ch))
        return true;
    if (!record(cat, exporter_role, ch))
        return false;
    if (!t) {
        t = xcalloc(1, sizeof *t);
        strmap_put(&(*memo)->tables, k->data, k->len, t);
    }
    seen_set(t, ch);
    return true;
}

/* "(\"a\", \"b\")" of cols, each quoted as an SQL identifier (caller frees). */
static char *column_list(const strlist *cols)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append_char(&sb, '(');
    for (size_t i = 0; i < cols->count; i++) {
        strbuf_append(&sb, i ? ", \"" : "\"");
        for (const char *p = cols->items[i]; *p; p++) {
            if (*p == '"')
                strbuf_append_char(&sb, '"');
            strbuf_append_char(&sb, *p);
        }
        strbuf_append_char(&sb, '"');
    }
    strbuf_append_char(&sb, ')');
    return strbuf_detach(&sb);
}

/* The first column of cols that carried lacks, or NULL. */
static const char *missing(const strlist *cols, const strlist *carried)
{
    for (size_t i = 0; i < cols->count; i++)
        if (!strlist_contains(carried, cols->items[i]))
            return cols->items[i];
    return NULL;
}

static void refuse(const char *db, const table_meta *tm, const char *index, const strlist *cols,
                   const char *column, const strlist *carried)
{
    char *list = column_list(cols);
    char *have = column_list(carried);
    char *detail = xasprintf("the change queue carries the old values of %s only (its table's "
                             "key and unique indexes where the changes were captured): an update "
                             "would find no value for \"%s\" to find the row or follow the index "
                             "by, and fail; a delete would not be ordered against a change that "
                             "reuses the value. Nothing was applied to the table",
                             have, column);
    char *hint = xasprintf("drop the %s on the %s database until cutover and create it again "
                           "after; then run the same command again (giving the table the same "
                           "%s where its changes are captured covers only the changes captured "
                           "after that, not those in the queue)",
                           index, db, index);
    log_report(LOG_ERROR, detail, hint,
               "table %s on the %s database has a %s on %s that the table its changes come "
               "from lacks: its changes cannot be applied",
               tm->qualified, db, index, list);
    free(hint);
    free(detail);
    free(have);
    free(list);
}

bool target_keys_check(catalog *cat, const char *const *roles, db_role db, const table_meta *tm,
                       engine_status *rc)
{
    for (const char *const *r = roles; *r; r++) {
        char *json = NULL;
        if (!qm_table_keys_get(cat, *r, tm->schema_name, tm->table_name, &json)) {
            *rc = ENGINE_FAILED;
            return false;
        }
        if (!json)
            continue;
        strlist carried = {0};
        columns_parse(json, &carried);
        free(json);
        const char *col = missing(&tm->pk, &carried);
        bool ok = col == NULL;
        if (!ok)
            refuse(db_role_name(db), tm, "primary key", &tm->pk, col, &carried);
        for (size_t u = 0; ok && u < tm->nuniq; u++) {
            col = missing(&tm->uniq[u], &carried);
            ok = col == NULL;
            if (!ok)
                refuse(db_role_name(db), tm, "unique index", &tm->uniq[u], col, &carried);
        }
        strlist_free(&carried);
        if (!ok) {
            *rc = ENGINE_BAD_STATE;
            return false;
        }
    }
    return true;
}
