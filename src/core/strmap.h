/*
 * A small open-addressing hash map from byte-string keys (copied, owned by the
 * map) to pointer values (not owned). Used for the per-table cache and the
 * unique-value map of the change applier. Not thread-safe.
 */
#ifndef VOYAGER_CORE_STRMAP_H
#define VOYAGER_CORE_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct strmap_entry {
    char *key; /* NULL: empty slot */
    size_t key_len;
    uint64_t hash;
    void *value;
} strmap_entry;

typedef struct strmap {
    strmap_entry *slots;
    size_t cap; /* power of two */
    size_t count;
} strmap;

#define STRMAP_INIT {NULL, 0, 0}

uint64_t strmap_hash(const void *data, size_t len, uint64_t seed);
void *strmap_get(const strmap *m, const char *key, size_t len);
/* Insert or replace; returns the slot's value pointer so callers can update in place. */
void **strmap_put(strmap *m, const char *key, size_t len, void *value);
/*
 * Keep only entries for which keep(value, arg) is true; dropped values are
 * passed to drop (may be NULL).
 */
void strmap_filter(strmap *m, bool (*keep)(void *value, void *arg), void (*drop)(void *value),
                   void *arg);
/* Free keys (and values through drop when not NULL). */
void strmap_free(strmap *m, void (*drop)(void *value));

#endif
