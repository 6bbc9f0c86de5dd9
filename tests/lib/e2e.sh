# Helpers for live-migration tests: a workload on a database, background
# voyager processes that can be killed and restarted with the same arguments,
# and waiting for two databases to agree.
#
#   workload_start NAME DB SECONDS [TAG]   # background mixed DML on the sample schema
#   workload_wait                          # wait for it to finish
#   proc_start KEY cmd...                  # run in background, remember the command line
#   proc_kill9 KEY; proc_restart KEY       # crash it; start it again, same arguments
#   proc_wait KEY [TIMEOUT]                # wait for its exit; sets PROC_RC
#   proc_pid KEY                           # its pid (for harness.sh's wait_log)
#   proc_became OLD NEW cmd...             # OLD's process turned into cmd (exec): track it as NEW
#   wait_equal A B [TIMEOUT] [DB_A DB_B]   # until table fingerprints agree (0) or timeout (1)

declare -A _PROC_PID _PROC_CMD
_WORKLOAD_PIDS=()

# One transaction of mixed changes per loop: inserts (sequence and identity
# defaults), updates of several columns, a primary-key update, a swap of unique
# values between two rows, deletes, a large TOASTed value.
_workload_sql() {
    local tag=$1 i=$2
    cat <<SQL
BEGIN;
INSERT INTO public.customers(name, email) VALUES ('w$tag $i', 'w$tag.$i@example.com');
INSERT INTO public."Order"(customer_id, status, amount, "user", notes)
  SELECT id, 'new', $i.5, 'wu$i', E'tab\there\\\\ \u00e9 $tag' FROM public.customers ORDER BY random() LIMIT 2;
UPDATE public."Order" SET status = 'paid', amount = amount + 1
  WHERE id IN (SELECT id FROM public."Order" ORDER BY random() LIMIT 3);
UPDATE public."MixedCase" SET "Value" = jsonb_build_object('i', $i, 't', '$tag'), tags = ARRAY['x', NULL, '$i']
  WHERE k = (SELECT k FROM public."MixedCase" ORDER BY random() LIMIT 1);
DELETE FROM public."Order" WHERE id = (SELECT id FROM public."Order" WHERE status = 'shipped' ORDER BY random() LIMIT 1);
COMMIT;
UPDATE public."MixedCase" SET k = k + 100000 WHERE k = (SELECT k FROM public."MixedCase" WHERE k < 100000 ORDER BY random() LIMIT 1);
UPDATE public."Order" SET notes = (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 200))
  WHERE id = (SELECT id FROM public."Order" ORDER BY random() LIMIT 1);
UPDATE public."Order" SET amount = amount + 2 WHERE id = (SELECT id FROM public."Order" WHERE length(notes) > 5000 ORDER BY random() LIMIT 1);
DO \$\$DECLARE a int; b int; ea text; eb text;
BEGIN
  SELECT id, email INTO a, ea FROM public.customers WHERE email IS NOT NULL ORDER BY random() LIMIT 1;
  SELECT id, email INTO b, eb FROM public.customers WHERE email IS NOT NULL AND id <> a ORDER BY random() LIMIT 1;
  IF b IS NOT NULL THEN
    UPDATE public.customers SET email = NULL WHERE id = a;
    UPDATE public.customers SET email = ea WHERE id = b;
    UPDATE public.customers SET email = eb WHERE id = a;
  END IF;
END\$\$;
SQL
}

workload_start() {
    local name=$1 db=$2 secs=$3 tag=${4:-$1}
    (
        local end=$((SECONDS + secs)) i=0
        while [ $SECONDS -lt $end ]; do
            i=$((i + 1))
            _workload_sql "$tag" "$i" | psql_as "$name" "$db" >/dev/null 2>&1
        done
    ) &
    _WORKLOAD_PIDS+=($!)
}

workload_wait() {
    local p
    for p in "${_WORKLOAD_PIDS[@]:-}"; do [ -n "$p" ] && wait "$p"; done
    _WORKLOAD_PIDS=()
}

proc_start() {
    local key=$1
    shift
    _PROC_CMD[$key]=$(printf '%q ' "$@")
    "$@" >>"$TEST_TMP/$key.out" 2>&1 &
    _PROC_PID[$key]=$!
}

proc_became() {
    local old=$1 new=$2
    shift 2
    _PROC_PID[$new]=${_PROC_PID[$old]}
    _PROC_CMD[$new]=$(printf '%q ' "$@")
    unset "_PROC_PID[$old]"
}

proc_restart() {
    local key=$1
    # exec: the pid we remember must be the command's, not a subshell's, or kill -9 misses it.
    (eval "exec ${_PROC_CMD[$key]}") >>"$TEST_TMP/$key.out" 2>&1 &
    _PROC_PID[$key]=$!
}

proc_kill9() {
    local pid=${_PROC_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

proc_alive() { kill -0 "${_PROC_PID[$1]:-0}" 2>/dev/null; }
proc_pid() { echo "${_PROC_PID[$1]:-0}"; }

proc_wait() {
    local key=$1 timeout=${2:-120} t=0
    while proc_alive "$key" && [ $t -lt $((timeout * 10)) ]; do
        sleep 0.1
        t=$((t + 1))
    done
    if proc_alive "$key"; then
        PROC_RC=124
        return 1
    fi
    wait "${_PROC_PID[$key]}"
    PROC_RC=$?
    return 0
}

proc_stop_all() {
    local k
    for k in "${!_PROC_PID[@]}"; do
        kill "${_PROC_PID[$k]}" 2>/dev/null
    done
    sleep 0.5
    for k in "${!_PROC_PID[@]}"; do
        kill -9 "${_PROC_PID[$k]}" 2>/dev/null
        wait "${_PROC_PID[$k]}" 2>/dev/null
    done
}

wait_equal() {
    local a=$1 b=$2 timeout=${3:-120}
    local da=${4:-$(eval "echo \${$(echo "$a" | tr 'a-z-' 'A-Z_')_DB}")}
    local db=${5:-$(eval "echo \${$(echo "$b" | tr 'a-z-' 'A-Z_')_DB}")}
    local end=$((SECONDS + timeout))
    while [ $SECONDS -lt $end ]; do
        [ "$(table_fingerprints "$a" "$da")" = "$(table_fingerprints "$b" "$db")" ] && return 0
        sleep 1
    done
    return 1
}

# random_sleep MIN_TENTHS MAX_TENTHS
random_sleep() { sleep "$(awk -v a="$1" -v b="$2" 'BEGIN{srand(); printf "%.1f", (a + rand() * (b - a)) / 10}')"; }
