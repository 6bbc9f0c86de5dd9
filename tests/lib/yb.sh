# A YugabyteDB "cluster" for integration tests, WITHOUT a YugabyteDB server: PostgreSQL 15
# behind fault proxies in YugabyteDB personality (tests/lib/faultproxy.py --yb), whose
# identity, yb_* settings and error texts are checked against upstream yb-voyager's and
# YugabyteDB's texts. What it proves is the tool's handling of those answers, not YugabyteDB.
# Source after harness.sh and faultproxy.sh.
#
#   yb_nodes_start CLUSTER N [PREFIX]  # proxies PREFIX1..PREFIXN (default yb1..ybN) in front
#                              # of CLUSTER, listening on 127.0.0.1
#                              # and 127.0.0.2 (the "public IP"); yb_servers() created in the
#                              # cluster's database lists them (host 127.0.0.1, public_ip 127.0.0.2)
#   yb_conns NODE [APP-REGEX] [HOST]   # connections node NODE (yb1...) received
#   yb_sets NODE [REGEX]               # yb_* settings it swallowed ("yb: set NAME = VALUE")

yb_nodes_start() {
    local cluster=$1 n=$2 p=${3:-yb} i rows=""
    local db; db=$(eval "echo \${$(echo "$cluster" | tr 'a-z-' 'A-Z_')_DB}")
    for i in $(seq 1 "$n"); do
        proxy_start "$p$i" "$(cluster_port "$cluster")" --yb --listen-host 127.0.0.1,127.0.0.2 || return 1
        rows+="${rows:+,}('127.0.0.1', $(proxy_port "$p$i"), 0, 'primary', 'cloud1', 'region1', 'zone$i', '127.0.0.2')"
    done
    psql_as "$cluster" "$db" -c "CREATE OR REPLACE FUNCTION public.yb_servers()
        RETURNS TABLE(host text, port bigint, num_connections int, node_type text, cloud text,
                      region text, zone text, public_ip text)
        LANGUAGE sql AS \$\$ VALUES $rows \$\$" >/dev/null
}

yb_conns() {
    grep 'yb: conn ' "$TEST_TMP/proxy.$1/log" 2>/dev/null | grep -E -- "app=${2:-.*}" |
        grep -Ec -- " to ${3:-[0-9.]+}:"
}

yb_sets() { grep 'yb: set ' "$TEST_TMP/proxy.$1/log" 2>/dev/null | grep -Ec -- "${2:-.}"; }
# yb_logged NODE REGEX: lines of the node's personality log matching ("yb: ctid refused", ...)
yb_logged() { cat "$TEST_TMP/proxy.$1/log" 2>/dev/null | grep -Ec -- "$2"; }
