#include "core/fd_limit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/*
 * Linux's default fs.nr_open: setrlimit refuses more, and an unbounded hard
 * limit would otherwise be asked for as is.
 */
#define FD_LIMIT_CAP ((rlim_t)1 << 20)

/* Set before logging exists (main's first step), logged by the command later. */
static char note[160];

void fd_limit_raise(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(note, sizeof note, "open file limit: getrlimit failed: %s", strerror(errno));
        return;
    }
    rlim_t want = rl.rlim_max;
    if (want == RLIM_INFINITY || want > FD_LIMIT_CAP)
        want = FD_LIMIT_CAP;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= want) {
        snprintf(note, sizeof note, "open file limit: %llu (hard limit %llu)",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
        return;
    }
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(note, sizeof note, "open file limit: kept %llu, raising it to %llu failed: %s",
                 (unsigned long long)was, (unsigned long long)want, strerror(errno));
        return;
    }
    snprintf(note, sizeof note, "open file limit raised from %llu to %llu",
             (unsigned long long)was, (unsigned long long)want);
}

const char *fd_limit_note(void)
{
    return note;
}
