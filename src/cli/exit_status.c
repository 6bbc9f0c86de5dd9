#include "cli/exit_status.h"

#include "core/exitcodes.h"

int exit_code_of(engine_status st)
{
    switch (st) {
    case ENGINE_OK:
        return EXIT_OK;
    case ENGINE_FAILED:
        return EXIT_INTERNAL;
    case ENGINE_BAD_INPUT:
        return EXIT_BAD_ARGS;
    case ENGINE_BAD_STATE:
        return EXIT_BAD_STATE;
    case ENGINE_SOURCE_FAILED:
        return EXIT_SOURCE_ERROR;
    case ENGINE_TARGET_FAILED:
        return EXIT_TARGET_ERROR;
    case ENGINE_NOT_SUPPORTED:
        return EXIT_NOT_IMPLEMENTED;
    case ENGINE_DATA_DIFFERS:
        return EXIT_DATA_DIFFERS;
    }
    return EXIT_INTERNAL;
}
