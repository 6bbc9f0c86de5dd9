#include "core/dir_watch.h"

#include "core/util.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

struct dir_watch {
    int fd;
};

dir_watch *dir_watch_open(const char *dir)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (inotify_add_watch(fd, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO) < 0) {
        close(fd);
        return NULL;
    }
    dir_watch *w = xcalloc(1, sizeof *w);
    w->fd = fd;
    return w;
}

bool dir_watch_wait(dir_watch *w, int timeout_ms)
{
    struct pollfd p = {.fd = w->fd, .events = POLLIN};
    bool changed = poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN);
    /* what is queued says only "something changed": drop it all */
    char buf[4096];
    while (read(w->fd, buf, sizeof buf) > 0)
        ;
    return changed;
}

void dir_watch_close(dir_watch *w)
{
    if (!w)
        return;
    close(w->fd);
    free(w);
}
