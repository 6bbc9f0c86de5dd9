/*
 * The parallel snapshot exporter: --parallel-jobs worker threads, each with a
 * reader of its own inside the one snapshot (source/source.h rows_*; the
 * PostgreSQL source runs COPY ... TO STDOUT), write the rows into data/ files.
 *
 * Files: data/<base>_data.sql, <base> from src_table_file_base(). A table
 * larger than the split size (VOYAGER_EXPORT_SPLIT_BYTES, default 128 MiB) is
 * exported in as many parts as the source splits it into (rows_parts), so
 * that one huge table keeps every worker busy: part 0 goes to
 * data/<base>_data.sql, part k to data/<base>_data.part<k>.sql; the
 * descriptor lists every part file. Each part is written under <name>.tmp,
 * fsynced, then renamed. A source silent for YB_VOYAGER_STALL_TIMEOUT seconds
 * (default 600) in the middle of a part counts as lost.
 *
 * A table is DONE in meta.db (and enters the descriptor) only when all its
 * parts are durable; a restart redoes every table that is not DONE, whole
 * (its parts must come from one snapshot).
 */
#ifndef VOYAGER_SNAPSHOT_SNAPSHOT_EXPORT_H
#define VOYAGER_SNAPSHOT_SNAPSHOT_EXPORT_H

#include "core/engine.h"
#include "snapshot/source_tables.h"
#include "source/source.h"

#include <stdbool.h>
#include <stddef.h>

#define EXPORT_DEFAULT_SPLIT_BYTES (128LL * 1024 * 1024)

/* Why snapshot_export_tables failed, beyond its log lines (source/source.h). */
typedef source_rows_failure snapshot_export_failure;

/*
 * Export tables[0..n) in snapshot `snapshot_name`. Returns false after the
 * failure was logged (naming the table), or when interrupted; *why (may be
 * NULL) says what kind of failure it was. A transient failure is logged as a
 * warning only: the caller decides whether it retries or gives up (and says so).
 */
bool snapshot_export_tables(engine_ctx *eng, source *src, const char *snapshot_name,
                            src_table *const *tables, size_t n, int parallel, bool bars,
                            snapshot_export_failure *why);

/* Remove every snapshot data file (not the queue) and the descriptor. */
bool snapshot_export_remove_files(const char *export_dir);

#endif
