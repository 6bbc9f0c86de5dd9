/* The process exit code of each way an engine can end (core/engine.h, core/exitcodes.h). */
#ifndef VOYAGER_CLI_EXIT_STATUS_H
#define VOYAGER_CLI_EXIT_STATUS_H

#include "core/engine.h"

int exit_code_of(engine_status st);

#endif
