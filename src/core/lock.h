/*
 * One lock per command name per export dir: <export-dir>/.<name>.lck holds the
 * owner's pid and an flock(). The kernel drops the flock when the owner dies,
 * so a lock left by a dead process (kill -9, crash) is taken over at once.
 */
#ifndef VOYAGER_CORE_LOCK_H
#define VOYAGER_CORE_LOCK_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct cmd_lock cmd_lock;

/*
 * Take the lock for `name` ("export-data-from-source"). On failure logs one
 * line naming the running pid and returns NULL. Caller releases with
 * cmd_lock_release().
 */
cmd_lock *cmd_lock_acquire(const char *export_dir, const char *name);
/*
 * Take the lock for `name` without logging that it is held: NULL and *held
 * (the owner's pid in *owner when given) when another process has it; NULL and
 * !*held after an error (logged). holder: the command taking another
 * command's lock (recorded, so that command is told who holds it), or NULL.
 */
cmd_lock *cmd_lock_try(const char *export_dir, const char *name, const char *holder, bool *held,
                       pid_t *owner);
void cmd_lock_release(cmd_lock *l);
/* Pid of the stale owner this lock took over, 0 when none. */
pid_t cmd_lock_stale_pid(const cmd_lock *l);
/* Is a live process holding the lock for `name`? Its pid in *pid when given. */
bool cmd_lock_is_held(const char *export_dir, const char *name, pid_t *pid);

#endif
