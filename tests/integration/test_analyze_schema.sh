#!/bin/bash
# analyze-schema on purpose-written schema files (no database needed): every rule
# of the catalogue is reported with its object, a clean schema gives nothing, all
# four formats are written and well-formed, the JSON has the SPEC structure, a
# syntax error is reported with file and line, an edit gives a fresh report, and
# a missing export dir or schema is a clear error.
. "$(dirname "$0")/../lib/harness.sh"
V=$VOYAGER
FIX="$REPO_ROOT/tests/fixtures/analyze"
REPORT="$HARNESS_DIR/analyze_report.py"

expect_fail "missing export dir" 3 "does not exist" "$V" analyze-schema -e "$TEST_TMP/nope"
ED0=$(new_export_dir)
expect_fail "no exported schema yet" 3 "run 'yb-voyager export schema' first" "$V" analyze-schema -e "$ED0"
[ ! -e "$ED0/reports/schema_analysis_report.html" ] && ok "no report written without a schema" ||
    not_ok "no report written without a schema"
expect_fail "unknown format" 2 "output-format" "$V" analyze-schema -e "$ED0" --output-format pdf

# ---- every rule ----
ED=$(new_export_dir)
cp -r "$FIX/all_rules/schema" "$ED/"
check "analyze-schema (default format)" "$V" analyze-schema -e "$ED"
assert_match "prints the report path" "find schema analysis report at: $ED/reports/schema_analysis_report.html" "$(cat "$LAST_OUT")"
. "$HARNESS_DIR/status.sh"
assert_eq "AnalyzeSchemaDone recorded" "true" "$(status_get "$ED" AnalyzeSchemaDone)"
status_set "$ED" SourceDBConf '{"DBType":"postgresql","Host":"127.0.0.1","Port":5432,"User":"voyager","DBName":"shopdb","Schema":"public,sales","DBVersion":"15.6"}'
for f in json txt xml html; do
    check "analyze-schema --output-format $f" "$V" analyze-schema -e "$ED" --output-format "$f" --target-db-version 2.25.0.0
    [ -s "$ED/reports/schema_analysis_report.$f" ] && ok "$f report written" || not_ok "$f report written"
done
for bad in banana 2024 v2.20 2.20. 2.20-b1 1.2.3.4.5 ""; do
    expect_refusal "--target-db-version '$bad' is refused" 2 \
        "^error: --target-db-version '$bad' is not a version: 2 to 4 numbers separated by dots hint: give a YugabyteDB release such as 2.20" \
        "$V" analyze-schema -e "$ED" --target-db-version "$bad"
done
check "--target-db-version 2.20 (two numbers) is accepted" "$V" analyze-schema -e "$ED" --target-db-version 2.20 --output-format txt
J="$ED/reports/schema_analysis_report.json"
out=$(python3 "$REPORT" validate "$J") && ok "JSON has the SPEC structure" || not_ok "JSON has the SPEC structure" "$out"
out=$(python3 "$REPORT" expect "$J" "$FIX/all_rules.expected") && ok "every rule reported with its object, nothing else" ||
    not_ok "every rule reported with its object, nothing else" "$out"
assert_eq "complexity" "HIGH" "$(python3 "$REPORT" get "$J" 'r["MigrationComplexity"]')"
assert_eq "db name from the status record" "shopdb" "$(python3 "$REPORT" get "$J" 'r["Summary"]["DbName"]')"
assert_eq "schema names from the status record" '["public", "sales"]' "$(python3 "$REPORT" get "$J" 'r["Summary"]["SchemaNames"]')"
assert_eq "db version from the status record" "15.6" "$(python3 "$REPORT" get "$J" 'r["Summary"]["DbVersion"]')"
assert_eq "target db version flag" "2.25.0.0" "$(python3 "$REPORT" get "$J" 'r["TargetDBVersion"]')"
assert_eq "tables counted (invalid/total)" "17/20" \
    "$(python3 "$REPORT" get "$J" '"/".join(str(o[k]) for o in r["Summary"]["DatabaseObjects"] if o["ObjectType"] == "TABLE" for k in ("InvalidCount", "TotalCount"))')"
if python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); assert d.documentElement.tagName == "SchemaAnalysisReport"; print(len(d.getElementsByTagName("Issue")))' \
    "$ED/reports/schema_analysis_report.xml" >"$TEST_TMP/xml.n" 2>&1; then
    assert_eq "XML is well-formed with every issue" "$(wc -l <"$FIX/all_rules.expected")" "$(cat "$TEST_TMP/xml.n")"
else
    not_ok "XML is well-formed" "$(cat "$TEST_TMP/xml.n")"
fi
H="$ED/reports/schema_analysis_report.html"
if grep -Eiq '<script|<link|<img|src=|@import' "$H"; then not_ok "HTML is self-contained"; else ok "HTML is self-contained"; fi
assert_match "HTML has the object summary" "<td>TABLE</td><td class=\"num\">20</td><td class=\"num\">17</td>" "$(cat "$H")"
assert_match "HTML has issue counts per type" "<td>unsupported_datatypes</td><td class=\"num\">10</td>" "$(cat "$H")"
python3 -c 'import sys, html.parser; html.parser.HTMLParser().feed(open(sys.argv[1]).read())' "$H" &&
    ok "HTML parses" || not_ok "HTML parses"
assert_match "txt report lists the issues" "Issues \(77\)" "$(cat "$ED/reports/schema_analysis_report.txt")"
assert_match "txt report: the recorded database version" "Database version: +15\.6" \
    "$(cat "$ED/reports/schema_analysis_report.txt")"

# ---- clean schema ----
EC=$(new_export_dir)
cp -r "$FIX/clean/schema" "$EC/"
check "analyze-schema on a clean schema" "$V" analyze-schema -e "$EC" --output-format json
# libpg_query's PL/pgSQL parser rejects OPEN of a bound cursor: said on stderr, not an issue.
assert_match "a body libpg_query cannot parse is named" "body of FUNCTION public.first_customer .*was not analyzed" "$(cat "$LAST_ERR")"
J="$EC/reports/schema_analysis_report.json"
out=$(python3 "$REPORT" validate "$J") && ok "clean JSON has the SPEC structure" || not_ok "clean JSON has the SPEC structure" "$out"
assert_eq "clean schema: no issue" "0" "$(python3 "$REPORT" get "$J" 'len(r["Issues"])')"
assert_eq "clean schema: LOW" "LOW" "$(python3 "$REPORT" get "$J" 'r["MigrationComplexity"]')"
assert_eq "clean schema: objects counted" "TABLE=4 INDEX=3 VIEW=2 FUNCTION=4 TRIGGER=1 TYPE=1 DOMAIN=1 SEQUENCE=1 EXTENSION=1" \
    "$(python3 "$REPORT" get "$J" '" ".join(t + "=" + str(c) for t in ["TABLE","INDEX","VIEW","FUNCTION","TRIGGER","TYPE","DOMAIN","SEQUENCE","EXTENSION"] for o in r["Summary"]["DatabaseObjects"] if o["ObjectType"] == t for c in [o["TotalCount"]])')"
assert_eq "no status record: empty db name" "" "$(python3 "$REPORT" get "$J" 'r["Summary"]["DbName"]')"
assert_eq "no status record: schema names from the files" '["public"]' "$(python3 "$REPORT" get "$J" 'r["Summary"]["SchemaNames"]')"
check "analyze-schema txt with no status record" "$V" analyze-schema -e "$EC" --output-format txt
assert_match "no status record: database version unknown, not empty" "Database version: +unknown" \
    "$(cat "$EC/reports/schema_analysis_report.txt")"

# ---- syntax error, then the operator fixes it ----
ES=$(new_export_dir)
mkdir -p "$ES/schema/tables"
printf 'CREATE TABLE public.a (i int);\n\nCREATE TABLE public.b (\n    i int,\n    j intt intt\n);\n' >"$ES/schema/tables/table.sql"
echo "CREATE TABLE public.never (i int);" >"$ES/schema/failed.sql"
check "analyze-schema with a syntax error" "$V" analyze-schema -e "$ES" --output-format json
J="$ES/reports/schema_analysis_report.json"
assert_eq "syntax error reported with file and line" \
    "unsupported_features|schema/tables/table.sql|Unsupported PG syntax: the statement could not be analysed, at line 5: syntax error at or near \"intt\"" \
    "$(python3 "$REPORT" get "$J" '"\n".join(i["IssueType"] + "|" + i["FilePath"] + "|" + i["Reason"] for i in r["Issues"])')"
printf 'CREATE TABLE public.a (i int);\n\nCREATE UNLOGGED TABLE public.b (\n    i int\n);\n' >"$ES/schema/tables/table.sql"
check "re-run after the edit" "$V" analyze-schema -e "$ES" --output-format json
assert_eq "fresh report after the edit" "unsupported_features|public.b|UNLOGGED tables are not supported yet" \
    "$(python3 "$REPORT" get "$J" '"\n".join(i["IssueType"] + "|" + i["ObjectName"] + "|" + i["Reason"] for i in r["Issues"])')"
assert_match "failed.sql is not analyzed" "public.a, public.b\"" "$(grep ObjectNames "$J")"

# ---- what recent pg_dump writes around its output ----
EP=$(new_export_dir)
mkdir -p "$EP/schema/tables"
printf '\\restrict 3Ky\n\nCREATE TABLE public.a (i int);\n\n\\unrestrict 3Ky\n' >"$EP/schema/tables/table.sql"
check "psql meta-commands in a schema file" "$V" analyze-schema -e "$EP" --output-format json
assert_eq "meta-commands are not syntax errors" "0" "$(python3 "$REPORT" get "$EP/reports/schema_analysis_report.json" 'len(r["Issues"])')"

# ---- names that need escaping ----
EE=$(new_export_dir)
mkdir -p "$EE/schema/tables"
printf 'CREATE UNLOGGED TABLE public."<b>x&y</b>" (i int);\n' >"$EE/schema/tables/table.sql"
for f in html xml; do check "escaping: $f" "$V" analyze-schema -e "$EE" --output-format "$f"; done
if grep -q '<b>x' "$EE/reports/schema_analysis_report.html"; then not_ok "HTML escapes names"; else
    assert_match "HTML escapes names" '&lt;b&gt;x&amp;y&lt;/b&gt;' "$(cat "$EE/reports/schema_analysis_report.html")"
fi
python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$EE/reports/schema_analysis_report.xml" &&
    ok "XML stays well-formed with markup in names" || not_ok "XML stays well-formed with markup in names"

# ---- what pg_dump really writes (a real cluster) ----
if start_clusters source; then
    psql_as source sourcedb -c "CREATE UNLOGGED TABLE public.cache (k int PRIMARY KEY, v text)" \
        -c "CREATE INDEX customers_created_brin ON public.customers USING brin (created_at)" \
        -c "CREATE FUNCTION public.lock_it() RETURNS void LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_advisory_lock(7); END \$\$" \
        -c "CREATE VIEW public.v_sys AS SELECT xmin AS x, id FROM public.customers" >/dev/null
    ED=$(new_export_dir)
    mkdir -p "$ED/schema"
    "$PGBIN/pg_dump" -h "$TEST_TMP/source" -p "$SOURCE_PORT" -U postgres --schema-only sourcedb >"$ED/schema/uncategorized.sql"
    check "analyze-schema on a real pg_dump" "$V" analyze-schema -e "$ED" --output-format json
    J="$ED/reports/schema_analysis_report.json"
    out=$(python3 "$REPORT" validate "$J") && ok "pg_dump report has the SPEC structure" || not_ok "pg_dump report has the SPEC structure" "$out"
    assert_eq "pg_dump output: exactly the expected issues" \
"FUNCTION|public.lock_it|Advisory locks are not yet implemented: pg_advisory_lock
INDEX|customers_created_brin ON public.customers|Schema contains BRIN index which is not supported
TABLE|public.Order|Foreign key columns are not covered by an index: customer_id
TABLE|public.cache|UNLOGGED tables are not supported yet
VIEW|public.v_sys|System column is not yet supported: xmin" \
        "$(python3 "$REPORT" get "$J" '"\n".join(sorted(i["ObjectType"] + "|" + i["ObjectName"] + "|" + i["Reason"] for i in r["Issues"]))')"
    assert_eq "pg_dump output: tables counted" "4" \
        "$(python3 "$REPORT" get "$J" '[o["TotalCount"] for o in r["Summary"]["DatabaseObjects"] if o["ObjectType"] == "TABLE"][0]')"
    assert_eq "no status record: database version from pg_dump's header" \
        "$(psql_as source sourcedb -Atc "SELECT split_part(current_setting('server_version'), ' ', 1)")" \
        "$(python3 "$REPORT" get "$J" 'r["Summary"]["DbVersion"]')"
else
    not_ok "source cluster for the pg_dump check"
fi
done_testing
