/*
 * Decoder of PostgreSQL's built-in logical decoding plugin output (pgoutput,
 * protocol version 1): the payload of one XLogData message in, one decoded
 * message out. Pure: no I/O, no allocation for tuples (values point into the
 * input buffer, with explicit lengths, so any byte sequence is carried as is).
 *
 * Relation messages are copied (pgo_relation owns its strings) because they
 * must outlive the buffer: the exporter keeps them in a cache by relation OID.
 */
#ifndef VOYAGER_DB_REPLICATION_PGOUTPUT_H
#define VOYAGER_DB_REPLICATION_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum pgo_kind {
    PGO_BEGIN = 'B',
    PGO_COMMIT = 'C',
    PGO_ORIGIN = 'O',
    PGO_RELATION = 'R',
    PGO_TYPE = 'Y',
    PGO_INSERT = 'I',
    PGO_UPDATE = 'U',
    PGO_DELETE = 'D',
    PGO_TRUNCATE = 'T',
    PGO_MESSAGE = 'M',
} pgo_kind;

/* One column of a tuple: 'n' null, 'u' unchanged TOAST (value not sent), 't' text. */
typedef struct pgo_value {
    char kind;
    const char *data; /* into the input buffer; not NUL-terminated */
    uint32_t len;
} pgo_value;

typedef struct pgo_tuple {
    uint16_t natts;
    pgo_value *values; /* owned by the pgo_msg (pgo_msg_clear) */
} pgo_tuple;

typedef struct pgo_column {
    char *name;
    uint32_t type_oid;
    int32_t typmod;
    bool is_key; /* part of the replica identity (flags bit 1) */
} pgo_column;

typedef struct pgo_relation {
    uint32_t relid;
    char *nspname;
    char *relname;
    char replident; /* 'd' default, 'n' nothing, 'f' full, 'i' index */
    uint16_t natts;
    pgo_column *columns;
} pgo_relation;

typedef struct pgo_msg {
    pgo_kind kind;
    uint64_t lsn;        /* begin: final (commit) LSN; commit: commit LSN; origin: origin LSN */
    uint64_t end_lsn;    /* commit: end of the commit record */
    int64_t timestamp;   /* begin/commit: microseconds since 2000-01-01 */
    uint32_t xid;        /* begin */
    uint32_t relid;      /* insert/update/delete */
    char old_kind;       /* update/delete: 'K' key only, 'O' whole old row, 0 none */
    pgo_tuple old_tuple; /* update/delete */
    pgo_tuple new_tuple; /* insert/update */
    pgo_relation relation; /* relation: owned copy (pgo_relation_clear), or moved out */
    uint32_t ntruncate;
    uint32_t *truncate_relids; /* owned */
    uint8_t truncate_flags;    /* 1 cascade, 2 restart identity */
    const char *name;          /* origin / type name, into the buffer (NUL-terminated there) */
} pgo_msg;

/*
 * Decode buf[0..len). On malformed input returns false and sets *err to a
 * static description. Every successful call must be paired with pgo_msg_clear.
 */
bool pgo_decode(const char *buf, size_t len, pgo_msg *out, const char **err);
void pgo_msg_clear(pgo_msg *m);
void pgo_relation_clear(pgo_relation *r);

#endif
