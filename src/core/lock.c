#include "core/lock.h"

#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct cmd_lock {
    int fd;
    char *path;
    pid_t stale_pid;
};

static char *lock_path(const char *export_dir, const char *name)
{
    return xasprintf("%s/.%s.lck", export_dir, name);
}

/*
 * The owner recorded in a lock file: "<pid>\n", or "<pid> <holder>\n" when a
 * process holds the lock of another command (end migration holds them all).
 * *holder gets "" when none is recorded.
 */
static pid_t read_owner(int fd, char holder[64])
{
    char buf[96] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    holder[0] = '\0';
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *sp = strchr(buf, ' ');
    if (sp) {
        *sp = '\0';
        snprintf(holder, 64, "%s", str_trim(sp + 1));
    }
    int64_t pid = 0;
    if (!parse_int64(str_trim(buf), 1, INT32_MAX, &pid))
        pid = 0;
    return (pid_t)pid;
}

static pid_t read_pid(int fd)
{
    char holder[64];
    return read_owner(fd, holder);
}

/* "import-data-to-target" -> "import data to target" (caller frees). */
static char *command_words(const char *name)
{
    char *cmd = xstrdup(name);
    for (char *p = cmd; *p; p++)
        if (*p == '-')
            *p = ' ';
    return cmd;
}

/* The file we locked is still the one at path (not unlinked by a releasing owner). */
static bool same_file(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* cmd_lock_try, and the name the owner recorded (by_holder, "" when none) when it is held. */
static cmd_lock *lock_try(const char *export_dir, const char *name, const char *holder, bool *held,
                          pid_t *owner, char by_holder[64])
{
    char *path = lock_path(export_dir, name);
    int fd;
    int rc;
    *held = false;
    *owner = 0;
    by_holder[0] = '\0';
    for (int attempt = 0;; attempt++) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            log_error("cannot create lock file %s: %s", path, strerror(errno));
            free(path);
            return NULL;
        }
        rc = flock(fd, LOCK_EX | LOCK_NB);
        if (rc != 0 || same_file(fd, path) || attempt > 10)
            break;
        close(fd); /* raced with a release that unlinked the file: try the new one */
    }
    if (rc != 0) {
        *held = true;
        *owner = read_owner(fd, by_holder);
        close(fd);
        free(path);
        return NULL;
    }
    cmd_lock *l = xcalloc(1, sizeof *l);
    l->fd = fd;
    l->path = path;
    pid_t old = read_pid(fd);
    if (old > 0 && old != getpid()) {
        l->stale_pid = old;
        log_info("took over the lock %s left by pid %d, which is no longer running", path, (int)old);
    }
    char buf[96];
    int n = holder ? snprintf(buf, sizeof buf, "%d %s\n", (int)getpid(), holder)
                   : snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    if (n < 0 || (size_t)n >= sizeof buf || ftruncate(fd, 0) != 0 ||
        pwrite(fd, buf, (size_t)n, 0) != n)
        log_warn("cannot write pid to lock file %s: %s", path, strerror(errno));
    return l;
}

cmd_lock *cmd_lock_try(const char *export_dir, const char *name, const char *holder, bool *held,
                       pid_t *owner)
{
    pid_t pid = 0;
    char by_holder[64];
    cmd_lock *l = lock_try(export_dir, name, holder, held, &pid, by_holder);
    if (owner)
        *owner = pid;
    return l;
}

cmd_lock *cmd_lock_acquire(const char *export_dir, const char *name)
{
    bool held = false;
    pid_t pid = 0;
    char holder[64];
    cmd_lock *l = lock_try(export_dir, name, NULL, &held, &pid, holder);
    if (l || !held)
        return l;
    char *cmd = command_words(name);
    if (holder[0] && strcmp(holder, name) != 0) {
        char *by = command_words(holder);
        log_report(LOG_ERROR, NULL, "wait for it to finish",
                   "'yb-voyager %s' (pid %d) is running on export dir %s and holds the lock of "
                   "'yb-voyager %s'",
                   by, (int)pid, export_dir, cmd);
        free(by);
    } else {
        log_report(LOG_ERROR, NULL, "wait for it to finish or stop it first",
                   "another 'yb-voyager %s' (pid %d) is running on export dir %s", cmd, (int)pid,
                   export_dir);
    }
    free(cmd);
    return NULL;
}

void cmd_lock_release(cmd_lock *l)
{
    if (!l)
        return;
    /*
     * Unlink before unlocking so a waiter never locks a file that is going away;
     * only our own file: after end migration emptied the export dir, the path
     * may name a newer command's lock.
     */
    if (same_file(l->fd, l->path))
        unlink(l->path);
    close(l->fd);
    free(l->path);
    free(l);
}

pid_t cmd_lock_stale_pid(const cmd_lock *l)
{
    return l ? l->stale_pid : 0;
}

bool cmd_lock_is_held(const char *export_dir, const char *name, pid_t *pid)
{
    char *path = lock_path(export_dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return false;
    bool held = false;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        held = true;
        if (pid)
            *pid = read_pid(fd);
    } else {
        flock(fd, LOCK_UN);
    }
    close(fd);
    return held;
}
