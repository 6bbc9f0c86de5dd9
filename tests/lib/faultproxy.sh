# The fault-injection proxy (tests/lib/faultproxy.py) for integration tests.
# Source after harness.sh:   . "$HARNESS_DIR/faultproxy.sh"
#
#   proxy_start NAME UPSTREAM_PORT [faultproxy.py args...]   # a proxy in front of a server;
#                                    # sets NAME_PROXY_PORT (e.g. --yb: see tests/lib/yb.sh)
#   proxy_port NAME                  # its port (connect the tool with e.g. --target-db-port)
#   proxy_rule NAME 'RULE' ...       # replace its rules, one argument a line (see faultproxy.py):
#                                    #   drop_after_commit [once|always|nth=K|every=K], drop_after_bytes N [...],
#                                    #   drop_random P, stall T, refuse T, drop_all,
#                                    #   delay T [match=RE], hold [match=RE] (until cleared)
#   proxy_clear NAME                 # no rules: forward everything
#   proxy_fired NAME [REGEX]         # how many faults fired (lines "fault: ..." of its log matching REGEX)
#   proxy_stop NAME
#
# A proxy exits by itself when the test script does.

_proxy_var() { echo "$1" | tr 'a-z-' 'A-Z_'; }

proxy_start() {
    local name=$1 upstream=$2 dir="$TEST_TMP/proxy.$1"
    shift 2
    mkdir -p "$dir"
    : >"$dir/rules"
    rm -f "$dir/port"
    python3 "$HARNESS_DIR/faultproxy.py" --upstream-port "$upstream" --rules "$dir/rules" \
        --port-file "$dir/port" --log "$dir/log" "$@" >>"$dir/log" 2>&1 &
    printf -v "$(_proxy_var "$name")_PROXY_PID" '%s' "$!"
    local i
    for i in $(seq 1 100); do
        [ -s "$dir/port" ] && break
        sleep 0.05
    done
    [ -s "$dir/port" ] || { echo "# proxy $name did not start"; cat "$dir/log"; return 1; }
    printf -v "$(_proxy_var "$name")_PROXY_PORT" '%s' "$(cat "$dir/port")"
}

proxy_port() { cat "$TEST_TMP/proxy.$1/port"; }

# The rules file is replaced whole (rename), so the proxy never reads half of it.
proxy_rule() {
    local name=$1 dir="$TEST_TMP/proxy.$1"
    shift
    printf '%s\n' "$@" >"$dir/rules.tmp"
    mv "$dir/rules.tmp" "$dir/rules"
    sleep 0.2 # the proxy polls every 50 ms
}

proxy_clear() { proxy_rule "$1"; }

proxy_fired() {
    local re=${2:-.}
    grep 'fault: ' "$TEST_TMP/proxy.$1/log" 2>/dev/null | grep -Ec -- "$re"
}

proxy_stop() {
    local pid
    pid=$(eval "echo \${$(_proxy_var "$1")_PROXY_PID:-}")
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    return 0
}
