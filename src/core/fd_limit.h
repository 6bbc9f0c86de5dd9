/*
 * The open-file limit of the process. Every table a parallel export or import
 * works on holds a connection, a data file and its temporaries, so a soft limit
 * of 256 (a common default) runs out long before the hard limit does. Like the
 * original tool, the soft limit is raised to the hard limit once at start.
 */
#ifndef VOYAGER_CORE_FD_LIMIT_H
#define VOYAGER_CORE_FD_LIMIT_H

/* Raise RLIMIT_NOFILE's soft limit to its hard one; never fails the process. */
void fd_limit_raise(void);
/* What fd_limit_raise did, for the log (static storage; "" before it ran). */
const char *fd_limit_note(void);

#endif
