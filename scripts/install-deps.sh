#!/bin/bash
# Install what voyager-c needs to build, test and benchmark, from Debian's packages.
# Idempotent: quiet and quick when everything is already there.
set -euo pipefail
PKGS=(
    build-essential pkg-config
    libpq-dev libpg-query-dev libsqlite3-dev libcjson-dev libyaml-dev
    postgresql-15 postgresql-client-15
    mariadb-server mariadb-client libmariadb-dev
    python3 procps util-linux openssl valgrind
)
# Benchmarks compare against pgcopydb and pgloader (bench/mysql); install them only when asked (WITH_BENCH=1).
[ "${WITH_BENCH:-0}" = 1 ] && PKGS+=(pgcopydb time pgloader)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Tests start their own throwaway clusters; Debian's default cluster is not needed.
if ! dpkg-query -W postgresql-common >/dev/null 2>&1; then
    $SUDO mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/voyager.conf >/dev/null
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
