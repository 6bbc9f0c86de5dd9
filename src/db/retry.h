/*
 * The one retry policy of every loop that talks to a database: how long to
 * keep trying (a deadline counted from the first failure of a run of
 * failures), exponential backoff with jitter between attempts, and which
 * errors are transient (worth another attempt, on a new connection when the
 * old one broke). Snapshot import, change apply, the change stream and schema
 * import all use it, so a fault is survived the same way everywhere.
 */
#ifndef VOYAGER_DB_RETRY_H
#define VOYAGER_DB_RETRY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* Environment variable: seconds a run of failures may last before giving up. */
#define RETRY_TIMEOUT_ENV "YB_VOYAGER_RETRY_TIMEOUT"
#define RETRY_TIMEOUT_DEFAULT_S 600

typedef struct retry_policy {
    int64_t deadline_ms; /* give up once a run of failures has lasted this long */
    int max_attempts;    /* and after this many failed attempts in a row; 0: no limit */
    int initial_ms;      /* backoff before the second attempt */
    int max_ms;          /* backoff cap */
} retry_policy;

/*
 * The default policy: deadline from $YB_VOYAGER_RETRY_TIMEOUT (seconds,
 * default 600), no attempt limit, backoff 200 ms doubling to 10 s.
 */
retry_policy retry_policy_default(void);

/* A run of attempts under a policy. Zero-initialise, or retry_init(). */
typedef struct retry_state {
    retry_policy policy;
    int attempt;              /* failed attempts in this run */
    int64_t first_failure_ms; /* monotonic time of the run's first failure */
} retry_state;

void retry_init(retry_state *s, const retry_policy *p);

/*
 * Record a failed attempt; true when one more is allowed (call
 * retry_backoff() first), false when the deadline or the attempt limit is
 * reached.
 */
bool retry_failed(retry_state *s);

/* Success: the next failure starts a new run. */
void retry_reset(retry_state *s);

/* Milliseconds since the run's first failure (0 when none). */
int64_t retry_elapsed_ms(const retry_state *s);

/* The backoff before the next attempt, jitter included (ms). */
int retry_delay_ms(const retry_state *s);

/*
 * Sleep the backoff; returns early (false) when *interrupt becomes non-zero
 * (may be NULL).
 */
bool retry_backoff(const retry_state *s, const volatile sig_atomic_t *interrupt);

/*
 * Is this error transient (worth another attempt after a backoff, on a new
 * connection if the old one is broken)? Connection loss, serialization
 * failure, deadlock, admin shutdown, too many connections, and YugabyteDB's
 * restart-read / conflict / timeout errors (reported as XX000).
 */
bool pg_error_is_retryable(const char *sqlstate, const char *message, bool connection_bad);

#endif
