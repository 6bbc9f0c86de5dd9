#!/bin/bash
# bench/cdc/binary_id.sh BIN: one line naming the binary a bench measured: its path, what it
# says of itself (--version: the VERSION file's number, no commit) and the first 12 hex digits
# of its sha256 with its modification time, so that reports of VOYAGER= runs are not
# attributed to the checkout's HEAD. Compare the digest with `sha256sum` of a known build.
set -u
B=${1:?usage: bench/cdc/binary_id.sh BIN}
v=$("$B" --version 2>/dev/null | head -n 1)
printf '%s ("%s", sha256 %s, built %s)\n' "$B" "${v:-no --version}" "$(sha256sum "$B" | cut -c1-12)" \
    "$(date -u -r "$B" +%Y-%m-%dT%H:%MZ)"
