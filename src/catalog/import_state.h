/*
 * What the change importers (import data to target | source | source-replica)
 * keep in meta.db, beside their progress on the database they apply to:
 *   importer_channel_committed: what each apply channel had committed when
 *     segments were last marked imported;
 *   cdc_import_route: how each table's changes are routed to channels;
 *   import_table_filter: the table lists of a live import's first run;
 *   queue_segment, the importer's side: reading a segment's row, and the
 *     imported_by_<importer role> column;
 *   queue_table_counts, read: how many events the exporters queued.
 * importer_role is one of target_db_importer, source_db_importer,
 * source_replica_db_importer (it names a queue_segment column; any other is a
 * bug, logged). Every function finishes its statements before it returns and
 * logs its errors.
 */
#ifndef VOYAGER_CATALOG_IMPORT_STATE_H
#define VOYAGER_CATALOG_IMPORT_STATE_H

#include "catalog/catalog.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- importer_channel_committed ---- */

bool import_state_committed_set(catalog *m, const char *importer_role, int channel, int64_t vsn);
/* *vsn: what channel had committed; 0 when nothing is recorded. */
bool import_state_committed_get(catalog *m, const char *importer_role, int channel, int64_t *vsn);
/* Forget every channel's record (--start-clean). */
bool import_state_committed_clear(catalog *m, const char *importer_role);

/* ---- queue_segment, as one importer reads it ---- */

typedef struct import_segment {
    bool exists;            /* false: no such segment (yet); the rest is zero */
    char *path;             /* relative to the export dir, or absolute */
    char *exporter_role;
    int64_t committed;      /* committed size in bytes */
    bool closed;            /* no growth after committed */
    bool imported;          /* marked imported by this importer */
    bool gone;              /* archived or deleted */
    char *archive_location; /* where archive changes moved it, or NULL */
    int64_t first_vsn;      /* vsn of its first event, as the writer recorded it; 0: none yet */
} import_segment;

/* The row of segment no as importer_role sees it. Free with import_segment_free(). */
bool import_state_segment_load(catalog *m, const char *importer_role, int64_t no,
                               import_segment *out);
void import_segment_free(import_segment *s);
/* Every event of segment no is committed on importer_role's database. */
bool import_state_segment_mark_imported(catalog *m, const char *importer_role, int64_t no);
/*
 * importer_role applied the end-of-stream event that ends it, which is in
 * final_role's last segment (is_last): record as applied by importer_role
 * every segment of the exporter roles it reads (NULL-terminated, at most 3)
 * up to and including that one, in one transaction. *marked: how many were
 * not recorded yet (0 too when final_role has no last segment).
 */
bool import_state_segments_mark_through_end(catalog *m, const char *importer_role,
                                            const char *final_role,
                                            const char *const *exporter_roles, int64_t *marked);
/*
 * The database lost commits past vsn: segments that may hold later events
 * (or whose last vsn is unknown) count as not imported by importer_role again.
 */
bool import_state_segments_unmark_after(catalog *m, const char *importer_role, int64_t vsn);
/*
 * First and last segment of exporter_role that archive changes deleted before
 * importer_role applied them; both -1 when none.
 */
bool import_state_deleted_unapplied(catalog *m, const char *exporter_role,
                                    const char *importer_role, int64_t *first, int64_t *last);
/* First and last segment of any exporter that archive changes deleted; both -1 when none. */
bool import_state_deleted_any(catalog *m, int64_t *first, int64_t *last);

/* ---- queue_table_counts ---- */

/* Events queued so far by the exporter roles a and b (b may be NULL); -1 when unknown. */
int64_t import_state_queued_events(catalog *m, const char *exporter_a, const char *exporter_b);

/* ---- cdc_import_route ---- */

/* Forget every route of importer_role: nothing it routed is committed yet. */
bool import_state_routes_clear(catalog *m, const char *importer_role);
/* How many tables have a recorded route; false on error. */
bool import_state_routes_count(catalog *m, const char *importer_role, int64_t *n);
/*
 * The recorded route group of a table ("" means by primary key), recording
 * want first when there is none. Caller frees; NULL on error (logged).
 */
char *import_state_route(catalog *m, const char *importer_role, const char *schema,
                         const char *table, const char *want);

/* ---- import_table_filter ---- */

/*
 * The table lists recorded by the first run (canonical text). *include and
 * *exclude are the caller's to free; both NULL when none is recorded.
 */
bool import_state_table_filter_get(catalog *m, const char *importer_role, char **include,
                                   char **exclude);
/* Record the lists, replacing any earlier ones. */
bool import_state_table_filter_set(catalog *m, const char *importer_role, const char *include,
                                   const char *exclude);

#endif
