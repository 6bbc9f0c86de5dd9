/*
 * The PostgreSQL source's own state and helpers, shared by its files only:
 *   source_pg.c       the ops table, the control connection, schemas and tables, snapshot-only
 *   pg_copy_export.c  the rows of a table in an exported snapshot (COPY TO STDOUT)
 *   pg_sequences.c    sequence values
 *   pg_feed.c         the change feed's slot and publication: prerequisites, set-up, resume, drop
 *   pg_stream.c       the pgoutput stream decoded into neutral change records (source/change.h)
 * Nothing outside src/source includes this.
 */
#ifndef VOYAGER_SOURCE_PG_INT_H
#define VOYAGER_SOURCE_PG_INT_H

#include "db/pgconn.h"
#include "db/replication/pgoutput.h"
#include "source/source.h"

typedef struct pg_stream pg_stream;

typedef struct pg_source {
    pgconn *c;          /* the control connection */
    bool in_snapshot;   /* c holds snapshot_begin's transaction */
    /* The feed (feed_init): its side, tables and server-side names. */
    bool feed_named;
    source_feed_side side;
    strlist feed_schemas; /* feed_schemas.items[i] is the schema of feed_tables.items[i] */
    strlist feed_tables;
    char *slot;
    char *publication;
    pgconn *snapshot_holder; /* the replication connection that exported feed_create's snapshot */
    pg_stream *stream;       /* feed_connect .. feed_disconnect */
    /*
     * pg_layout.c's pieces of this slot kept in meta.db, loaded once and
     * edited with it: parsing the whole status record for every relation
     * announced made the first change of N tables cost N^2.
     */
    struct cJSON *layout_cache;
} pg_source;

/* The implementation's state, made on first use. */
pg_source *pg_of(source *s);
/* The control connection, opened on first need (NULL after a logged failure). */
pgconn *pg_control(source *s);

/* Sequence values of schemas read on c (in its transaction), into *out (caller frees). */
bool pg_sequences_read(pgconn *c, const strlist *schemas, sequence_value **out, size_t *n);

/* pg_stream.c's entries of the ops table (source_pg.c lists them). */
int pg_feed_connect(source *s, bool stream, src_position after, const char **describe);
int64_t pg_feed_silence_ms(source *s);
int pg_feed_poll(source *s, int timeout_ms, const source_feed_handler *h, source_feed_poll *out);
int pg_feed_confirm(source *s, src_position pos, bool reply);
int pg_feed_drain_point(source *s, src_position *need);
int pg_feed_read_sequences(source *s, const strlist *schemas, sequence_value **out, size_t *n);
void pg_feed_disconnect(source *s);
/* The stream's query connection (NULL when none), its replication connection closed first. */
pgconn *pg_stream_query_conn(source *s);
void pg_stream_free(pg_source *p);

/*
 * The neutral record of a decoded insert/update/delete m of rel (names: its
 * column names; key: its key columns; old_needed: src_change.old_needed, may
 * be NULL), its values in after/before (rel->natts each; out points into
 * them and into m). False when the tuples do not match the relation (a
 * protocol error).
 */
bool pg_change_of(const pgo_relation *rel, const char *const *names, const size_t *key, size_t nkey,
                  const bool *old_needed, const pgo_msg *m, src_value *after, src_value *before,
                  src_change *out);

/* pg_feed.c's entries. */
void pg_feed_init(source *s, const source_feed_spec *spec, const char **name, const char **detail);
engine_status pg_feed_find(source *s, bool *exists);
engine_status pg_feed_confirmed(source *s, src_position *out);
engine_status pg_feed_prepare(source *s, bool new_feed, bool update);
engine_status pg_feed_create(source *s, bool with_snapshot, char **snapshot, src_position *start);
void pg_feed_release_snapshot(source *s);
bool pg_feed_drop(source *s, bool whole);
void pg_feed_free(pg_source *p);

/*
 * pg_layout.c: the captured tables' columns kept in meta.db when the feed is
 * made (in the slot's exported snapshot, when given), and each relation
 * pgoutput announces compared with them, and its partitions (read on q, now)
 * with those of the snapshot: ENGINE_OK, or ENGINE_BAD_STATE after logging
 * the change and its fix; ENGINE_OK with *query_failed when q failed.
 */
bool pg_layouts_record(source *s, const char *snapshot);
int pg_layout_check(source *s, pgconn *q, const pgo_relation *rel, bool *query_failed);
/*
 * Every captured table still in the publication as the table the feed was
 * made with (its OID), read on q now: ENGINE_OK, or ENGINE_BAD_STATE after
 * logging each table dropped, created again, renamed or removed from it;
 * ENGINE_OK with *query_failed when q failed.
 */
int pg_layout_check_members(source *s, pgconn *q, bool *query_failed);

/* pg_copy_export.c's entries. */
int pg_rows_parts(source *s, const src_table *t, int64_t part_bytes, int max_parts);
source_rows *pg_rows_open(source *s, const char *snapshot, bool *transient);
source_rows_result pg_rows_read(source_rows *r, const src_table *t, int part, int nparts,
                                int64_t stall_ms, const source_rows_sink *sink);
void pg_rows_close(source_rows *r);

/* pg_sequences.c's entry. */
bool pg_read_sequences(source *s, const char *snapshot, const strlist *schemas, sequence_value **out,
                       size_t *n);

#endif
