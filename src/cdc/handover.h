/*
 * A live-migration process that turns into the next one at cutover, as the
 * docs describe: `import data to target` becomes `export data from target`,
 * and (fall-back) `export data from source` becomes `import data to source`.
 */
#ifndef VOYAGER_CDC_HANDOVER_H
#define VOYAGER_CDC_HANDOVER_H

#include "core/engine.h"

#include <stdbool.h>

typedef struct handover_spec {
    const char *const *words;  /* the next command: {"import", "data", "to", "source", NULL} */
    const char *older_name;    /* its name on the older docs pages ("fall-back setup"), or NULL */
    const char *lock_name;     /* its lock: "import-data-to-source" */
    const char *pw_env;        /* the environment variable that carries the password */
    const char *password;      /* may be NULL */
    const char *why;           /* said before the switch */
    const char *log_level;     /* this command's --log-level when given, else NULL */
    bool disable_pb;           /* this command's --disable-pb */
} handover_spec;

/*
 * Replace this process by `yb-voyager <words> --export-dir <dir>` (plus
 * --log-level and --disable-pb as this command had them). The password goes
 * to the new process through the environment variable pw_env, never through
 * argv. Returns only on failure (after telling the user the command to run
 * by hand); when lock_name is already held by another process it says so and
 * returns ENGINE_OK without exec.
 */
engine_status cdc_handover(const engine_ctx *eng, const handover_spec *spec);

#endif
