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

static pid_t read_pid(int fd)
{
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    int64_t pid = 0;
    if (n > 0) {
        buf[n] = '\0';
        if (!parse_int64(str_trim(buf), 1, INT32_MAX, &pid))
            pid = 0;
    }
    return (pid_t)pid;
}

/* The file we locked is still the one at path (not unlinked by a releasing owner). */
static bool same_file(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

cmd_lock *cmd_lock_acquire(const char *export_dir, const char *name)
{
    char *path = lock_path(export_dir, name);
    int fd;
    int rc;
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
        pid_t pid = read_pid(fd);
        char *cmd = xstrdup(name);
        for (char *p = cmd; *p; p++)
            if (*p == '-')
                *p = ' ';
        log_report(LOG_ERROR, NULL, "wait for it to finish or stop it first",
                   "another 'yb-voyager %s' (pid %d) is running on export dir %s", cmd, (int)pid,
                   export_dir);
        free(cmd);
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
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n)
        log_warn("cannot write pid to lock file %s: %s", path, strerror(errno));
    return l;
}

void cmd_lock_release(cmd_lock *l)
{
    if (!l)
        return;
    /* Unlink before unlocking so a waiter never locks a file that is going away. */
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
