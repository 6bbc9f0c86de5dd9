#!/usr/bin/env python3
"""Checks on schema analysis reports (tests/integration/test_analyze_schema.sh).

analyze_report.py validate REPORT.json      structure of SPEC "analyze-schema report": every key, every type
analyze_report.py expect REPORT.json FILE   every line of FILE (tab-separated IssueType, ObjectType,
                                            ObjectName, Reason, FilePath) is an issue, and there are no others
analyze_report.py get REPORT.json EXPR      print a value: EXPR is a Python expression over r
Prints what is wrong and exits 1.
"""
import json
import sys

TOP = {"VoyagerVersion": str, "TargetDBVersion": str, "MigrationComplexity": str, "Summary": dict,
       "Issues": list}
SUMMARY = {"Description": str, "DbName": str, "SchemaNames": list, "DbVersion": str, "DatabaseObjects": list}
OBJECT = {"ObjectType": str, "TotalCount": int, "InvalidCount": int, "ObjectNames": str, "Details": str}
ISSUE = {"IssueType": str, "ObjectType": str, "ObjectName": str, "Reason": str, "SqlStatement": str,
         "FilePath": str, "Suggestion": str, "GH": str, "DocsLink": str}
ISSUE_TYPES = {"unsupported_features", "unsupported_datatypes", "unsupported_plpgsql_objects",
               "migration_caveats", "syntax_error", "unsupported_datatypes_live_migration",
               "unsupported_datatypes_live_migration_with_ff_fb"}


def check_keys(where, obj, spec, errors, extra_ok=()):
    if not isinstance(obj, dict):
        errors.append(f"{where}: not an object")
        return
    for k, t in spec.items():
        if k not in obj:
            errors.append(f"{where}: missing {k}")
        elif not isinstance(obj[k], t) or (t is int and isinstance(obj[k], bool)):
            errors.append(f"{where}.{k}: {type(obj[k]).__name__}, wanted {t.__name__}")
    for k in obj:
        if k not in spec and k not in extra_ok:
            errors.append(f"{where}: unexpected key {k}")


def validate(r):
    errors = []
    check_keys("report", r, TOP, errors)
    if errors:
        return errors
    if r["MigrationComplexity"] not in ("LOW", "MEDIUM", "HIGH"):
        errors.append(f"MigrationComplexity {r['MigrationComplexity']!r}")
    s = r["Summary"]
    check_keys("Summary", s, SUMMARY, errors)
    for i, name in enumerate(s.get("SchemaNames", [])):
        if not isinstance(name, str):
            errors.append(f"SchemaNames[{i}] not a string")
    for i, o in enumerate(s.get("DatabaseObjects", [])):
        check_keys(f"DatabaseObjects[{i}]", o, OBJECT, errors)
        if isinstance(o, dict) and isinstance(o.get("TotalCount"), int) and isinstance(o.get("InvalidCount"), int):
            if not 0 <= o["InvalidCount"] <= o["TotalCount"]:
                errors.append(f"DatabaseObjects[{i}]: InvalidCount {o['InvalidCount']} > TotalCount")
            if len([n for n in o["ObjectNames"].split(", ") if n]) != o["TotalCount"]:
                errors.append(f"DatabaseObjects[{i}]: {o['TotalCount']} objects but names {o['ObjectNames']!r}")
    for i, it in enumerate(r["Issues"]):
        check_keys(f"Issues[{i}]", it, ISSUE, errors, extra_ok=("MinimumVersionsFixedIn",))
        if "MinimumVersionsFixedIn" not in it:
            errors.append(f"Issues[{i}]: missing MinimumVersionsFixedIn")
        elif it["MinimumVersionsFixedIn"] is not None and not (
                isinstance(it["MinimumVersionsFixedIn"], dict) and it["MinimumVersionsFixedIn"] and
                all(isinstance(v, str) and v.startswith(k + ".") for k, v in it["MinimumVersionsFixedIn"].items())):
            errors.append(f"Issues[{i}].MinimumVersionsFixedIn: not a map of release series to versions")
        if isinstance(it, dict) and it.get("IssueType") not in ISSUE_TYPES:
            errors.append(f"Issues[{i}].IssueType {it.get('IssueType')!r}")
        if isinstance(it, dict):
            # Upstream's links: a docs page where it has one (known issues, or the extensions page), and a GH issue.
            docs = it.get("DocsLink", "")
            if docs and not (docs.startswith("https://docs.yugabyte.com/preview/yugabyte-voyager/known-issues/") and
                             "#" in docs or docs == "https://docs.yugabyte.com/preview/explore/ysql-language-features/pg-extensions/"):
                errors.append(f"Issues[{i}].DocsLink {docs!r}")
            if it.get("GH") and not it["GH"].startswith("https://github.com/"):
                errors.append(f"Issues[{i}].GH {it['GH']!r}")
            for k in ("Reason", "SqlStatement", "FilePath", "Suggestion"):
                if not it.get(k):
                    errors.append(f"Issues[{i}].{k} is empty")
    return errors


def expect(r, path):
    want = [tuple(l.rstrip("\n").split("\t")) for l in open(path, encoding="utf-8") if l.strip()]
    have = [(i["IssueType"], i["ObjectType"], i["ObjectName"], i["Reason"], i["FilePath"]) for i in r["Issues"]]
    errors = [f"missing issue: {w}" for w in want if w not in have]
    errors += [f"unexpected issue: {h}" for h in have if h not in want]
    return errors


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    r = json.load(open(path, encoding="utf-8"))
    if cmd == "get":
        v = eval(sys.argv[3], {"r": r})
        print(v if isinstance(v, str) else json.dumps(v))
        return 0
    errors = validate(r) if cmd == "validate" else expect(r, sys.argv[3])
    for e in errors[:40]:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
