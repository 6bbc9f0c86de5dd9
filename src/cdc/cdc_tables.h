/* The tables a change exporter captures: parallel schema/table name lists. */
#ifndef VOYAGER_CDC_CDC_TABLES_H
#define VOYAGER_CDC_CDC_TABLES_H

#include "core/util.h"

typedef struct cdc_tables {
    strlist schemas; /* schemas.items[i] is the schema of tables.items[i] */
    strlist tables;
} cdc_tables;

void cdc_tables_free(cdc_tables *t);
/* JSON array of [schema, table] pairs (caller frees) and back (false on bad JSON). */
char *cdc_tables_to_json(const cdc_tables *t);
bool cdc_tables_from_json(cdc_tables *t, const char *json);
/*
 * Split "schema"."table" (each part quoted or a plain identifier; a missing
 * schema is public) into unquoted names (caller frees both, even on false).
 */
bool cdc_parse_qualified(const char *s, char **schema, char **table);

#endif
