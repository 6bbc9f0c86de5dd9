/*
 * Changes from a MySQL/MariaDB binary log (ROW format, FULL row images), read as a replica with
 * libmariadb's binlog API (mariadb_rpl.h) and decoded into neutral rows: table, operation,
 * before/after column values as text (NULLs kept), grouped by committed transaction and handed
 * to a callback with the transaction's commit position (binlog file:position, GTID).
 *
 * Row values are decoded here, not by libmariadb (its mariadb_rpl_extract_rows() of Connector/C
 * 3.3 refuses TINYINT, BIGINT, DATE, YEAR, ENUM, SET and CHAR columns and gets negative TIME
 * wrong). Column names, signedness and enum/set members come from the catalog read before the
 * stream starts (source/mysql/mysql_catalog.h): a binlog with binlog_row_metadata=MINIMAL (the
 * default) does not carry them. Rows are matched to the catalog's columns by position: a table
 * whose column count, column types or type metadata (widths, scales, fractional digits) differ
 * from the catalog's (a DDL while streaming) stops the stream.
 * A two-phase XA transaction (its rows in the XA PREPARE group, its commit later) on a captured
 * table stops the stream too: its rows are not handed on as a transaction (see mysql_binlog.c).
 * TRUNCATE TABLE of a captured table is handed on as a transaction of one TRUNCATE row.
 * A row image without every column (binlog_row_image MINIMAL or NOBLOB in a session) stops it.
 *
 * Text forms: integers and decimals in decimal; FLOAT and DOUBLE in the shortest %g form that
 * reads back to the same binary value (at most 9 / 17 digits); DATE "YYYY-MM-DD", TIME "[-]HH:MM:SS[.f]",
 * DATETIME "YYYY-MM-DD HH:MM:SS[.f]" (f: the column's fractional digits), TIMESTAMP the same in
 * UTC; YEAR "YYYY"; BIT as binary digits of the column's width ("00101"); ENUM its member; SET
 * its members joined by ","; strings and blobs their bytes (len gives the length).
 */
#ifndef VOYAGER_SOURCE_MYSQL_MYSQL_BINLOG_H
#define VOYAGER_SOURCE_MYSQL_MYSQL_BINLOG_H

#include "source/mysql/mysql_catalog.h"
#include "source/mysql/mysql_conn.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* A point in the binary log: the file and the offset of the next event; the last GTID seen. */
typedef struct mysql_binlog_pos {
    char file[256];
    unsigned long long offset;
    char gtid[64]; /* "domain-server-sequence" of the transaction ending here, "" when unknown */
} mysql_binlog_pos;

/* Order of positions in one server's binlog (file names sort by their sequence number). */
int mysql_binlog_pos_cmp(const mysql_binlog_pos *a, const mysql_binlog_pos *b);

typedef struct mysql_binlog_value {
    char *data;  /* NUL-terminated; NULL when is_null */
    size_t len;
    bool is_null;
} mysql_binlog_value;

/* TRUNCATE: the table emptied (TRUNCATE TABLE of a captured table, its own transaction); no images. */
typedef enum mysql_binlog_op {
    MYSQL_BINLOG_INSERT = 'I',
    MYSQL_BINLOG_UPDATE = 'U',
    MYSQL_BINLOG_DELETE = 'D',
    MYSQL_BINLOG_TRUNCATE = 'T'
} mysql_binlog_op;

typedef struct mysql_binlog_row {
    mysql_binlog_op op;
    const mysql_table *table;   /* the catalog's table (column names, types) */
    size_t ncols;               /* = table->ncolumns */
    mysql_binlog_value *before; /* UPDATE and DELETE: ncols values, else NULL */
    mysql_binlog_value *after;  /* INSERT and UPDATE: ncols values, else NULL (TRUNCATE: both NULL) */
} mysql_binlog_row;

typedef struct mysql_binlog_txn {
    mysql_binlog_pos commit; /* where the stream resumes to get the transactions after this one */
    mysql_binlog_row *rows;
    size_t nrows;
} mysql_binlog_txn;

/* Called once per committed transaction that changed a table of the catalog. Return false to stop. */
typedef bool (*mysql_binlog_txn_fn)(void *arg, const mysql_binlog_txn *txn);

typedef struct mysql_binlog_opts {
    const mysql_catalog *catalog; /* the tables to capture (the catalog's database); others are skipped */
    mysql_binlog_pos start;       /* resume here (a commit position given to the callback, or the
                                     snapshot's position); offset 4 is a file's first event */
    unsigned int server_id;       /* this replica's id, distinct from every server's (0: 0x766f7961) */
    bool stop_at_end;             /* stop at the end of the binlog instead of waiting for more */
    const volatile sig_atomic_t *interrupt; /* checked between events (NULL: none) */
    /*
     * Waiting for events, the server sends a heartbeat after this much silence (0: none): a
     * reader that hears nothing for longer knows the server (or the network) is gone.
     */
    unsigned int heartbeat_ms;
    /*
     * Called per heartbeat (between transactions): at is where the stream is, every transaction
     * committed before it has been handed to fn. Same arg as fn. Return false to stop.
     */
    bool (*idle)(void *arg, const mysql_binlog_pos *at);
    /*
     * Not NULL: a broken connection (server gone or restarted, the stream cut, the socket shut
     * down by mariadb_cancel) is not logged but described here in one line (lost_size bytes),
     * and the stream returns false; other failures are logged as ever (lost left "").
     */
    char *lost;
    size_t lost_size;
} mysql_binlog_opts;

/*
 * Stream from o->start on c (a connection of its own: it becomes a replication connection),
 * calling fn per committed transaction. Sets the session variables a MariaDB primary needs
 * (@master_binlog_checksum, @mariadb_slave_capability). True when stopped by fn, by the interrupt
 * or (stop_at_end) at the end of the binlog; false after logging an error.
 */
bool mysql_binlog_stream(mysql_conn *c, const mysql_binlog_opts *o, mysql_binlog_txn_fn fn, void *arg);

/*
 * The stream's reading of a failure with mysql_errno e (0: the server ended the stream): a
 * broken connection (mysql_errno_lost: a new one may mend it) is described in o->lost from fmt
 * (true); anything else is not one to ride out (false, o->lost untouched), nor is any failure
 * when o->lost is NULL.
 */
bool mysql_binlog_note_lost(const mysql_binlog_opts *o, unsigned int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The server's current end of the binlog (SHOW MASTER STATUS, @@gtid_binlog_pos). Logs and false on error. */
bool mysql_binlog_current(mysql_conn *c, mysql_binlog_pos *out);

#endif
