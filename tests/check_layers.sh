#!/usr/bin/env bash
# The layering of docs/ARCHITECTURE.md, checked on the tree: prints each breach, exits 1 on any.
set -u
cd "$(dirname "$0")/.."
fail=0
breach() { echo "layering: $1"; fail=1; }

# nothing below the commands includes cli/
hits=$(grep -rln '#include "cli/' src --include=*.[ch] | grep -v '^src/cli/' | grep -v '^src/main.c$')
[ -z "$hits" ] || breach "files outside src/cli include cli/ headers: $(echo $hits)"
# only commands know exit codes
hits=$(grep -rln 'core/exitcodes.h' src --include=*.[ch] | grep -v '^src/cli/')
[ -z "$hits" ] || breach "engines include core/exitcodes.h (return engine_status instead): $(echo $hits)"
# only the catalog talks to SQLite
hits=$(grep -rlE 'sqlite3|catalog/catalog_int.h' src --include=*.[ch] | grep -v '^src/catalog/')
[ -z "$hits" ] || breach "files outside src/catalog use SQLite or catalog_int.h: $(echo $hits)"
# engines do not read flags
hits=$(grep -rlE '\bopts_(get|has_flag|is_set|get_int|get_bool)\b|\bcmd_ctx\b' \
    src/core src/catalog src/db src/source src/schema src/snapshot src/cdc src/compare src/migration \
    --include=*.[ch] 2>/dev/null)
[ -z "$hits" ] || breach "engines read flags or take cmd_ctx: $(echo $hits)"
# lower layers do not include engines (source/ sits just below them: only it may include source/)
for low in core catalog db source; do
    above='schema|snapshot|cdc|compare|migration'
    [ "$low" = source ] || above="$above|source"
    hits=$(grep -rlE "#include \"($above)/" "src/$low" --include=*.[ch])
    [ -z "$hits" ] || breach "src/$low includes engine headers: $(echo $hits)"
done
# the engines reach a source's own code only through source/source.h (and source/change.h),
# and a written database's only through source/writer.h
hits=$(grep -rnoE '#include "source/[^"]+"' src --include=*.[ch] | grep -v '^src/source/' |
    grep -vE '"source/(source|change|writer)\.h"$' | cut -d: -f1 | sort -u)
[ -z "$hits" ] || breach "files outside src/source include a source's own headers: $(echo $hits)"
# the writers (change apply, snapshot import) speak to the database they write to only through
# source/writer.h: no libpq, no pgconn, no YugabyteDB node handling of their own
hits=$(grep -lE '\bPQ[a-zA-Z]+ *\(|\bpgconn_[a-z_]+ *\(|\bpgconn\b|->pg\b|#include "db/(pgconn|yb_nodes)\.h"|\bpg_quote_[a-z_]+ *\(|\byb_nodes_[a-z_]+ *\(' \
    src/cdc/apply.[ch] src/cdc/channels.[ch] src/cdc/cdc_import.[ch] \
    src/snapshot/batch_loader.[ch] src/snapshot/snapshot_import.[ch])
[ -z "$hits" ] || breach "the writers call libpq instead of source/writer.h: $(echo $hits)"
exit $fail
