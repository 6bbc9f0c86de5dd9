#include "core/log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
static log_level min_level = LOG_INFO;
static bool stderr_quiet;

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error"};

bool log_level_parse(const char *s, log_level *out)
{
    for (int i = 0; i <= LOG_ERROR; i++)
        if (s && strcasecmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return true;
        }
    if (s && strcasecmp(s, "warning") == 0) {
        *out = LOG_WARN;
        return true;
    }
    return false;
}

void log_set_level(log_level lvl) { min_level = lvl; }
log_level log_get_level(void) { return min_level; }
void log_set_stderr_quiet(bool quiet) { stderr_quiet = quiet; }

bool log_open_file(const char *path)
{
    /* logs name tables, hosts and users, and quote failed rows: 0600 like the data */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        (void)fchmod(fd, st.st_mode & 0700); /* a log left by an older version */
    FILE *f = fdopen(fd, "a");
    if (!f) {
        close(fd);
        return false;
    }
    pthread_mutex_lock(&log_mutex);
    if (log_file)
        fclose(log_file);
    log_file = f;
    pthread_mutex_unlock(&log_mutex);
    return true;
}

void log_close(void)
{
    pthread_mutex_lock(&log_mutex);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    pthread_mutex_unlock(&log_mutex);
}

/* One line to the log file; the caller holds log_mutex. */
static void file_line(log_level lvl, const char *label, const char *msg)
{
    if (!log_file || lvl < min_level)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(log_file, "%s.%03ld [%d] %s: %s\n", ts, (long)(tv.tv_usec / 1000), (int)getpid(), label,
            msg);
}

static void log_vwrite(log_level lvl, const char *detail, const char *hint, const char *fmt,
                       va_list ap, bool to_stdout)
{
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);

    /* one lock for the message and its follow-up lines: other threads do not split them */
    pthread_mutex_lock(&log_mutex);
    file_line(lvl, level_names[lvl], msg);
    if (detail)
        file_line(lvl, "detail", detail);
    if (hint)
        file_line(lvl, "hint", hint);
    if (log_file)
        fflush(log_file);
    if (to_stdout) {
        printf("%s\n", msg);
        fflush(stdout);
    } else if (lvl >= LOG_WARN && !stderr_quiet) {
        fprintf(stderr, "%s: %s\n", lvl == LOG_ERROR ? "error" : "warning", msg);
        if (detail)
            fprintf(stderr, "detail: %s\n", detail);
        if (hint)
            fprintf(stderr, "hint: %s\n", hint);
    }
    pthread_mutex_unlock(&log_mutex);
}

void log_report(log_level lvl, const char *detail, const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(lvl, detail, hint, fmt, ap, false);
    va_end(ap);
}

void log_msg(log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(lvl, NULL, NULL, fmt, ap, false);
    va_end(ap);
}

void log_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(LOG_INFO, NULL, NULL, fmt, ap, true);
    va_end(ap);
}
