# Helpers for the schema tests (export schema / import schema).
# Needs harness.sh sourced first.

RICH_SCHEMAS='public,sales,"MixedCase"'

# rich_source: the source cluster with tests/lib/rich_schema.sql in database sourcedb.
rich_source() {
    pg_start source sourcedb && psql_as source sourcedb -f "$HARNESS_DIR/rich_schema.sql" >/dev/null
}

# schema_src_flags SCHEMAS: source connection flags for export schema, in SCHEMA_SRC.
schema_src_flags() {
    SCHEMA_SRC=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$SOURCE_PORT"
        --source-db-user voyager --source-db-name sourcedb --source-db-schema "$1")
}

# normalized_schema NAME DB: pg_dump --schema-only of the rich schemas, without what
# legitimately differs between two databases: comment lines, SET lines, blank lines,
# and pg_dump's per-run \restrict key. Statements keep pg_dump's (deterministic,
# dependency-sorted) order, so no sorting is needed.
normalized_schema() {
    "$PGBIN/pg_dump" -h "$TEST_TMP/$1" -p "$(cluster_port "$1")" -U postgres --schema-only \
        --no-owner --no-privileges -n public -n sales -n '"MixedCase"' "$2" |
        grep -v -e '^--' -e '^SET ' -e '^SELECT pg_catalog.set_config' -e '^\\restrict ' -e '^\\unrestrict ' -e '^$'
}

# catalogue NAME DB SCHEMA-REGEX: the objects of the schemas whose names match, one line
# per object (definitions on one line), as text that is the same on two databases holding the same schema (no oids):
# one query per catalogue family, each line prefixed with the family.
catalogue() {
    local re=$3
    # COPY writes a line break inside a definition as \n: one object per line
    psql_as "$1" "$2" -v re="$re" -f - <<'SQL'
CREATE TEMP VIEW ns AS SELECT oid, nspname FROM pg_namespace WHERE nspname ~ :'re';
COPY (SELECT 'schema ' || nspname || ' ' || coalesce(obj_description(oid, 'pg_namespace'), '') FROM ns ORDER BY 1) TO STDOUT;
COPY (SELECT 'class ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || c.relpersistence::text
    || ' part=' || c.relispartition || ' rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity
    || ' replident=' || c.relreplident::text || ' opts=' || coalesce(c.reloptions::text, '')
    || ' partkey=' || coalesce(pg_get_partkeydef(c.oid), '') || ' bound=' || coalesce(pg_get_expr(c.relpartbound, c.oid), '')
    || ' parents=' || coalesce((SELECT string_agg(i.inhparent::regclass::text, ',' ORDER BY i.inhseqno)
                                FROM pg_inherits i WHERE i.inhrelid = c.oid), '')
    || ' am=' || coalesce((SELECT amname FROM pg_am WHERE oid = c.relam), '')
    FROM pg_class c JOIN ns n ON n.oid = c.relnamespace WHERE c.relkind NOT IN ('t') ORDER BY 1) TO STDOUT;
COPY (SELECT 'column ' || c.oid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
    || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    || ' identity=' || a.attidentity::text || ' generated=' || a.attgenerated::text
    || ' collation=' || coalesce((SELECT collname FROM pg_collation WHERE oid = a.attcollation), '')
    || ' stat=' || a.attstattarget || ' storage=' || a.attstorage::text || ' local=' || a.attislocal || '/' || a.attinhcount
    || ' options=' || coalesce(a.attoptions::text, '') || ' comment=' || coalesce(col_description(c.oid, a.attnum), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') ORDER BY 1) TO STDOUT;
COPY (SELECT 'constraint ' || coalesce(co.conrelid::regclass::text, co.contypid::regtype::text) || ' '
    -- the copies of a foreign key to each partition are numbered in partition creation order
    || CASE WHEN co.conparentid <> 0 AND co.contype = 'f' THEN '(clone)' ELSE co.conname END || ' '
    || pg_get_constraintdef(co.oid) || ' deferrable=' || co.condeferrable || '/' || co.condeferred
    || ' valid=' || co.convalidated || ' local=' || co.conislocal || ' noinherit=' || (co.connoinherit AND co.contype = 'c')
    || ' parent=' || (co.conparentid <> 0) || ' comment=' || coalesce(obj_description(co.oid, 'pg_constraint'), '')
    FROM pg_constraint co JOIN ns n ON n.oid = co.connamespace ORDER BY 1) TO STDOUT;
COPY (SELECT 'index ' || pg_get_indexdef(i.indexrelid) || ' clustered=' || i.indisclustered || ' replident=' || i.indisreplident
    || ' valid=' || i.indisvalid || ' comment=' || coalesce(obj_description(i.indexrelid, 'pg_class'), '')
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN ns n ON n.oid = c.relnamespace ORDER BY 1) TO STDOUT;
COPY (SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
    || ' comment=' || coalesce(obj_description(t.oid, 'pg_trigger'), '')
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal ORDER BY 1) TO STDOUT;
COPY (SELECT 'rule ' || pg_get_ruledef(r.oid) || ' enabled=' || r.ev_enabled::text
    || ' comment=' || coalesce(obj_description(r.oid, 'pg_rewrite'), '')
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN ns n ON n.oid = c.relnamespace
    WHERE r.rulename <> '_RETURN' ORDER BY 1) TO STDOUT;
COPY (SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid) || ' opts=' || coalesce(c.reloptions::text, '')
    || ' populated=' || c.relispopulated || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '')
    FROM pg_class c JOIN ns n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') ORDER BY 1) TO STDOUT;
COPY (SELECT 'policy ' || schemaname || '.' || tablename || ' ' || policyname || ' ' || permissive || ' ' || roles::text
    || ' ' || cmd || ' using=' || coalesce(qual, '') || ' check=' || coalesce(with_check, '')
    FROM pg_policies WHERE schemaname ~ :'re' ORDER BY 1) TO STDOUT;
COPY (SELECT 'type ' || t.oid::regtype || ' ' || t.typtype::text || ' base=' || coalesce(nullif(t.typbasetype, 0)::regtype::text, '')
    || ' notnull=' || t.typnotnull || ' default=' || coalesce(t.typdefault, '')
    || ' collation=' || coalesce((SELECT collname FROM pg_collation WHERE oid = t.typcollation), '')
    || ' labels=' || coalesce((SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid), '')
    || ' range=' || coalesce((SELECT rngsubtype::regtype::text FROM pg_range WHERE rngtypid = t.oid), '')
    || ' comment=' || coalesce(obj_description(t.oid, 'pg_type'), '')
    FROM pg_type t JOIN ns n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
    ORDER BY 1) TO STDOUT;
COPY (SELECT 'function ' || CASE WHEN p.prokind = 'a' THEN 'aggregate ' || p.oid::regprocedure
        || (SELECT ' sfunc=' || aggtransfn || ' stype=' || aggtranstype::regtype || ' init=' || coalesce(agginitval, '')
            FROM pg_aggregate WHERE aggfnoid = p.oid)
        ELSE pg_get_functiondef(p.oid) END
    || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '')
    FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') ORDER BY 1) TO STDOUT;
COPY (SELECT 'sequence ' || schemaname || '.' || sequencename || ' ' || data_type || ' ' || start_value || ' ' || min_value
    || ' ' || max_value || ' ' || increment_by || ' ' || cycle || ' ' || cache_size
    FROM pg_sequences WHERE schemaname ~ :'re' ORDER BY 1) TO STDOUT;
COPY (SELECT 'owned ' || d.objid::regclass || ' by ' || d.refobjid::regclass || '.' || a.attname || ' ' || d.deptype::text
    FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN ns n ON n.oid = s.relnamespace
    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass ORDER BY 1) TO STDOUT;
COPY (SELECT 'collation ' || n.nspname || '.' || co.collname || ' ' || co.collprovider::text || ' ' || co.collisdeterministic
    || ' ' || coalesce(co.collcollate, '') || ' ' || coalesce(co.colliculocale, '')
    || ' comment=' || coalesce(obj_description(co.oid, 'pg_collation'), '')
    FROM pg_collation co JOIN ns n ON n.oid = co.collnamespace ORDER BY 1) TO STDOUT;
COPY (SELECT 'tsconfig ' || n.nspname || '.' || cfg.cfgname || ' parser=' || (SELECT prsname FROM pg_ts_parser WHERE oid = cfg.cfgparser)
    || ' comment=' || coalesce(obj_description(cfg.oid, 'pg_ts_config'), '') || ' maps='
    || (SELECT string_agg(m.maptokentype::text || ':' || m.mapseqno || ':' || m.mapdict::regdictionary, ',' ORDER BY m.maptokentype, m.mapseqno)
        FROM pg_ts_config_map m WHERE m.mapcfg = cfg.oid)
    FROM pg_ts_config cfg JOIN ns n ON n.oid = cfg.cfgnamespace ORDER BY 1) TO STDOUT;
COPY (SELECT 'tsdict ' || n.nspname || '.' || d.dictname || ' ' || (SELECT tmplname FROM pg_ts_template WHERE oid = d.dicttemplate) || ' ' || coalesce(d.dictinitoption, '')
    FROM pg_ts_dict d JOIN ns n ON n.oid = d.dictnamespace ORDER BY 1) TO STDOUT;
COPY (SELECT 'operator ' || o.oid::regoperator || ' ' || o.oprcode::regproc || ' comment=' || coalesce(obj_description(o.oid, 'pg_operator'), '')
    FROM pg_operator o JOIN ns n ON n.oid = o.oprnamespace
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = o.oid AND d.deptype = 'e') ORDER BY 1) TO STDOUT;
COPY (SELECT 'statistics ' || pg_get_statisticsobjdef(s.oid) || ' comment=' || coalesce(obj_description(s.oid, 'pg_statistic_ext'), '')
    FROM pg_statistic_ext s JOIN ns n ON n.oid = s.stxnamespace ORDER BY 1) TO STDOUT;
COPY (SELECT 'evtrigger ' || e.evtname || ' ' || e.evtevent || ' ' || e.evtenabled::text || ' ' || coalesce(e.evttags::text, '')
    || ' ' || e.evtfoid::regprocedure || ' comment=' || coalesce(obj_description(e.oid, 'pg_event_trigger'), '')
    FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid JOIN ns n ON n.oid = p.pronamespace ORDER BY 1) TO STDOUT;
COPY (SELECT 'conversion ' || n.nspname || '.' || v.conname || ' ' || pg_encoding_to_char(v.conforencoding) || ' '
    || pg_encoding_to_char(v.contoencoding) || ' ' || v.conproc::regproc || ' ' || v.condefault
    FROM pg_conversion v JOIN ns n ON n.oid = v.connamespace ORDER BY 1) TO STDOUT;
COPY (SELECT 'opfamily ' || n.nspname || '.' || f.opfname || ' ' || (SELECT amname FROM pg_am WHERE oid = f.opfmethod)
    FROM pg_opfamily f JOIN ns n ON n.oid = f.opfnamespace ORDER BY 1) TO STDOUT;
COPY (SELECT 'comment ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' = ' || d.description
    FROM pg_description d WHERE d.objoid >= 16384 ORDER BY 1) TO STDOUT;
COPY (SELECT 'extension ' || e.extname || ' ' || e.extversion || ' ' || n.nspname
    FROM pg_extension e JOIN ns n ON n.oid = e.extnamespace ORDER BY 1) TO STDOUT;
SQL
}
