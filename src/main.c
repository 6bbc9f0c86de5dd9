#include "cli/dispatch.h"
#include "core/fd_limit.h"

int main(int argc, char **argv)
{
    fd_limit_raise();
    return cli_main(argc, argv);
}
