#include "db/retry.h"

#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

retry_policy retry_policy_default(void)
{
    retry_policy p = {
        .deadline_ms = (int64_t)RETRY_TIMEOUT_DEFAULT_S * 1000,
        .max_attempts = 0,
        .initial_ms = 200,
        .max_ms = 10000,
    };
    const char *env = getenv(RETRY_TIMEOUT_ENV);
    if (env && *env) {
        char *end = NULL;
        long long s = strtoll(env, &end, 10);
        if (end && *end == '\0' && s >= 0)
            p.deadline_ms = s * 1000;
    }
    return p;
}

void retry_init(retry_state *s, const retry_policy *p)
{
    memset(s, 0, sizeof *s);
    s->policy = *p;
}

bool retry_failed(retry_state *s)
{
    int64_t now = now_monotonic_ms();
    if (s->attempt++ == 0)
        s->first_failure_ms = now;
    if (s->policy.max_attempts > 0 && s->attempt >= s->policy.max_attempts)
        return false;
    return now - s->first_failure_ms < s->policy.deadline_ms;
}

void retry_reset(retry_state *s)
{
    s->attempt = 0;
    s->first_failure_ms = 0;
}

int64_t retry_elapsed_ms(const retry_state *s)
{
    return s->attempt ? now_monotonic_ms() - s->first_failure_ms : 0;
}

int retry_delay_ms(const retry_state *s)
{
    int64_t ms = s->policy.initial_ms > 0 ? s->policy.initial_ms : 1;
    for (int i = 1; i < s->attempt && ms < s->policy.max_ms; i++)
        ms *= 2;
    if (ms > s->policy.max_ms)
        ms = s->policy.max_ms;
    /* jitter: up to half again, so reconnecting workers do not move in step */
    ms += rand() % (ms / 2 + 1);
    return (int)ms;
}

bool retry_backoff(const retry_state *s, const volatile sig_atomic_t *interrupt)
{
    int left = retry_delay_ms(s);
    while (left > 0) {
        if (interrupt && *interrupt)
            return false;
        int step = left < 100 ? left : 100;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        left -= step;
    }
    return !(interrupt && *interrupt);
}

bool pg_error_is_retryable(const char *sqlstate, const char *message, bool connection_bad)
{
    if (connection_bad)
        return true;
    if (!sqlstate || !*sqlstate)
        return false;
    static const char *const retryable[] = {
        "40001", /* serialization_failure: YugabyteDB restart read / conflicts too */
        "40P01", /* deadlock_detected */
        "57P01", /* admin_shutdown */
        "57P02", /* crash_shutdown */
        "57P03", /* cannot_connect_now */
        "53300", /* too_many_connections */
        "55P03", /* lock_not_available */
        "XX000", /* internal: only with the YugabyteDB messages below */
    };
    if (strncmp(sqlstate, "08", 2) == 0) /* connection exceptions */
        return true;
    for (size_t i = 0; i < ARRAY_LEN(retryable); i++) {
        if (strcmp(sqlstate, retryable[i]) != 0)
            continue;
        if (strcmp(sqlstate, "XX000") != 0)
            return true;
        /* YugabyteDB reports these transient tablet errors as internal errors. */
        return message && (strstr(message, "Restart read required") ||
                           strstr(message, "Try again") || strstr(message, "Timed out") ||
                           strstr(message, "Leader not ready") ||
                           strstr(message, "Transaction aborted") ||
                           strstr(message, "expired or aborted by a conflict") ||
                           strstr(message, "conflicts with higher priority transaction") ||
                           strstr(message, "schema version mismatch") ||
                           strstr(message, "Catalog Version Mismatch") ||
                           strstr(message, "Service unavailable") ||
                           strstr(message, "Resource unavailable"));
    }
    return false;
}
