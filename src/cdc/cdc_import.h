/*
 * Change apply (live migration), the import side: import data to
 * target|source|source-replica calls these once its snapshot import is done.
 */
#ifndef VOYAGER_CDC_CDC_IMPORT_H
#define VOYAGER_CDC_CDC_IMPORT_H

#include "cli/cmd_ctx.h"
#include "db/dbconf.h"
#include "db/pgconn.h"

#include <stdbool.h>

/*
 * Called by `import data to target|source|source-replica` after the snapshot import
 * is complete, when the migration is live: applies queued events to the
 * database until the end-of-stream marker (cutover) or interruption.
 * importer_role: "target_db_importer" | "source_db_importer" |
 * "source_replica_db_importer". Returns an exit code.
 */
int cdc_import_apply(cmd_ctx *ctx, db_conf *conf, const char *importer_role);

/*
 * The table list of a live import is fixed by its first run: the importer's
 * progress moves past the changes of tables it leaves out, so a run with
 * other --table-list / --exclude-table-list would lose them for good. Records
 * the lists on the first run (and with start_clean), refuses different ones
 * after (exit code; EXIT_OK when the command has no table-list flags).
 */
int cdc_import_table_filter_check(cmd_ctx *ctx, const char *importer_role, bool start_clean);

/*
 * import data --start-clean: inside the transaction that empties the tables
 * on c, forget the change progress too (channel and count rows), after
 * marking every queue segment as not applied by importer_role in meta.db.
 * False after logging.
 */
bool cdc_import_clean_in_tx(cmd_ctx *ctx, const char *importer_role, pgconn *c);

#endif
