/*
 * Minimal unit-test runner: TEST(name) registers a test; CHECK* fail it and
 * return. tests/unit/main.c prints TAP-style lines and "N passed, N failed".
 * Tests run in one process, in file order; each must free what it allocates
 * (the suite also runs under AddressSanitizer with leak detection).
 */
#ifndef VOYAGER_TESTS_TESTLIB_H
#define VOYAGER_TESTS_TESTLIB_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn, const char *file);
void test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A fresh temporary directory for this test (removed after the run). Caller frees. */
char *test_tmpdir(void);
/*
 * Capture the log: from test_log_begin, lines of level and above go to a file
 * of their own (not the terminal's stderr filter); test_log_end closes it,
 * restores the level and returns what was written (caller frees; NULL when
 * unreadable).
 */
void test_log_begin(int level);
char *test_log_end(void);

#define TEST(name)                                                                                 \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void register_##name(void)                                 \
    {                                                                                              \
        test_register(#name, name, __FILE__);                                                      \
    }                                                                                              \
    static void name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                     \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_);               \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,                    \
                      a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                     \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#endif
