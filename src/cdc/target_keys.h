/*
 * The columns the change queue carries old values of, per table, and the check that the
 * database an importer writes to needs no others.
 *
 * An update or delete event carries the old values of its source table's key (primary key,
 * else replica identity, else every column) and of the columns of its unique indexes
 * (src_change.key, old_needed). The apply finds the row by the written table's primary key
 * and follows its unique indexes by old value (source/writer.h table_meta). A table there
 * with a primary key or unique index over a column the queue does not carry cannot be
 * applied to: an update fails deep in the apply ("no value for key column"), a delete skips
 * its conflict entry. So the exporter records what it carries, and the importer refuses such
 * a table before the first change of it is applied.
 *
 * Exporter (cdc_stream.c): target_keys_note() per change records the columns in meta.db
 * (queue_table_keys) the first time a run meets the table and whenever they change, before
 * the event enters the queue: an importer that reads an event finds them recorded. A record
 * only shrinks within one queue: it says what every queued event of the table carries.
 * Importer (cdc_import.c): target_keys_check() once per table, as its metadata is loaded.
 */
#ifndef VOYAGER_CDC_TARGET_KEYS_H
#define VOYAGER_CDC_TARGET_KEYS_H

#include "catalog/catalog.h"
#include "core/engine.h"
#include "db/dbconf.h"
#include "source/change.h"
#include "source/writer.h"

#include <stdbool.h>

/* What an exporter has recorded this run; created by the first target_keys_note(). */
typedef struct target_keys_memo target_keys_memo;
void target_keys_memo_free(target_keys_memo *memo);

/*
 * Record in meta.db the columns ch's table carries (as far as its events already queued
 * carry them too), for exporter_role, unless *memo says
 * they are recorded already (*memo is created on the first call; the caller frees it with
 * target_keys_memo_free). A TRUNCATE carries none: nothing to do. False after a logged error.
 */
bool target_keys_note(catalog *cat, const char *exporter_role, target_keys_memo **memo,
                      const src_change *ch);

/*
 * Can the changes of tm (a table of the database of role db that an importer writes to) be applied, with what each exporter of roles (NULL-terminated) recorded it
 * carries? Tables without a record (an exporter of an older build) pass. False after an
 * error naming the table, the index and the fixes, with *rc set (ENGINE_BAD_STATE; a
 * meta.db that cannot be read: ENGINE_FAILED).
 */
bool target_keys_check(catalog *cat, const char *const *roles, db_role db, const table_meta *tm,
                       engine_status *rc);

#endif
