#include "cdc/conflicts.h"

#include "core/key_parts.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* Prune committed entries when the map grows past this: memory stays bounded. */
#define CONFLICTS_PRUNE_AT 100000

typedef struct holder {
    int channel;
    int64_t vsn;
} holder;

struct conflicts {
    strmap map;
    conflicts_committed_fn committed;
    void *arg;
    size_t prune_at;
};

conflicts *conflicts_new(conflicts_committed_fn committed, void *arg)
{
    conflicts *c = xcalloc(1, sizeof *c);
    c->committed = committed;
    c->arg = arg;
    c->prune_at = CONFLICTS_PRUNE_AT;
    return c;
}

void conflicts_free(conflicts *c)
{
    if (!c)
        return;
    strmap_free(&c->map, free);
    free(c);
}

size_t conflicts_size(const conflicts *c) { return c->map.count; }

static bool still_pending(void *value, void *arg)
{
    conflicts *c = arg;
    holder *h = value;
    return h->vsn > c->committed(h->channel, c->arg);
}

static void add_dep(cdc_item *it, int channel, int64_t vsn)
{
    for (size_t i = 0; i < it->ndeps; i++) {
        if (it->deps[i].channel == channel) {
            if (it->deps[i].vsn < vsn)
                it->deps[i].vsn = vsn;
            return;
        }
    }
    it->deps = xrealloc(it->deps, (it->ndeps + 1) * sizeof *it->deps);
    it->deps[it->ndeps++] = (cdc_dep){channel, vsn};
}

static void touch(conflicts *c, cdc_item *it, int channel, const strbuf *key)
{
    void **slot = NULL;
    holder *h = strmap_get(&c->map, key->data, key->len);
    if (h) {
        if (h->channel != channel && h->vsn > c->committed(h->channel, c->arg))
            add_dep(it, h->channel, h->vsn);
        h->channel = channel;
        h->vsn = it->ev.vsn;
        return;
    }
    h = xmalloc(sizeof *h);
    *h = (holder){channel, it->ev.vsn};
    slot = strmap_put(&c->map, key->data, key->len, h);
    (void)slot;
}

/*
 * The key of one unique value: table, index and the values as key_part()s
 * (a text value may hold any byte). Returns false when a value is not known.
 */
static bool value_key(strbuf *key, const cdc_item *it, size_t u, bool new_values)
{
    strbuf_reset(key);
    strbuf_append_int(key, it->tm->idx);
    strbuf_append_char(key, '\x1f');
    strbuf_append_int(key, (long long)u);
    const strlist *cols = &it->tm->uniq[u];
    for (size_t i = 0; i < cols->count; i++) {
        bool found;
        const char *v = new_values ? cdc_event_new_value(&it->ev, cols->items[i], &found)
                                   : cdc_event_old_value(&it->ev, cols->items[i], &found);
        if (!found)
            return false;
        key_part(key, v); /* NULL apart from every text */
    }
    return true;
}

void conflicts_check(conflicts *c, cdc_item *it, int channel)
{
    const table_meta *tm = it->tm;
    if (tm->nuniq == 0)
        return;
    strbuf key = STRBUF_INIT;
    for (size_t u = 0; u < tm->nuniq; u++) {
        switch (it->ev.op) {
        case CDC_OP_INSERT:
            if (value_key(&key, it, u, true))
                touch(c, it, channel, &key);
            break;
        case CDC_OP_DELETE:
            if (value_key(&key, it, u, false))
                touch(c, it, channel, &key);
            break;
        case CDC_OP_UPDATE: {
            bool changed = false;
            const strlist *cols = &tm->uniq[u];
            for (size_t i = 0; i < cols->count && !changed; i++) {
                bool fnew, fold;
                const char *nv = cdc_cols_get(&it->ev.fields, cols->items[i], &fnew);
                if (!fnew)
                    continue;
                const char *ov = cdc_event_old_value(&it->ev, cols->items[i], &fold);
                changed = !fold || (nv == NULL) != (ov == NULL) || (nv && strcmp(nv, ov) != 0);
            }
            if (!changed)
                break;
            if (value_key(&key, it, u, false))
                touch(c, it, channel, &key);
            if (value_key(&key, it, u, true))
                touch(c, it, channel, &key);
            break;
        }
        case CDC_OP_CUTOVER:
        case CDC_OP_TRUNCATE:
            break;
        }
    }
    strbuf_free(&key);
    if (c->map.count >= c->prune_at) {
        strmap_filter(&c->map, still_pending, free, c);
        /* everything still pending: allow growth rather than prune on every event */
        if (c->map.count * 2 >= c->prune_at)
            c->prune_at = c->map.count * 2;
    }
}
