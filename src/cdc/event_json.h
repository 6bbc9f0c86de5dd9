/*
 * The pieces of queue event lines (SPEC.md "CDC event") other than row
 * changes, and the JSON string writer they and the row changes' encoder
 * (cdc_stream.h cdc_event_append_change) share. Values are the source's text
 * forms and always JSON strings (or null).
 */
#ifndef VOYAGER_CDC_EVENT_JSON_H
#define VOYAGER_CDC_EVENT_JSON_H

#include "core/util.h"

#include <stddef.h>

/* Append s[0..len) as a JSON string (quotes included); control bytes escaped, others kept. */
void json_append_string(strbuf *sb, const char *s, size_t len);

/* {"vsn":N,"op":"t","schema_name":s,"table_name":t,"exporter_role":R}\n */
void event_json_append_truncate(strbuf *sb, long long vsn, const char *schema, const char *table,
                                const char *exporter_role);

/* {"vsn":N,"op":op,"exporter_role":R}\n: the end-of-stream event of a cutover. */
void event_json_append_marker(strbuf *sb, long long vsn, const char *op, const char *exporter_role);

#endif
