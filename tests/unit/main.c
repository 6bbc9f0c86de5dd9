#include "testlib.h"

#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct test_case {
    const char *name;
    test_fn fn;
    const char *file;
} test_case;

static test_case *tests;
static size_t ntests, cap;
static bool current_failed;
static strlist tmpdirs;

void test_register(const char *name, test_fn fn, const char *file)
{
    if (ntests == cap) {
        cap = cap ? cap * 2 : 64;
        tests = realloc(tests, cap * sizeof *tests);
    }
    tests[ntests++] = (test_case){name, fn, file};
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("#   %s:%d: ", file, line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    current_failed = true;
}

char *test_tmpdir(void)
{
    char tmpl[] = "/tmp/voyager-unit.XXXXXX";
    char *d = mkdtemp(tmpl);
    if (!d)
        return NULL;
    strlist_push(&tmpdirs, d);
    return xstrdup(d);
}

static char *log_path;
static log_level log_was;

void test_log_begin(int level)
{
    char *dir = test_tmpdir();
    log_path = dir ? xasprintf("%s/t.log", dir) : NULL;
    free(dir);
    log_was = log_get_level();
    log_set_level((log_level)level);
    if (!log_path || !log_open_file(log_path))
        test_fail(__FILE__, __LINE__, "cannot open a log file to capture");
}

char *test_log_end(void)
{
    log_close();
    log_set_level(log_was);
    char *txt = NULL;
    size_t len = 0;
    if (log_path && !fs_read_all(log_path, &txt, &len))
        txt = NULL;
    free(log_path);
    log_path = NULL;
    return txt;
}

static int by_file(const void *a, const void *b)
{
    const test_case *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : (x < y ? -1 : 1);
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    /* Constructors run in link order; sort by file for a stable report. */
    qsort(tests, ntests, sizeof *tests, by_file);
    log_set_level(LOG_ERROR);
    log_set_stderr_quiet(getenv("UNIT_VERBOSE") == NULL);
    int passed = 0, failed = 0;
    for (size_t i = 0; i < ntests; i++) {
        if (filter && !strstr(tests[i].name, filter) && !strstr(tests[i].file, filter))
            continue;
        /* live_* tests need a running cluster: tests/integration/test_connection.sh runs them. */
        if (strncmp(tests[i].name, "live_", 5) == 0 && !getenv("VOYAGER_TEST_PORT"))
            continue;
        /* mysql_server_* tests need a MariaDB server: tests/integration/test_mysql_*.sh run them. */
        if (strncmp(tests[i].name, "mysql_server_", 13) == 0 && !getenv("VOYAGER_TEST_MYSQL_PORT"))
            continue;
        current_failed = false;
        tests[i].fn();
        if (current_failed) {
            failed++;
            printf("not ok %d - %s\n", passed + failed, tests[i].name);
        } else {
            passed++;
            printf("ok %d - %s\n", passed + failed, tests[i].name);
        }
        fflush(stdout);
    }
    for (size_t i = 0; i < tmpdirs.count; i++)
        fs_remove_tree(tmpdirs.items[i]);
    strlist_free(&tmpdirs);
    free(tests);
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
