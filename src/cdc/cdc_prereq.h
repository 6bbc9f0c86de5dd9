/*
 * Prerequisites of change capture from a PostgreSQL database, each failure
 * reported on its own line with the fix: wal_level, replication permission,
 * a free replication slot, REPLICA IDENTITY FULL on every captured table.
 */
#ifndef VOYAGER_CDC_CDC_PREREQ_H
#define VOYAGER_CDC_CDC_PREREQ_H

#include "cdc/cdc_tables.h"
#include "db/pgconn.h"

#include <stdbool.h>

/*
 * need_slot: a new slot will be created. check_identity: tables must have
 * REPLICA IDENTITY FULL (else they are listed with the ALTER to run).
 * Returns false after logging every failed check.
 */
bool cdc_check_prereqs(pgconn *c, const cdc_tables *t, bool need_slot, bool check_identity);

/* Tables of t without REPLICA IDENTITY FULL, as a list of "schema"."table" (caller frees). */
bool cdc_tables_without_full_identity(pgconn *c, const cdc_tables *t, strlist *out);

#endif
