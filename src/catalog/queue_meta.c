#include "catalog/queue_meta.h"
#include "catalog/catalog_int.h"

#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* ---- cdc_exporter_state ---- */

bool qm_exporter_init(catalog *m, const char *role)
{
    return catalog_run(m, NULL, "INSERT OR IGNORE INTO cdc_exporter_state(exporter_role) VALUES (?1)",
                       "s", role);
}

static void fill_exporter(sqlite3_stmt *st, void *row)
{
    *(qm_exporter *)row = (qm_exporter){
        .found = true,
        .slot = catalog_column_dup(st, 0),
        .publication = catalog_column_dup(st, 1),
        .tables_json = catalog_column_dup(st, 2),
        .snapshot_done = sqlite3_column_int64(st, 3) != 0,
        .stream_done = sqlite3_column_int64(st, 4) != 0,
        .last_commit_lsn = sqlite3_column_int64(st, 5),
        .last_vsn = sqlite3_column_int64(st, 6),
        .total_events = sqlite3_column_int64(st, 7),
        .confirmed_lsn = sqlite3_column_int64(st, 8),
    };
}

bool qm_exporter_get(catalog *m, const char *role, qm_exporter *out)
{
    *out = (qm_exporter){0};
    bool found;
    return catalog_load_row(m, "the change exporter's state", fill_exporter, out, &found,
                            "SELECT slot_name, publication_name, tables, snapshot_done, "
                            "stream_done, last_commit_lsn, last_vsn, total_events, confirmed_lsn "
                            "FROM cdc_exporter_state WHERE exporter_role = ?1",
                            "s", role);
}

void qm_exporter_free(qm_exporter *e)
{
    free(e->slot);
    free(e->publication);
    free(e->tables_json);
    *e = (qm_exporter){0};
}

bool qm_exporter_record(catalog *m, const char *role, const char *slot, const char *publication,
                        const char *tables_json, bool reset_position)
{
    return catalog_run(m, NULL,
                       "UPDATE cdc_exporter_state SET slot_name = ?2, publication_name = ?3, "
                       "tables = ?4, snapshot_done = CASE WHEN ?5 THEN 0 ELSE snapshot_done END, "
                       "last_commit_lsn = CASE WHEN ?5 THEN 0 ELSE last_commit_lsn END, "
                       "confirmed_lsn = CASE WHEN ?5 THEN -1 ELSE confirmed_lsn END "
                       "WHERE exporter_role = ?1",
                       "ssssi", role, slot, publication, tables_json, reset_position ? 1LL : 0LL);
}

bool qm_exporter_set_confirmed(catalog *m, const char *role, long long lsn)
{
    return catalog_run(m, NULL,
                       "UPDATE cdc_exporter_state SET confirmed_lsn = max(confirmed_lsn, ?2) "
                       "WHERE exporter_role = ?1",
                       "si", role, lsn);
}

bool qm_exporter_set_snapshot_done(catalog *m, const char *role)
{
    return catalog_run(m, NULL, "UPDATE cdc_exporter_state SET snapshot_done = 1 WHERE exporter_role = ?1",
                       "s", role);
}

bool qm_queue_reset(catalog *m)
{
    if (!catalog_begin(m))
        return false;
    bool ok = catalog_exec(m, "DELETE FROM queue_segment; DELETE FROM queue_table_counts; "
                              "DELETE FROM queue_table_keys; DELETE FROM cdc_exporter_state") &&
              catalog_exec(m, "DELETE FROM sequence_last_values WHERE phase LIKE 'cutover.%'");
    if (!ok) {
        catalog_rollback(m);
        return false;
    }
    return catalog_commit(m);
}

/* ---- the queue writer ---- */

bool qm_queue_tail(catalog *m, const char *role, qm_tail *out)
{
    *out = (qm_tail){.seg_no = -1, .role_matches = true};
    long long closed = 0, match = 1;
    bool ok = catalog_run(m, &out->max_vsn, "SELECT MAX(last_vsn) FROM queue_segment", "") &&
              catalog_run(m, &out->seg_no, "SELECT MAX(segment_no) FROM queue_segment", "");
    if (ok && out->seg_no >= 0)
        ok = catalog_run(m, &closed, "SELECT is_closed FROM queue_segment WHERE segment_no = ?1", "i",
                         out->seg_no) &&
             catalog_run(m, &out->committed_size,
                         "SELECT committed_size FROM queue_segment WHERE segment_no = ?1", "i",
                         out->seg_no) &&
             catalog_run(m, &out->total_events,
                         "SELECT total_events FROM queue_segment WHERE segment_no = ?1", "i", out->seg_no) &&
             catalog_run(m, &out->first_vsn, "SELECT first_vsn FROM queue_segment WHERE segment_no = ?1",
                         "i", out->seg_no) &&
             catalog_run(m, &match, "SELECT exporter_role = ?2 FROM queue_segment WHERE segment_no = ?1",
                         "is", out->seg_no, role);
    out->is_closed = closed != 0;
    out->role_matches = match != 0;
    return ok;
}

bool qm_table_keys_set(catalog *m, const char *role, const char *schema, const char *table,
                       const char *columns_json)
{
    return catalog_run(m, NULL,
                       "INSERT OR REPLACE INTO queue_table_keys(exporter_role, schema_name, "
                       "table_name, columns) VALUES (?1, ?2, ?3, ?4)",
                       "ssss", role, schema, table, columns_json);
}

static void fill_text(sqlite3_stmt *st, void *row) { *(char **)row = catalog_column_dup(st, 0); }

bool qm_table_keys_get(catalog *m, const char *role, const char *schema, const char *table,
                       char **columns_json)
{
    *columns_json = NULL;
    bool found;
    return catalog_load_row(m, "the key columns the change queue carries", fill_text, columns_json,
                            &found,
                            "SELECT columns FROM queue_table_keys WHERE exporter_role = ?1 AND "
                            "schema_name = ?2 AND table_name = ?3",
                            "sss", role, schema, table);
}

bool qm_segment_insert(catalog *m, long long seg_no, const char *rel_path, const char *role)
{
    return catalog_run(m, NULL,
                       "INSERT INTO queue_segment(segment_no, file_path, exporter_role) "
                       "VALUES (?1, ?2, ?3)",
                       "iss", seg_no, rel_path, role);
}

bool qm_record_step(catalog *m, const qm_step *s)
{
    if (!catalog_begin(m))
        return false;
    bool ok = catalog_run(m, NULL,
                          "UPDATE queue_segment SET committed_size = ?1, "
                          "first_vsn = CASE WHEN ?2 > 0 THEN ?2 END, "
                          "last_vsn = CASE WHEN ?2 > 0 THEN ?3 END, total_events = ?4 "
                          "WHERE segment_no = ?5",
                          "iiiii", s->committed_size, s->first_vsn, s->last_vsn, s->seg_events,
                          s->seg_no) &&
              catalog_run(m, NULL,
                          "UPDATE cdc_exporter_state SET last_commit_lsn = ?1, last_vsn = ?2, "
                          "total_events = total_events + ?3 WHERE exporter_role = ?4",
                          "iiis", s->commit_lsn, s->last_vsn, s->added_events, s->role);
    for (size_t i = 0; ok && i < s->ncounts; i++) {
        const qm_count *t = &s->counts[i];
        ok = catalog_run(m, NULL,
                         "INSERT INTO queue_table_counts(exporter_role, schema_name, table_name, "
                         "num_inserts, num_updates, num_deletes) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                         "ON CONFLICT(exporter_role, schema_name, table_name) DO UPDATE SET "
                         "num_inserts = num_inserts + ?4, num_updates = num_updates + ?5, "
                         "num_deletes = num_deletes + ?6",
                         "sssiii", s->role, t->schema, t->table, t->inserts, t->updates, t->deletes);
    }
    if (ok && s->ends_stream)
        ok = catalog_run(m, NULL, "UPDATE queue_segment SET is_closed = 1, is_last = 1 WHERE segment_no = ?1",
                         "i", s->seg_no) &&
             catalog_run(m, NULL, "UPDATE cdc_exporter_state SET stream_done = 1 WHERE exporter_role = ?1",
                         "s", s->role);
    if (!ok || !catalog_commit(m)) {
        catalog_rollback(m);
        return false;
    }
    return true;
}

bool qm_segment_close(catalog *m, const char *role, long long seg_no, long long committed_size,
                      const char *next_rel_path)
{
    if (!catalog_begin(m))
        return false;
    bool ok = catalog_run(m, NULL,
                          "UPDATE queue_segment SET committed_size = ?1, is_closed = 1, is_last = 0 "
                          "WHERE segment_no = ?2",
                          "ii", committed_size, seg_no) &&
              qm_segment_insert(m, seg_no + 1, next_rel_path, role);
    if (!ok || !catalog_commit(m)) {
        catalog_rollback(m);
        return false;
    }
    return true;
}

bool qm_store_full(catalog *m) { return sqlite3_errcode(catalog_sqlite(m)) == SQLITE_FULL; }

bool qm_segments_forget_applied(catalog *m, const char *importer_role)
{
    if (strcmp(importer_role, "target_db_importer") != 0 &&
        strcmp(importer_role, "source_replica_db_importer") != 0 &&
        strcmp(importer_role, "source_db_importer") != 0) {
        log_bug("unknown importer role %s", importer_role);
        return false;
    }
    /* the column name comes from the fixed set above, never from the user */
    char *sql = xasprintf("UPDATE queue_segment SET imported_by_%s = 0", importer_role);
    bool ok = catalog_exec(m, sql);
    free(sql);
    return ok;
}

/* ---- compare data's consistent point ---- */

/*
 * The polling reads below stay quiet on failure (what NULL: a busy store reads
 * as "no request" and is asked again a moment later), as they always were.
 */
typedef struct point_row {
    long long lsn_or_vsn;
    char *text;
} point_row;

static void fill_point(sqlite3_stmt *st, void *row)
{
    *(point_row *)row = (point_row){sqlite3_column_int64(st, 0), catalog_column_dup(st, 1)};
}

bool qm_point_asked(catalog *m, bool *asked, long long *lsn, char **snapshot)
{
    *snapshot = NULL;
    point_row r = {0};
    bool ok = catalog_load_row(m, NULL, fill_point, &r, asked,
                               "SELECT lsn, snapshot FROM compare_point WHERE state = 'asked'", "");
    if (*asked) {
        *lsn = r.lsn_or_vsn;
        *snapshot = r.text ? r.text : xstrdup("");
    }
    return ok;
}

bool qm_point_answer(catalog *m, const char *state, long long vsn)
{
    return catalog_run(m, NULL, "UPDATE compare_point SET state = ?1, vsn = ?2 WHERE state = 'asked'",
                       "si", state, vsn);
}

bool qm_point_ask(catalog *m, long long lsn, const char *snapshot)
{
    return catalog_run(m, NULL, "INSERT OR REPLACE INTO compare_point VALUES (1, ?1, ?2, 'asked', NULL)",
                       "is", lsn, snapshot);
}

bool qm_point_state(catalog *m, char **state, long long *vsn)
{
    point_row r = {0};
    bool found;
    bool ok = catalog_load_row(m, NULL, fill_point, &r, &found,
                               "SELECT vsn, state FROM compare_point WHERE id = 1", "");
    *state = r.text;
    if (found)
        *vsn = r.lsn_or_vsn;
    return ok;
}

bool qm_point_clear(catalog *m) { return catalog_run(m, NULL, "DELETE FROM compare_point", ""); }

typedef struct hold_row {
    long long pid, hold_vsn, held_vsn;
} hold_row;

static void fill_hold(sqlite3_stmt *st, void *row)
{
    *(hold_row *)row = (hold_row){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                  sqlite3_column_int64(st, 2)};
}

bool qm_hold_get(catalog *m, const char *role, long long *pid, long long *hold_vsn,
                 long long *held_vsn)
{
    hold_row r;
    bool found;
    if (!catalog_load_row(m, NULL, fill_hold, &r, &found,
                          "SELECT requester_pid, hold_vsn, held_vsn FROM compare_hold "
                          "WHERE importer_role = ?1",
                          "s", role) ||
        !found)
        return false;
    *pid = r.pid;
    *hold_vsn = r.hold_vsn;
    *held_vsn = r.held_vsn;
    return true;
}

bool qm_hold_request(catalog *m, const char *role, long long pid)
{
    return catalog_run(m, NULL, "INSERT OR REPLACE INTO compare_hold VALUES (?1, ?2, -1, -1)", "si", role,
                       pid);
}

bool qm_hold_set_held(catalog *m, const char *role, long long held_vsn)
{
    return catalog_run(m, NULL, "UPDATE compare_hold SET held_vsn = ?1 WHERE importer_role = ?2", "is",
                       held_vsn, role);
}

bool qm_hold_advance(catalog *m, const char *role, long long hold_vsn)
{
    return catalog_run(m, NULL, "UPDATE compare_hold SET hold_vsn = ?1 WHERE importer_role = ?2", "is",
                       hold_vsn, role);
}

bool qm_hold_release(catalog *m, const char *role)
{
    return catalog_run(m, NULL, "DELETE FROM compare_hold WHERE importer_role = ?1", "s", role);
}
