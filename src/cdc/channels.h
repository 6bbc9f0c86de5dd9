/*
 * The apply channels: N worker threads, each with its own connection, each
 * applying the events routed to it in order, in batches (one transaction per
 * batch, with the channel's progress). The reader thread routes events with
 * cdc_route() and hands them over with channels_dispatch().
 *
 * Ordering rules: events of one row go to one channel (hash of table and
 * primary key), so they stay in order. An event carrying deps (cdc_item.deps,
 * from cdc/conflicts.h) is not applied before each named channel has
 * committed the named vsn. Updates that change the primary key move a row to
 * another channel: the reader serialises them with channels_drain() before
 * and after (rare, and simple to prove right).
 */
#ifndef VOYAGER_CDC_CHANNELS_H
#define VOYAGER_CDC_CHANNELS_H

#include "cdc/apply.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * Channel of an event among n: hash of schema, table and primary-key values
 * (a table without a primary key goes to one channel as a whole, so its rows
 * need no identity for ordering); hash of table_meta.route_group alone when
 * the table has one.
 */
int cdc_route(const cdc_item *it, int n);

/* Does this update change the row's primary key (so its later events route elsewhere)? */
bool cdc_changes_key(const cdc_item *it);

typedef struct channel_set channel_set;

/*
 * Where a channel whose connection broke connects when its own server does not
 * take it back (YugabyteDB: another node of the cluster). Called from the
 * channel's thread: must be thread-safe. Moves the session s to the new
 * server; false when none answered.
 */
typedef struct channel_reconnect {
    bool (*connect)(void *arg, writer_session *s, int channel_no);
    void *arg;
} channel_reconnect;

/*
 * Start n workers. conns: n writer sessions, owned by the set from now on
 * (closed here when the start fails). batch_max: events per transaction at most.
 * reconnect: NULL, or how a channel moves off a server that went away (kept
 * by the caller until channels_stop()). NULL after a logged error when a
 * worker thread cannot be started.
 */
channel_set *channels_start(writer_session **conns, int n, const char *migration_uuid, int batch_max,
                            const channel_reconnect *reconnect);

/*
 * Hand it to channel ch, which owns it from then on, failed or not (blocks
 * while that channel's share of the memory bound is full; an event larger
 * than the share waits until no channel holds anything, and the call returns
 * once it is applied). False when the set failed or was stopped.
 */
bool channels_dispatch(channel_set *s, int ch, cdc_item *it);

/* Wait until everything dispatched is committed. False when the set failed or was stopped. */
bool channels_drain(channel_set *s);

/* Highest vsn committed by channel ch (this run or before). Thread-safe. */
int64_t channels_committed(channel_set *s, int ch);
/* Seed channel ch's committed vsn (its last_applied_vsn when the run starts). */
void channels_set_committed(channel_set *s, int ch, int64_t vsn);
/*
 * The reader is past vsn: every event up to it was dispatched (channels_dispatch
 * returned) or dropped. Idle channels record their progress there
 * (writer_ops.apply_progress) so that a restart need not read the queue from
 * the last batch of the least busy channel. Thread-safe.
 */
void channels_note_read(channel_set *s, int64_t vsn);

/*
 * Every dispatched event with vsn <= the result is committed; read_vsn is the
 * highest vsn the reader has consumed (dispatched or skipped).
 */
int64_t channels_low_watermark(channel_set *s, int64_t read_vsn);

/* Events committed in this run. */
int64_t channels_applied(channel_set *s);

/* What the channels' writers reported, summed (writer_session's counters). */
typedef struct apply_counts {
    int64_t zero_row_changes; /* updates/deletes that found no row */
    int64_t merged_events;    /* events applied through multi-row statements */
    int64_t folded_into_inserts; /* updates folded into their row's insert */
    int64_t folded_into_updates; /* updates folded into their row's update before them */
} apply_counts;
apply_counts channels_counts(channel_set *s);

/*
 * Did every connection take session_replication_role = replica at start?
 * When not (logged once, with the GRANT to run), foreign keys are checked as
 * changes apply.
 */
bool channels_replica_role(channel_set *s);

/* A worker hit a non-retryable error (already logged) or gave up retrying. */
bool channels_failed(channel_set *s);
/*
 * The failure is one a rerun of the same command goes past: the database was
 * unreachable for longer than the retry policy allows, or it lost commits
 * this process had seen (its progress went backwards). Logged already.
 */
bool channels_resumable(channel_set *s);

/*
 * Stop: workers finish the batch in hand (queued events are dropped: they are
 * not committed, so a restart applies them), then exit. Joins, closes the
 * connections and frees the set.
 */
void channels_stop(channel_set *s);

#endif
