#!/bin/bash
# yb-voyager under valgrind: any leak or memory error turns into exit code 99,
# which no test expects, so the calling test fails. Used by `make valgrind`.
exec valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 --child-silent-after-fork=yes "$(dirname "$0")/../../${BUILD:-build}/yb-voyager" "$@"
