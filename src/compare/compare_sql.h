/*
 * The SQL of compare data, as pure functions (unit-tested): the session
 * settings that make text forms agree, a column's normalised expression, the
 * key ranges a table is split into, and the per-range queries.
 */
#ifndef VOYAGER_COMPARE_COMPARE_SQL_H
#define VOYAGER_COMPARE_COMPARE_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Run on every session before its transaction. statement_timeout_s 0: none.
 * Caller frees.
 */
char *compare_sql_session_settings(int statement_timeout_s);

/*
 * The expression hashed for one column: floats by their binary form (text
 * forms differ between server versions), numeric without trailing zeros when
 * trim_scale exists on every side, anything else as is (its text form under
 * the session settings). base_type: the column's type name with domains
 * resolved. Caller frees.
 */
char *compare_sql_column_expr(const char *column, const char *base_type, bool trim_scale);

/* ROW(e1, ...)::text over the expressions (or '' when there are none). Caller frees. */
char *compare_sql_row_text(const char *const *exprs, size_t n);

/* Is a key of this type split into numeric ranges? (int2/int4/int8) */
bool compare_sql_splittable_type(const char *base_type);

/*
 * Split [lo, hi] of an integer key into at most want ranges; the first range
 * is open below and the last open above, so the predicates cover every value
 * on either side. Returns the number n >= 1 and sets preds[0..n) (caller frees
 * each and the array). column: quoted key column. n == 1 gives "true".
 */
size_t compare_sql_ranges(const char *column, int64_t lo, int64_t hi, size_t want, char ***preds);

/*
 * count(*) and, when row_text is given, an order-independent sum of a 64-bit
 * hash of each row of from (e.g. ONLY "s"."t") where pred: hashtextextended
 * (fast_hash: every server computes the same value for the probe, i.e. the
 * same byte order) or the first 64 bits of md5. Caller frees.
 */
char *compare_sql_range_query(const char *from, const char *pred, const char *row_text, bool fast_hash);

/* The probe whose result must agree on every side for fast_hash. */
#define COMPARE_SQL_HASH_PROBE "SELECT hashtextextended('yb-voyager compare data', 0)::text"

/*
 * Rows of a range in the same order on both sides: key text (collation "C",
 * byte order), row md5. key_text NULL (no primary key): the md5 is the key.
 * Caller frees.
 */
char *compare_sql_rows_cursor(const char *cursor, const char *from, const char *pred,
                              const char *key_text, const char *row_text);

#endif
