/* Names an operator types in a list flag: "public,\"MixedCase\",Sales". */
#ifndef VOYAGER_SCHEMA_SCHEMA_NAMES_H
#define VOYAGER_SCHEMA_SCHEMA_NAMES_H

#include "core/util.h"

#include <stdbool.h>

/*
 * Split a comma list of identifiers the way PostgreSQL reads them: a name in
 * double quotes is exact (commas and "" inside allowed), any other name is
 * folded to lower case. Appends exact names to out. False (with *bad set to a
 * static reason) on an unterminated quote or an empty item.
 */
bool schema_names_parse(const char *list, strlist *out, const char **bad);

/*
 * The same split, but unquoted names are kept as typed (no folding), for a
 * lookup that tries the exact name before a case-insensitive match (as
 * yb-voyager does for --source-db-schema). (*quoted)[i] tells whether out's
 * i-th name was in double quotes; *quoted is grown with out (caller frees it,
 * NULL to start).
 */
bool schema_names_parse_typed(const char *list, strlist *out, bool **quoted, const char **bad);

/* The schema (MySQL: database) that holds the importers' bookkeeping on every database. */
#define SCHEMA_NAMES_RESERVED "ybvoyager_metadata"

/*
 * False, after a one-line error naming it, when list (--source-db-schema as
 * typed) names the bookkeeping schema SCHEMA_NAMES_RESERVED: an unquoted name
 * in any case, a quoted one exactly: its tables would be mixed with the
 * importers' bookkeeping tables on every database. True for a list that
 * does not parse (its own error comes later).
 */
bool schema_names_refuse_reserved(const char *list);

#endif
