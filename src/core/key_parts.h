/*
 * Map keys made of several strings: a schema and a table name, a row's key values, a
 * statement's column names. PostgreSQL names and text values may hold every byte but NUL,
 * so no separator byte can keep two lists apart ("a\x1f" + "b" and "a" + "\x1fb" joined by
 * 0x1F are one key). Each part goes in as its length, ':' and its bytes: a prefix code, so
 * two different lists of parts never give one key, and a list is never a prefix of another
 * list's key unless it is that list's prefix.
 */
#ifndef VOYAGER_CORE_KEY_PARTS_H
#define VOYAGER_CORE_KEY_PARTS_H

#include "core/util.h"

#include <stddef.h>

/* Append one part to k; NULL is a part of its own, unlike any string (SQL NULL). */
void key_part(strbuf *k, const char *part);
void key_part_len(strbuf *k, const char *part, size_t n);

#endif
