#!/bin/bash
# The README's `make deps demo` / `make deps test` on a machine without the -dev
# packages: the Makefile must not need pkg-config when it is parsed, only in the
# recipes that compile, which run after `deps` has installed the packages.
#   tests/check_makefile.sh          parse-time checks (seconds)
#   tests/check_makefile.sh --build  also a full build with a pkg-config that
#                                    works only once a fake `deps` has run (CI)
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/voyager-mk.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; fails=$((fails + 1)); }

# A pkg-config that logs each call and knows no package until $tmp/installed exists,
# first in PATH (the Makefile may name it either way).
real=$(command -v pkg-config || true)
mkdir -p "$tmp/bin"
cat >"$tmp/bin/pkg-config" <<FAKE
#!/bin/sh
echo "\$*" >>"$tmp/calls"
[ -e "$tmp/installed" ] && [ -n "$real" ] && exec "$real" "\$@"
echo "Package libpq was not found in the pkg-config search path." >&2
exit 1
FAKE
chmod +x "$tmp/bin/pkg-config"
export PATH="$tmp/bin:$PATH"

make -n deps >/dev/null 2>"$tmp/err"
if [ -s "$tmp/calls" ]; then
    not_ok "parsing the Makefile runs no pkg-config (it ran: $(head -1 "$tmp/calls"))"
else
    ok "parsing the Makefile runs no pkg-config"
fi
if PKG_CONFIG=false make -n deps all >/dev/null 2>"$tmp/err"; then
    ok "PKG_CONFIG=false make -n deps all does not fail at parse time"
else
    not_ok "PKG_CONFIG=false make -n deps all does not fail at parse time: $(head -2 "$tmp/err")"
fi

if [ "${1:-}" = --build ]; then
    # `deps` is what makes pkg-config find the packages; the compile after it must see them.
    if make -j2 BUILD="$tmp/build" DEPS_SCRIPT="touch $tmp/installed" deps "$tmp/build/yb-voyager" \
        >"$tmp/build.log" 2>&1; then
        ok "make deps + build, with packages appearing only when deps runs"
    else
        not_ok "make deps + build, with packages appearing only when deps runs"
        tail -5 "$tmp/build.log" | sed 's/^/#   /'
    fi
fi
echo "# check_makefile: $fails failed"
[ "$fails" = 0 ]
