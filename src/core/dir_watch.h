/*
 * Wake-ups on changes in one directory (Linux inotify): a process waiting for
 * another to write there sleeps until it does, not on a timer. import data
 * waits so for export data's durable steps, each a commit to meta.db.
 */
#ifndef VOYAGER_DIR_WATCH_H
#define VOYAGER_DIR_WATCH_H

#include <stdbool.h>

typedef struct dir_watch dir_watch;

/*
 * Watch dir for files written, created or moved in. NULL when that cannot be
 * done (no inotify, no such directory, the watch limit reached): the caller
 * then sleeps on a timer as before. The caller frees it with dir_watch_close().
 */
dir_watch *dir_watch_open(const char *dir);

/*
 * Sleep until something in the directory changed since the last call, or for
 * timeout_ms; a signal ends it early. True when a change was seen. Changes
 * made by this process wake it too.
 */
bool dir_watch_wait(dir_watch *w, int timeout_ms);

void dir_watch_close(dir_watch *w);

#endif
