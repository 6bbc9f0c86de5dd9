/*
 * A consistent point of a live migration, for compare data: the source read
 * in a snapshot S and each importer's database read exactly when every queued
 * event of the transactions S sees, and no other, is applied. Three parties
 * cooperate through two meta.db tables:
 *
 *   compare data              importer (target / source-replica)   source exporter
 *   1 asks each importer to pause  -> drains its channels, holds at its read vsn R
 *   2 takes S and L = insert LSN in S
 *   3 asks the exporter for L, S   ----------------------------->  once its stream passed L:
 *                                  vsn V = last event of the commits before L, or "retry"
 *                                  when one of them is not visible in S (it committed
 *                                  while S was taken: then 2 again, importers still held)
 *   4 V >= R: asks each importer to advance to V -> applies up to V, drains, holds
 *   5 takes the importers' databases' snapshots, releases them.
 *
 * Only commits streamed by the running exporter are known (a ring of the last
 * CP_RING commits); a transaction that stayed invisible for longer than that
 * many later commits would be missed (documented in docs/DECISIONS.md).
 * An importer whose requester died (pid gone) releases itself.
 */
#ifndef VOYAGER_CDC_CONSISTENT_POINT_H
#define VOYAGER_CDC_CONSISTENT_POINT_H

#include "catalog/catalog.h"

#include <signal.h>

#include <stdbool.h>
#include <stdint.h>

#define CP_RING 65536

/* ---- exporter side ---- */
typedef struct cp_commit {
    uint32_t xid;
    uint64_t commit_lsn;
    int64_t first_vsn; /* vsn of its first event (its events: first_vsn .. next's first_vsn - 1) */
} cp_commit;

typedef struct cp_exporter {
    cp_commit *ring;
    size_t n, head; /* entries, next slot */
    int64_t last_poll_ms;
    bool pending;   /* a request is waiting for the stream to pass its LSN */
} cp_exporter;

void cp_exporter_init(cp_exporter *e);
void cp_exporter_free(cp_exporter *e);
/* A transaction the exporter queued: xid, commit LSN, vsn its first event took. */
void cp_exporter_commit(cp_exporter *e, uint32_t xid, uint64_t commit_lsn, int64_t first_vsn);
/*
 * Answer a pending request when the stream has passed its LSN: idle_lsn is a
 * position every commit before which is queued (keepalive end while no
 * transaction is open), or 0; next_vsn the vsn the next event gets. Cheap
 * when called often (polls meta.db every 200 ms). Returns true when a request
 * waits (the caller asks the server for keepalives meanwhile).
 */
bool cp_exporter_poll(cp_exporter *e, catalog *m, uint64_t idle_lsn, int64_t next_vsn);

/* ---- importer side ---- */
typedef struct cp_importer {
    const char *role;
    int64_t last_poll_ms;
    int64_t advance_to; /* -1: no request seen */
    bool requested;
} cp_importer;

void cp_importer_init(cp_importer *h, const char *role);
/*
 * Before consuming the event with vsn next_vsn (0: the queue is idle), with
 * read_vsn the last consumed: holds here while asked to (calling drain first,
 * which must commit everything dispatched). False when drain failed.
 */
typedef bool (*cp_drain_fn)(void *arg);
bool cp_importer_check(cp_importer *h, catalog *m, int64_t next_vsn, int64_t read_vsn, cp_drain_fn drain,
                       void *arg, const volatile sig_atomic_t *interrupted);

/* ---- compare data's side ---- */
/* Ask the importer role to pause; wait up to timeout_ms for it. *held: its vsn. False: it did not. */
bool cp_pause(catalog *m, const char *role, int timeout_ms, int64_t *held);
/*
 * Ask the exporter for the point of (lsn, snapshot text of txid_current_snapshot()); snapshot ""
 * when lsn is exactly the snapshot's position (MySQL: every commit before it is visible, none
 * after), so no commit's visibility is checked.
 */
typedef enum cp_answer { CP_ANSWERED, CP_RETRY, CP_NO_ANSWER } cp_answer;
cp_answer cp_ask_exporter(catalog *m, uint64_t lsn, const char *snapshot, int timeout_ms, int64_t *vsn);
/* Ask the paused importer to apply up to vsn and hold there; false when it did not in time. */
bool cp_advance(catalog *m, const char *role, int64_t vsn, int timeout_ms);
/* Let the importer go on. */
void cp_release(catalog *m, const char *role);

#endif
