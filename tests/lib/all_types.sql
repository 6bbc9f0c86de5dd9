-- Every built-in type family, with edge values, for the snapshot round-trip test.
-- Names on purpose: case-sensitive and reserved table, column and schema names.
SET client_encoding = 'UTF8';
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy', 'Very "Happy"');
CREATE DOMAIN public.posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN public.email AS text CHECK (VALUE ~ '@');
CREATE TYPE public.pair AS (a int, b text);

CREATE TABLE public."AllTypes" (
    id integer PRIMARY KEY,
    c_smallint smallint, c_int integer, c_bigint bigint,
    c_numeric numeric, c_numeric_p numeric(38, 10), c_real real, c_double double precision,
    c_money money,
    c_bool boolean,
    c_char char(5), c_varchar varchar(20), c_text text, c_name name, c_qchar "char",
    c_bytea bytea,
    c_date date, c_time time, c_timetz timetz, c_ts timestamp, c_tstz timestamptz, c_interval interval,
    c_uuid uuid, c_json json, c_jsonb jsonb, c_jsonpath jsonpath, c_xml xml,
    c_inet inet, c_cidr cidr, c_macaddr macaddr, c_macaddr8 macaddr8,
    c_bit bit(8), c_varbit varbit(16),
    c_point point, c_line line, c_lseg lseg, c_box box, c_path path, c_polygon polygon, c_circle circle,
    c_int4range int4range, c_int8range int8range, c_numrange numrange, c_tsrange tsrange,
    c_tstzrange tstzrange, c_daterange daterange, c_multirange int4multirange,
    c_tsvector tsvector, c_tsquery tsquery,
    c_oid oid, c_pg_lsn pg_lsn,
    c_enum public.mood, c_domain public.posint, c_email public.email, c_pair public.pair,
    c_int_arr integer[], c_text_arr text[], c_2d_arr integer[][], c_enum_arr public.mood[],
    c_jsonb_arr jsonb[], c_uuid_arr uuid[], c_tstz_arr timestamptz[], c_numeric_arr numeric[],
    c_bytea_arr bytea[], c_bool_arr boolean[], c_range_arr int4range[], c_point_arr point[]
);

INSERT INTO public."AllTypes" VALUES
(1, -32768, -2147483648, -9223372036854775808,
 '-123456789012345678901234567890.123456789012345678901234567890', 1234567890123456789012345678.0123456789,
 '-3.4e38', '-1.7976931348623157e308', '-92233720368547758.08',
 true, 'ab', 'short', E'tab\there\nnewline\\backslash \u00e9\u4e2d\U0001F600', 'nm', 'x',
 '\x00010203fffefd5c0a0d09', '4713-01-01 BC', '00:00:00', '00:00:00+14', '4713-01-01 00:00:00 BC',
 '1999-12-31 23:59:59.999999+05:30', '-178000000 years',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.5, "x\"y"], "b": null}', '{"z": 1, "a": {"n": [true, false]}}',
 '$.a[*] ? (@ > 1)', '<root a="1"><child>text &amp; more</child></root>',
 '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
 B'10101010', B'1100',
 '(1.5,-2.5)', '{1,-1,0}', '[(0,0),(1,1)]', '((0,0),(2,2))', '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(1,0))', '<(0,0),5>',
 '[1,10)', '(,100]', '[1.5,2.5]', '[2020-01-01,2021-01-01)', '[2020-01-01 00:00+00,infinity)', 'empty', '{[1,3),[5,7)}',
 'a fat cat:1A sat:2B', 'fat & (rat | cat)',
 4294967295, '16/B374D848',
 'Very "Happy"', 42, 'a@b.c', ROW(1, 'x,y "z"'),
 '{1,NULL,3}', '{"a,b","c\"d","",NULL,"NULL","back\\slash"}', '{{1,2},{3,4}}', '{sad,happy}',
 ARRAY['{"k": 1}'::jsonb, '[]'::jsonb], '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
 ARRAY['2020-01-01 00:00:00+00'::timestamptz, 'infinity'], '{NaN,1.5,-0}', ARRAY['\x00'::bytea, '\x5c22'::bytea],
 '{t,f,NULL}', ARRAY['[1,2)'::int4range], ARRAY['(1,2)'::point]),
(2, 32767, 2147483647, 9223372036854775807,
 'NaN', 0, 'NaN', 'Infinity', '92233720368547758.07',
 false, '', '', '', '', ' ',
 '\x', 'infinity', '24:00:00', '23:59:59.999999-14', 'infinity', '-infinity', '178000000 years 11 mons 30 days 23:59:59.999999',
 '00000000-0000-0000-0000-000000000000', '""', '"\u00e9 \\ \n"', '$', '<a/>',
 '::1', '::/0', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff',
 B'00000000', B'',
 '(0,0)', '{0,1,0}', '[(1e300,1e-300),(0,0)]', '((1,1),(1,1))', '((0,0))', '((0,0))', '<(1e10,1e-10),0>',
 'empty', '[-9223372036854775808,9223372036854775807)', '(,)', '(,)', '(-infinity,infinity)', '(,)', '{}',
 '', 'a', 0, '0/0',
 'sad', 1, '@', ROW(NULL, NULL),
 '{}', '{}', '{{NULL,NULL}}', '{}', '{}', '{}', '{}', '{Infinity,-Infinity}', '{}', '{}', '{}', '{}'),
(3, 0, 0, 0, 'Infinity', -0.0000000001, '-Infinity', '-0', NULL,
 NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, 'null', 'null', NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL),
(4, 1, 1, 1, '-Infinity', 1e-10, '1.17549435e-38', '2.2250738585072014e-308', 0,
 true, 'abcde', E'\\N', E'\\.', E'\r\n\\r', '\',
 '\x5c4e', '2000-02-29', '12:34:56.789', '12:34:56+05:45', '2000-02-29 12:00:00', '2000-02-29 12:00:00 America/New_York', '1 day -1 second',
 NULL, '[]', '{}', NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL);
-- Many plain rows too, so that batches and parallel files matter.
INSERT INTO public."AllTypes"(id, c_int, c_text, c_tstz, c_numeric, c_jsonb, c_text_arr, c_bytea)
    SELECT g, g, repeat(E'r\t\\', g % 5) || g, '2024-01-01 00:00+00'::timestamptz + g * interval '1 minute',
           g / 7.0, jsonb_build_object('g', g), ARRAY[g::text, NULL], decode(md5(g::text), 'hex')
    FROM generate_series(5, 3000) g;

-- Reserved and case-sensitive names, a schema with a capital letter.
CREATE SCHEMA "Sales";
CREATE TABLE "Sales"."select" ("from" int, "User" text, "order" text, "Group" boolean);
INSERT INTO "Sales"."select" SELECT g, 'u' || g, CASE WHEN g % 2 = 0 THEN NULL ELSE '' END, g % 3 = 0
    FROM generate_series(1, 500) g;
CREATE TABLE "Sales".lower_case (id int PRIMARY KEY, v text);
INSERT INTO "Sales".lower_case SELECT g, 'v' || g FROM generate_series(1, 100) g;
CREATE TABLE "Sales"."LOWER_CASE" (id int PRIMARY KEY, v text);
INSERT INTO "Sales"."LOWER_CASE" SELECT g, 'V' || g FROM generate_series(1, 7) g;

-- A stored generated column: exported and imported without it, recomputed on the target.
CREATE TABLE public.generated_cols (id int PRIMARY KEY, a int, doubled int GENERATED ALWAYS AS (a * 2) STORED);
INSERT INTO public.generated_cols(id, a) SELECT g, g FROM generate_series(1, 50) g;

-- Empty table, and a partitioned table (copied through its root).
CREATE TABLE public.empty_table (id int, t text);
CREATE TABLE public.measurements (id int, at date, v numeric) PARTITION BY RANGE (at);
CREATE TABLE public.measurements_2023 PARTITION OF public.measurements FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE public.measurements_2024 PARTITION OF public.measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO public.measurements SELECT g, '2023-06-01'::date + (g % 400), g * 0.5 FROM generate_series(1, 800) g;

-- A sequence not owned by any table, advanced, and one never called.
CREATE SEQUENCE public.free_seq START 100;
SELECT nextval('public.free_seq') FROM generate_series(1, 5);
CREATE SEQUENCE "Sales"."Untouched_seq";

-- Values larger than the exporter's write buffer and the importer's send buffer (1 MiB).
CREATE TABLE public.big_values (id int PRIMARY KEY, v text, b bytea);
INSERT INTO public.big_values SELECT g, repeat(E'big\tvalue\\' || g, 300000), decode(repeat(md5(g::text), 40000), 'hex')
    FROM generate_series(1, 4) g;
-- A table without columns.
CREATE TABLE public.no_columns ();
INSERT INTO public.no_columns DEFAULT VALUES;
INSERT INTO public.no_columns DEFAULT VALUES;
