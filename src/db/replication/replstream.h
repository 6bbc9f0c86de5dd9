/*
 * Logical replication over a libpq `replication=database` connection: slot
 * creation (optionally with an exported snapshot), START_REPLICATION of a
 * pgoutput slot, receiving CopyData (XLogData and primary keepalive) and
 * sending standby status updates. The connection itself is a pgconn opened
 * by the caller with pgconn_options.replication = "database".
 */
#ifndef VOYAGER_DB_REPLICATION_REPLSTREAM_H
#define VOYAGER_DB_REPLICATION_REPLSTREAM_H

#include "db/pgconn.h"

#include <stdbool.h>
#include <stdint.h>

/* "X/Y" text form of an LSN into buf (at least 20 bytes); returns buf. */
char *lsn_format(uint64_t lsn, char *buf);
bool lsn_parse(const char *s, uint64_t *out);

/*
 * CREATE_REPLICATION_SLOT slot LOGICAL pgoutput, exporting a snapshot when
 * export_snapshot (the connection must then stay open, and run nothing else,
 * while the snapshot is in use). *snapshot_name (caller frees) is NULL
 * without export. *consistent_lsn gets the slot's consistent point.
 */
bool repl_create_slot(pgconn *c, const char *slot, bool export_snapshot, char **snapshot_name,
                      uint64_t *consistent_lsn);

/*
 * Drop replication slot `slot` over the normal connection c (the one
 * implementation of every slot drop: the change exporter's at cutover and on
 * --start-clean, end migration's). The walsender of a killed process may hold
 * the slot a little longer: this waits up to 10 s for it to go, after ending
 * it first when terminate_active (only when no voyager process can be using
 * the slot). True when the slot is gone (*dropped: by this call; false when
 * it did not exist); false after a logged error (still in use: c->sqlstate
 * 55006, a warning when c->retries; or the drop failed).
 */
bool repl_drop_slot(pgconn *c, const char *slot, bool terminate_active, bool *dropped);

/*
 * START_REPLICATION SLOT slot LOGICAL start (proto_version '1', publication_names 'pub').
 * Logs nothing: on failure c->sqlstate tells why (55006: the slot is in use by
 * another process), c->last_error_retryable whether to try again, and err
 * (errlen bytes) gets the server's message for the caller to report.
 */
bool repl_start(pgconn *c, const char *slot, uint64_t start, const char *publication, char *err,
                size_t errlen);

typedef enum repl_kind {
    REPL_NONE = 0,  /* nothing within the timeout */
    REPL_XLOGDATA,  /* data/len: one pgoutput message */
    REPL_KEEPALIVE, /* reply_requested: answer now */
    REPL_END,       /* the server ended the stream (error/retryable tell why) */
    REPL_ERROR,     /* not logged: see repl_stream.error */
} repl_kind;

typedef struct repl_msg {
    repl_kind kind;
    uint64_t wal_start;
    uint64_t wal_end;
    bool reply_requested;
    const char *data; /* into the receive buffer; valid until the next repl_receive */
    size_t len;
} repl_msg;

typedef struct repl_stream {
    pgconn *conn;
    char *buf; /* libpq's buffer of the last message (PQfreemem) */
    /*
     * Of the last REPL_ERROR / REPL_END or failed status update: what went
     * wrong, and whether a new connection may do better (connection lost,
     * walsender terminated, server shutting down). The caller reports it: as
     * a warning when it reconnects, as an error when it gives up.
     */
    char error[512];
    bool retryable;
} repl_stream;

/*
 * Next message, waiting at most timeout_ms (0: do not wait). The previous
 * message's data is released here.
 */
void repl_receive(repl_stream *s, int timeout_ms, repl_msg *out);
/* Standby status update: written = flushed = applied = lsn. False: see s->error (not logged). */
bool repl_send_status(repl_stream *s, uint64_t lsn, bool reply_requested);
/* Releases the buffer (not the connection). */
void repl_stream_clear(repl_stream *s);

#endif
