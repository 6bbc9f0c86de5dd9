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
 * The same split as numbers: returns n and sets (*bounds)[0..n-1), the boundaries between the
 * ranges (range i is [bounds[i-1], bounds[i]), the first open below, the last open above).
 * Caller frees *bounds.
 */
size_t compare_sql_range_bounds(int64_t lo, int64_t hi, size_t want, int64_t **bounds);

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
 * ---- Row hashes by the types' own hash functions (PostgreSQL 14+) ----
 *
 * hash_record_extended() over ROW(columns) hashes each value with its type's
 * extended hash function (the one hash partitioning relies on, so stable
 * across versions), skipping the output functions that dominate the text
 * checksum. Only types whose hash distinguishes exactly what their text form
 * does are hashed natively (compare_sql_native_type); every other column goes
 * into one ROW(...)::text hashed as text, as before.
 */

/*
 * Is a column of this type hashed natively? catalog_type: the base type's
 * name when it is a pg_catalog type, else ""; elem: the same for an array's
 * element type, else "". Floats count (their binary form, float8send, is hashed).
 */
bool compare_sql_native_type(const char *catalog_type, const char *elem);

/* The expression of a natively hashed column (a cast to its base type, text under "C"). Caller frees. */
char *compare_sql_column_native(const char *column, const char *catalog_type);

/*
 * The per-row 64-bit hash: hash_record_extended(ROW(native..., ROW(text...)::text), 0).
 * text: compare_sql_column_expr() expressions. Caller frees.
 */
char *compare_sql_row_hash_native(const char *const *native, size_t nn, const char *const *text, size_t nt);

/* The per-row 64-bit hash of row_text: hashtextextended (fast_hash) or md5's first 64 bits. Caller frees. */
char *compare_sql_row_hash_text(const char *row_text, bool fast_hash);

/* count(*) and the sum of row_hash (NULL: count only) over from where pred. Caller frees. */
char *compare_sql_sum_query(const char *from, const char *pred, const char *row_hash);

/* The probe whose result must agree on every side for native row hashes (one value per hashed family). */
#define COMPARE_SQL_NATIVE_PROBE                                                                   \
    "SELECT hash_record_extended(ROW(1::int8, 2::int4, 'x'::text COLLATE \"C\", '\\x01'::bytea, "   \
    "1.50::numeric, '2024-01-01 00:00+00'::timestamptz, '2024-01-01'::date, true, "               \
    "'{\"a\": [1, \"b\"]}'::jsonb, ARRAY['p', NULL]::text[] COLLATE \"C\", "                      \
    "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, float8send(1.5), ROW(1, 'y')::text), 0)::text"

/*
 * ---- Key ranges of any key type ----
 *
 * nbounds boundary keys (sampled on the source, sorted, distinct), each nkeys
 * text values in bounds[b * nkeys + k], split the key space into nbounds + 1
 * ranges: below the first, between each two, from the last up. cols: the key
 * columns as they are compared (quoted, with COLLATE "C" where wanted); a
 * composite key compares as a row. Both sides get the same predicates; an
 * untyped literal takes the column's type on each. Returns nbounds + 1
 * (1 and "true" when nbounds is 0). Caller frees each and the array.
 */
size_t compare_sql_key_ranges(const char *const *cols, size_t nkeys, const char *const *bounds,
                              size_t nbounds, char ***preds);

/*
 * The sampled keys that boundaries are taken from (compare data with a source read through the
 * seam): of each row of from in a sample of pct percent (whole blocks when blocks, else single
 * rows) whose kq::text matches the regular expression form (NULL: every row), kq::text (char(n)
 * without its padding, as the source has it), sorted by order: an expression of kq in the
 * order both sides compare (the key's own type, or its text under "C"). The sort is by
 * position: ORDER BY a bare column name takes the output column of that name, i.e. the text,
 * which orders numbers (-10 < -2, 10 < 9) unlike the ranges' predicates, which then overlap.
 * Caller frees.
 */
char *compare_sql_sample_keys(const char *from, const char *kq, const char *order, bool blocks, double pct,
                              const char *form);

/*
 * Rows of a range in the same order on both sides: key text (collation "C"),
 * row_digest (a function call or cast giving text); key_text NULL (no primary key): the digest
 * is the key. Caller frees.
 */
char *compare_sql_rows_cursor_digest(const char *cursor, const char *from, const char *pred,
                                     const char *key_text, const char *row_digest);

/*
 * Rows of a range in the same order on both sides: key text (collation "C",
 * byte order), row md5. key_text NULL (no primary key): the md5 is the key.
 * Caller frees.
 */
char *compare_sql_rows_cursor(const char *cursor, const char *from, const char *pred,
                              const char *key_text, const char *row_text);

#endif
