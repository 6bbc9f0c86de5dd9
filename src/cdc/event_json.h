/*
 * One CDC event as one line of a queue segment (SPEC.md "CDC event"), built
 * straight from decoded pgoutput tuples. Values are PostgreSQL text forms and
 * always JSON strings (or null); key order follows the table's columns.
 */
#ifndef VOYAGER_CDC_EVENT_JSON_H
#define VOYAGER_CDC_EVENT_JSON_H

#include "core/util.h"
#include "db/replication/pgoutput.h"

#include <stddef.h>

/* Append s[0..len) as a JSON string (quotes included); control bytes escaped, others kept. */
void json_append_string(strbuf *sb, const char *s, size_t len);

typedef struct cdc_row_change {
    long long vsn;
    char op;                   /* 'c', 'u', 'd' */
    const pgo_relation *rel;
    const int *key_cols;       /* indexes into rel->columns: the primary key */
    size_t nkey;
    char old_kind;             /* 'O', 'K' or 0 */
    const pgo_tuple *old_tuple; /* update/delete; NULL when none */
    const pgo_tuple *new_tuple; /* insert/update */
    const char *exporter_role;
} cdc_row_change;

/*
 * Append the event line (with its trailing newline). Returns false when the
 * tuples do not match the relation (a protocol error; nothing sensible to write).
 */
bool event_json_append_change(strbuf *sb, const cdc_row_change *ch);

/* {"vsn":N,"op":"t","schema_name":s,"table_name":t,"exporter_role":R}\n */
void event_json_append_truncate(strbuf *sb, long long vsn, const char *schema, const char *table,
                                const char *exporter_role);

/* {"vsn":N,"op":op,"exporter_role":R}\n: the end-of-stream event of a cutover. */
void event_json_append_marker(strbuf *sb, long long vsn, const char *op, const char *exporter_role);

#endif
