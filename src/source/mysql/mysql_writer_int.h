/*
 * The MySQL/MariaDB writer (source/writer.h) for the way back of a MySQL migration: fall-back
 * (import data to source) and fall-forward (import data to source-replica, a second MySQL or
 * MariaDB server). Its files share this header only:
 *   mysql_writer.c  the ops table (writer_mysql_ops), sessions over mysql_conn (connect under the
 *                   retry policy, session settings, reconnects), the tables' metadata read from
 *                   information_schema, the bookkeeping in the database ybvoyager_metadata
 *                   (InnoDB), AUTO_INCREMENT at cutover
 *   mysql_apply.c   the PostgreSQL text forms of the target's values back to MySQL values, and
 *                   one batch of changes with the channel's progress in one transaction
 *   mysql_load.c    one snapshot batch (PostgreSQL COPY text lines) as multi-row INSERTs with its
 *                   bookkeeping row in one transaction
 *
 * Names. Changes and data files name tables and columns as the target spells them (export schema
 * lower-cased the source's names: mysql_ddl_raw_name) in the target's schema; the writer writes
 * into the database of its connection (--source-db-name / --source-replica-db-name) and finds each
 * table and column whose mysql_ddl_raw_name is the target's name (mtable).
 *
 * Memory: the writer owns nothing beyond its struct; a session owns its connection, its prepared
 * statements and its mtable cache (strmap of the target's table name -> mtable).
 */
#ifndef VOYAGER_SOURCE_MYSQL_MYSQL_WRITER_INT_H
#define VOYAGER_SOURCE_MYSQL_MYSQL_WRITER_INT_H

#include "core/strmap.h"
#include "core/util.h"
#include "source/mysql/mysql_conn.h"
#include "source/writer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct st_mysql_stmt;

#define MYW_META_DB "ybvoyager_metadata"
#define MYW_CHANNELS_TABLE "ybvoyager_import_data_event_channels_metainfo"
#define MYW_COUNTS_TABLE "ybvoyager_imported_event_count_by_table"
#define MYW_BATCHES_TABLE "ybvoyager_import_data_batches_metainfo_v3"
#define MYW_CHANNELS MYW_META_DB "." MYW_CHANNELS_TABLE
#define MYW_COUNTS MYW_META_DB "." MYW_COUNTS_TABLE
#define MYW_BATCHES MYW_META_DB "." MYW_BATCHES_TABLE

/* How a PostgreSQL text value becomes a MySQL parameter, by the MySQL column's type. */
typedef enum mcol_kind {
    MCOL_TEXT = 0,  /* as is: numbers, strings, date, datetime, time, json, enum, set, uuid, inet */
    MCOL_BYTES,     /* bytea text ('\x..' hex or escape form) -> the bytes */
    MCOL_BIT,       /* bit(n) digits -> an unsigned integer */
    MCOL_TIMESTAMP, /* timestamptz text with its offset -> UTC (the session's time_zone) */
    MCOL_INTEGER,   /* integers: as is, but a boolean's t/f -> 1/0 */
    MCOL_YEAR,      /* YEAR: a number (the string '0' would be the year 2000, the number 0 is 0000) */
    MCOL_FLOAT,     /* real: its shortest text may lie past FLT_MAX, its single's exact value not */
} mcol_kind;

typedef struct mcol {
    char *name;   /* MySQL's */
    char *target; /* the target's (mysql_ddl_raw_name) */
    mcol_kind kind;
    bool generated; /* computed by MySQL: never written */
    bool auto_increment;
    bool on_update; /* ON UPDATE CURRENT_TIMESTAMP: an update not naming it would set it to now() */
} mcol;

/* A MySQL table and how the target names it. */
typedef struct mtable {
    char *name;      /* MySQL's */
    char *qualified; /* `db`.`name` */
    mcol *cols;
    size_t ncols;
} mtable;

/* A session: its connection (owned) and what it prepared and looked up. */
typedef struct my_wsession {
    writer_session pub;
    writer *w;
    mysql_conn *c; /* NULL after a reconnect that failed */
    bool lost;     /* the connection broke: reset() before using it again */
    bool apply;    /* set up for a channel (apply_setup) */
    bool loader;   /* set up for loading snapshot batches */
    int channel;
    const char *uuid;
    unsigned int last_errno; /* of the last failure */
    char last_error[512];    /* its message, one line */
    strmap stmts;            /* statement shape -> MYSQL_STMT * */
    strmap tables;           /* target table name -> mtable * */
    int64_t zero_row_changes;
} my_wsession;

static inline my_wsession *my_ws(writer_session *s) { return (my_wsession *)s->impl; }

/* mysql_writer.c */
/* The table the target calls target_table, looked up once per session; NULL after logging. */
const mtable *myw_table(my_wsession *s, const char *target_table, bool quiet);
/* The column of t the target calls target, or NULL. */
const mcol *myw_col(const mtable *t, const char *target);
/* Record the failure of the connection's last call (or of st when not NULL) in s. */
void myw_note_failure(my_wsession *s, struct st_mysql_stmt *st);
/* Close every cached statement (after a reconnect, or when too many). */
void myw_forget_statements(my_wsession *s);
/* Run sql on s (no result), recording a failure in s; quiet: not logged. */
bool myw_exec(my_wsession *s, const char *sql, bool quiet);
/* ROLLBACK when the connection is up (the failure already recorded stays). */
void myw_rollback(my_wsession *s);

/* mysql_apply.c */
/*
 * One PostgreSQL text value as a MySQL parameter of a column of kind k: *out gets the bytes to
 * bind (owned by out), *is_int / *ival an integer to bind instead (BIT). False with *why (static
 * text) when the value has no MySQL form.
 */
bool myw_convert(mcol_kind k, const char *v, size_t len, strbuf *out, bool *is_int, uint64_t *ival,
                 const char **why);
/* writer_ops.apply_batch (its contract). */
bool myw_apply_batch(my_wsession *s, int64_t after_vsn, writer_item **items, size_t n,
                     writer_item **failed, strbuf *err);
/* writer_ops.apply_progress (its contract). */
bool myw_apply_progress(my_wsession *s, int64_t after_vsn, int64_t vsn);

/* mysql_load.c: writer_ops' entries of the same names (their contracts). */
char *myw_load_statement(writer *w, const char *schema, const char *table, const char *columns_json);
writer_load_result myw_load_batch(writer_session *s, const char *uuid, const writer_batch *b,
                                  int64_t copy_cap, char *buf, char **why);
int myw_batch_committed(writer_session *s, const char *uuid, const writer_batch *b);

#endif
