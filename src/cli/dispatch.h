#ifndef VOYAGER_CLI_DISPATCH_H
#define VOYAGER_CLI_DISPATCH_H

/* The whole program: returns the process exit code. */
int cli_main(int argc, char **argv);

#endif
