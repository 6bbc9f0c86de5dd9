#include "core/strmap.h"

#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a: simple, stable across runs and builds (channel routing depends on it). */
uint64_t strmap_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static strmap_entry *find_slot(strmap_entry *slots, size_t cap, const char *key, size_t len,
                               uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);
    for (;;) {
        strmap_entry *e = &slots[i];
        if (!e->key || (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0))
            return e;
        i = (i + 1) & (cap - 1);
    }
}

static void grow(strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    strmap_entry *ns = xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < m->cap; i++) {
        strmap_entry *e = &m->slots[i];
        if (e->key)
            *find_slot(ns, ncap, e->key, e->key_len, e->hash) = *e;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
}

void *strmap_get(const strmap *m, const char *key, size_t len)
{
    if (!m->cap)
        return NULL;
    strmap_entry *e = find_slot(m->slots, m->cap, key, len, strmap_hash(key, len, 0));
    return e->key ? e->value : NULL;
}

void **strmap_put(strmap *m, const char *key, size_t len, void *value)
{
    if ((m->count + 1) * 2 > m->cap)
        grow(m);
    uint64_t h = strmap_hash(key, len, 0);
    strmap_entry *e = find_slot(m->slots, m->cap, key, len, h);
    if (!e->key) {
        e->key = xmalloc(len + 1);
        memcpy(e->key, key, len);
        e->key[len] = '\0';
        e->key_len = len;
        e->hash = h;
        m->count++;
    }
    e->value = value;
    return &e->value;
}

void strmap_filter(strmap *m, bool (*keep)(void *value, void *arg), void (*drop)(void *value),
                   void *arg)
{
    if (!m->cap)
        return;
    strmap_entry *old = m->slots;
    size_t cap = m->cap;
    m->slots = xcalloc(cap, sizeof *m->slots);
    m->count = 0;
    for (size_t i = 0; i < cap; i++) {
        strmap_entry *e = &old[i];
        if (!e->key)
            continue;
        if (keep(e->value, arg)) {
            *find_slot(m->slots, cap, e->key, e->key_len, e->hash) = *e;
            m->count++;
        } else {
            if (drop)
                drop(e->value);
            free(e->key);
        }
    }
    free(old);
}

void strmap_free(strmap *m, void (*drop)(void *value))
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key) {
            if (drop)
                drop(m->slots[i].value);
            free(m->slots[i].key);
        }
    }
    free(m->slots);
    memset(m, 0, sizeof *m);
}
