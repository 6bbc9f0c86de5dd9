#!/bin/bash
# import data run again after its cutover (what an operator does when the importer died after
# the cutover flag, before the handover) must not touch the database that is now the primary:
# its sequences stay where the application moved them, and no row changes; a clean start
# (--start-clean --truncate-tables) is refused before it touches anything.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
live_setup || { done_testing; exit 1; }
psql_as source sourcedb -c "SELECT setval('public.counter_seq', 500)" >/dev/null
live_cutover_to_target
assert_eq "the cutover restored the source's sequence value on the target" 500 \
    "$(psql_as target yugabyte -c "SELECT last_value FROM public.counter_seq")"
psql_as target yugabyte -c "SELECT setval('public.counter_seq', 9000)" >/dev/null # the application moved on
before=$(table_fingerprints target yugabyte)
check "import data run again after the cutover" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
assert_match "it says there is nothing left to do" "nothing to do" "$(cat "$LAST_OUT" "$LAST_ERR")"
assert_eq "the target's sequence is left where the application moved it" 9000 \
    "$(psql_as target yugabyte -c "SELECT last_value FROM public.counter_seq")"
assert_eq "no row changed on the target" "$before" "$(table_fingerprints target yugabyte)"
# A clean start now would truncate the primary and reload the old snapshot (it did, exit 0).
psql_as target yugabyte -c "INSERT INTO public.pairs VALUES (900, 'app', 'written on the target')" >/dev/null
before=$(table_fingerprints target yugabyte)
expect_fail "import data --start-clean after the cutover: refused" 3 \
    "cutover to target was initiated for this migration, so import data cannot start the target database over" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true --start-clean true --truncate-tables true --yes
assert_match "the refusal says how to go on" "run the same command without --start-clean" "$(cat "$LAST_ERR")"
assert_eq "no row changed on the target by the refused clean start" "$before" "$(table_fingerprints target yugabyte)"
done_testing
