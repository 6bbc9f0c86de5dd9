/* The retry policy: deadline, attempt limit, backoff growth and cap, environment. */
#include "testlib.h"

#include "db/retry.h"

#include <stdlib.h>
#include <time.h>

TEST(retry_attempt_limit_and_reset)
{
    retry_policy p = {.deadline_ms = 60000, .max_attempts = 3, .initial_ms = 1, .max_ms = 4};
    retry_state s;
    retry_init(&s, &p);
    CHECK(retry_failed(&s));
    CHECK(retry_failed(&s));
    CHECK(!retry_failed(&s)); /* the third failure in a row is the last */
    retry_reset(&s);
    CHECK_INT_EQ(retry_elapsed_ms(&s), 0);
    CHECK(retry_failed(&s)); /* a new run after a success */
}

TEST(retry_deadline_ends_a_run)
{
    retry_policy p = {.deadline_ms = 0, .max_attempts = 0, .initial_ms = 1, .max_ms = 1};
    retry_state s;
    retry_init(&s, &p);
    CHECK(!retry_failed(&s)); /* no time at all: the first failure is final */
    p.deadline_ms = 50;
    retry_init(&s, &p);
    CHECK(retry_failed(&s));
    CHECK(retry_backoff(&s, NULL));
    struct timespec ts = {0, 60 * 1000000L};
    nanosleep(&ts, NULL);
    CHECK(!retry_failed(&s));
}

TEST(retry_backoff_doubles_up_to_the_cap_with_jitter)
{
    retry_policy p = {.deadline_ms = 60000, .initial_ms = 100, .max_ms = 1000};
    retry_state s;
    retry_init(&s, &p);
    CHECK(retry_failed(&s));
    int d1 = retry_delay_ms(&s);
    CHECK(d1 >= 100 && d1 <= 150);
    CHECK(retry_failed(&s));
    int d2 = retry_delay_ms(&s);
    CHECK(d2 >= 200 && d2 <= 300);
    for (int i = 0; i < 20; i++)
        CHECK(retry_failed(&s));
    int dn = retry_delay_ms(&s);
    CHECK(dn >= 1000 && dn <= 1500);
}

TEST(retry_backoff_stops_on_interrupt)
{
    retry_policy p = {.deadline_ms = 60000, .initial_ms = 5000, .max_ms = 5000};
    retry_state s;
    retry_init(&s, &p);
    CHECK(retry_failed(&s));
    volatile sig_atomic_t stop = 1;
    CHECK(!retry_backoff(&s, &stop));
}

TEST(retry_default_deadline_from_environment)
{
    const char *old = getenv(RETRY_TIMEOUT_ENV);
    char *saved = old ? strdup(old) : NULL;
    unsetenv(RETRY_TIMEOUT_ENV);
    CHECK_INT_EQ(retry_policy_default().deadline_ms, RETRY_TIMEOUT_DEFAULT_S * 1000LL);
    setenv(RETRY_TIMEOUT_ENV, "7", 1);
    CHECK_INT_EQ(retry_policy_default().deadline_ms, 7000);
    setenv(RETRY_TIMEOUT_ENV, "junk", 1);
    CHECK_INT_EQ(retry_policy_default().deadline_ms, RETRY_TIMEOUT_DEFAULT_S * 1000LL);
    if (saved) {
        setenv(RETRY_TIMEOUT_ENV, saved, 1);
        free(saved);
    } else {
        unsetenv(RETRY_TIMEOUT_ENV);
    }
}
