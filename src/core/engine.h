/*
 * What every engine (schema/, snapshot/, cdc/, compare/, migration/) gets from
 * the command that calls it, besides its own typed spec, and what it answers.
 *
 * Engines never see the command line: a command (src/cli/cmd_*.c) parses and
 * checks its flags into the engine's spec (e.g. snapshot_import_spec), fills
 * an engine_ctx, calls the engine, and maps the engine_status it gets back to
 * a process exit code (cli/exit_status.c). Engines log their errors
 * themselves (core/log.h: message, then detail and hint lines).
 */
#ifndef VOYAGER_CORE_ENGINE_H
#define VOYAGER_CORE_ENGINE_H

#include <signal.h>

struct catalog;

typedef struct engine_ctx {
    const char *export_dir;                  /* absolute path */
    struct catalog *cat;                     /* metainfo/meta.db, open */
    const volatile sig_atomic_t *interrupted; /* set by SIGINT/SIGTERM: stop cleanly */
} engine_ctx;

/* How an engine ended: which side failed, not which exit code that is. */
typedef enum engine_status {
    ENGINE_OK = 0,
    ENGINE_FAILED,         /* unexpected failure: the OS, or a bug */
    ENGINE_BAD_INPUT,      /* the operator's input, found wrong only once running */
    ENGINE_BAD_STATE,      /* the export dir or the migration's phase forbids this now */
    ENGINE_SOURCE_FAILED,  /* the source database failed or refused */
    ENGINE_TARGET_FAILED,  /* the target (or source-replica) database failed or refused */
    ENGINE_NOT_SUPPORTED,  /* a source or feature this build does not have */
    ENGINE_DATA_DIFFERS,   /* compare data: a table differs between the databases */
} engine_status;

#endif
