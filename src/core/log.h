/*
 * Logging: every message goes to the command's log file (logs/yb-voyager-<cmd>.log)
 * with a timestamp; errors and warnings are also printed to stderr as one line,
 * for the operator. Messages are lower-case, with no trailing period.
 *
 * Never pass a password to these functions: the log file is kept after the run.
 * Thread-safe.
 */
#ifndef VOYAGER_CORE_LOG_H
#define VOYAGER_CORE_LOG_H

#include <stdbool.h>

typedef enum log_level {
    LOG_TRACE = 0,
    LOG_DEBUG,
    LOG_INFO,
    LOG_WARN,
    LOG_ERROR,
} log_level;

bool log_level_parse(const char *s, log_level *out);
/* Set the minimum level written to the log file (stderr always gets warn+). */
void log_set_level(log_level lvl);
log_level log_get_level(void);
/* Open (append) the log file; before this, messages go to stderr only. */
bool log_open_file(const char *path);
void log_close(void);
/* When quiet, warn/error go to the log file only (used by tests of the logger). */
void log_set_stderr_quiet(bool quiet);

void log_msg(log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_trace(...) log_msg(LOG_TRACE, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
/* A broken invariant: a bug in voyager-c, not an operator error. */
#define log_bug(fmt, ...) log_msg(LOG_ERROR, "BUG: %s:%d: " fmt, __FILE__, __LINE__, ##__VA_ARGS__)

/*
 * An error or warning with its explanation, as PostgreSQL's client tools
 * print them, each on its own line (on stderr and in the log file):
 *   error: <what failed>
 *   detail: <what was found that explains it>      (left out when NULL)
 *   hint: <what the operator should do about it>   (left out when NULL)
 * Prefer this to advice glued onto the message with "; run ...".
 */
void log_report(log_level lvl, const char *detail, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Print an informational line to stdout and log it at info level. */
void log_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
