/*
 * Event triggers belong to no schema, so pg_dump --schema leaves them out.
 * Those whose function lives in an exported schema are exported with it, as
 * DDL built from pg_event_trigger by the source server (format() quotes).
 */
#ifndef VOYAGER_SCHEMA_SCHEMA_EVTRIG_H
#define VOYAGER_SCHEMA_SCHEMA_EVTRIG_H

#include "core/util.h"
#include "db/pgconn.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * Append to out, as pg_dump would write them ("stmt;\n\n"), CREATE EVENT
 * TRIGGER for every event trigger whose function is in one of schemas, its
 * ALTER EVENT TRIGGER when it is not simply enabled, and with comments its
 * COMMENT ON. *count gets the number of event triggers. False after a logged
 * query error.
 */
bool schema_evtrig_sql(pgconn *c, const strlist *schemas, bool comments, strbuf *out, size_t *count);

#endif
