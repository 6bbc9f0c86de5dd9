/* Process exit codes, in one place. Only the command layer exits. */
#ifndef VOYAGER_CORE_EXITCODES_H
#define VOYAGER_CORE_EXITCODES_H

enum {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,        /* unexpected failure, or a bug */
    EXIT_BAD_ARGS = 2,        /* wrong flags, bad config file */
    EXIT_BAD_STATE = 3,       /* export dir missing/locked/inconsistent, wrong phase */
    EXIT_SOURCE_ERROR = 4,    /* the source database failed or refused */
    EXIT_TARGET_ERROR = 5,    /* the target (or source-replica) database failed or refused */
    EXIT_NOT_IMPLEMENTED = 6, /* a command this build does not have yet */
    EXIT_DATA_DIFFERS = 7,    /* compare data: a table differs between the databases */
};

#endif
