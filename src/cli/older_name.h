/*
 * The name a command had on the docs pages of earlier releases
 * (cli_command_aliases), for the messages that tell an operator how to
 * restart it: runbooks written for the older pages know it by that name.
 */
#ifndef VOYAGER_CLI_OLDER_NAME_H
#define VOYAGER_CLI_OLDER_NAME_H

/* The older name of the command with these words ("fall-back setup"), or NULL. Static storage. */
const char *cli_older_name(const char *const *words);

#endif
