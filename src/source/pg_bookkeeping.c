#include "source/pg_writer_int.h"

#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/*
 * Is the bookkeeping there and current (every column the DDL below makes)?
 * 1 yes, 0 no, -1 the query failed. Each start used to run the DDL: five
 * round trips, the ALTER TABLE under an ACCESS EXCLUSIVE lock, before the
 * first batch. A column added to the DDL must be checked here too.
 */
static int cdc_metainfo_current(pgconn *c)
{
    const char *p[2] = {CDC_CHANNELS_TABLE, CDC_COUNTS_TABLE};
    char *v = pgconn_query_value(c,
                                 "SELECT to_regclass($2) IS NOT NULL AND EXISTS (SELECT 1 FROM "
                                 "pg_attribute WHERE attrelid = to_regclass($1) AND attname = "
                                 "'queue_generation' AND NOT attisdropped)",
                                 2, p);
    if (!v)
        return -1;
    int current = strcmp(v, "t") == 0;
    free(v);
    return current;
}

bool cdc_metainfo_create(pgconn *c)
{
    int current = cdc_metainfo_current(c);
    if (current != 0)
        return current == 1;
    /*
     * Two importers never share a database, but a restart may race a dying
     * predecessor's session: IF NOT EXISTS keeps this idempotent.
     */
    /* "already exists, skipping" notices are noise for the operator */
    return pgconn_exec(c, "SET client_min_messages = warning") &&
           pgconn_exec(c, "CREATE SCHEMA IF NOT EXISTS " CDC_META_SCHEMA) &&
           pgconn_exec(c, "CREATE TABLE IF NOT EXISTS " CDC_CHANNELS_TABLE " ("
                          "migration_uuid uuid NOT NULL, channel_no integer NOT NULL, "
                          "last_applied_vsn bigint NOT NULL DEFAULT 0, "
                          "num_inserts bigint NOT NULL DEFAULT 0, "
                          "num_updates bigint NOT NULL DEFAULT 0, "
                          "num_deletes bigint NOT NULL DEFAULT 0, "
                          "PRIMARY KEY (migration_uuid, channel_no))") &&
           pgconn_exec(c, "CREATE TABLE IF NOT EXISTS " CDC_COUNTS_TABLE " ("
                          "migration_uuid uuid NOT NULL, table_name text NOT NULL, "
                          "channel_no integer NOT NULL, total_events bigint NOT NULL DEFAULT 0, "
                          "num_inserts bigint NOT NULL DEFAULT 0, "
                          "num_updates bigint NOT NULL DEFAULT 0, "
                          "num_deletes bigint NOT NULL DEFAULT 0, "
                          "PRIMARY KEY (migration_uuid, table_name, channel_no))") &&
           /* added later: tables made by an older version get the column here */
           pgconn_exec(c, "ALTER TABLE " CDC_CHANNELS_TABLE
                          " ADD COLUMN IF NOT EXISTS queue_generation text");
}

int cdc_metainfo_generation_check(pgconn *c, const char *migration_uuid, const char *generation,
                                  int64_t *applied_vsn)
{
    const char *p[2] = {migration_uuid, generation};
    PGresult *r = pgconn_query(c,
                               "SELECT count(*), coalesce(max(last_applied_vsn), 0) FROM "
                               CDC_CHANNELS_TABLE
                               " WHERE migration_uuid = $1 AND queue_generation <> $2",
                               2, p);
    if (!r)
        return -1;
    bool other = strcmp(PQgetvalue(r, 0, 0), "0") != 0;
    *applied_vsn = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
    if (other)
        return 1;
    /* rows of a version that did not record generations: the queue they counted is this one */
    return pgconn_exec_params(c,
                              "UPDATE " CDC_CHANNELS_TABLE " SET queue_generation = $2 "
                              "WHERE migration_uuid = $1 AND queue_generation IS NULL",
                              2, p)
               ? 0
               : -1;
}

bool cdc_metainfo_reset(pgconn *c, const char *migration_uuid)
{
    const char *p[1] = {migration_uuid};
    return pgconn_exec_params(c, "DELETE FROM " CDC_CHANNELS_TABLE " WHERE migration_uuid = $1",
                              1, p) &&
           pgconn_exec_params(c, "DELETE FROM " CDC_COUNTS_TABLE " WHERE migration_uuid = $1", 1,
                              p);
}

bool cdc_metainfo_channels(pgconn *c, const char *migration_uuid, const char *generation,
                           int want, int *nchannels, int64_t **last_applied)
{
    const char *p[3] = {migration_uuid, NULL, generation};
    PGresult *r = pgconn_query(c,
                               "SELECT channel_no, last_applied_vsn FROM " CDC_CHANNELS_TABLE
                               " WHERE migration_uuid = $1 ORDER BY channel_no",
                               1, p);
    if (!r)
        return false;
    int n = PQntuples(r);
    if (n == 0) {
        PQclear(r);
        char buf[16];
        snprintf(buf, sizeof buf, "%d", want);
        p[1] = buf;
        /* all rows in one statement: a crash leaves either none or all of them */
        if (!pgconn_exec_params(c,
                                "INSERT INTO " CDC_CHANNELS_TABLE
                                " (migration_uuid, channel_no, queue_generation) SELECT $1, g, $3 "
                                "FROM generate_series(0, $2::int - 1) g ON CONFLICT DO NOTHING",
                                3, p))
            return false;
        *nchannels = want;
        *last_applied = xcalloc((size_t)want, sizeof **last_applied);
        return true;
    }
    *nchannels = n;
    *last_applied = xcalloc((size_t)n, sizeof **last_applied);
    for (int i = 0; i < n; i++) {
        int no = atoi(PQgetvalue(r, i, 0));
        if (no != i) {
            log_report(LOG_ERROR, "the change apply bookkeeping is damaged", NULL,
                       "target database: %s has channel %d where %d was expected",
                       CDC_CHANNELS_TABLE, no, i);
            PQclear(r);
            free(*last_applied);
            *last_applied = NULL;
            return false;
        }
        (*last_applied)[i] = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    }
    PQclear(r);
    return true;
}

bool cdc_metainfo_channel_progress(pgconn *c, const char *migration_uuid, int channel,
                                   int64_t *vsn)
{
    char ch[16];
    snprintf(ch, sizeof ch, "%d", channel);
    const char *p[2] = {migration_uuid, ch};
    PGresult *r = pgconn_query_quiet(c,
                                     "SELECT last_applied_vsn FROM " CDC_CHANNELS_TABLE
                                     " WHERE migration_uuid = $1 AND channel_no = $2",
                                     2, p);
    if (!r)
        return false;
    bool ok = PQntuples(r) == 1;
    if (ok)
        *vsn = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return ok;
}

bool cdc_metainfo_total_applied(pgconn *c, const char *migration_uuid, int64_t *total)
{
    const char *p[1] = {migration_uuid};
    char *v = pgconn_query_value(c,
                                 "SELECT coalesce(sum(num_inserts + num_updates + num_deletes), 0) "
                                 "FROM " CDC_CHANNELS_TABLE " WHERE migration_uuid = $1",
                                 1, p);
    if (!v)
        return false;
    *total = strtoll(v, NULL, 10);
    free(v);
    return true;
}

/*
 * Not pg_quote_qualified_min (db/pgconn.h), though nearly the same: that one
 * leaves a '$' unquoted, this one quotes it, and the names this makes are
 * stored in the target's bookkeeping rows, which must keep matching them.
 */
static bool plain_ident(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

static void append_part(strbuf *sb, const char *s)
{
    if (plain_ident(s)) {
        strbuf_append(sb, s);
        return;
    }
    strbuf_append_char(sb, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            strbuf_append_char(sb, '"');
        strbuf_append_char(sb, *p);
    }
    strbuf_append_char(sb, '"');
}

char *cdc_metainfo_table_name(const char *schema, const char *table)
{
    strbuf sb = STRBUF_INIT;
    append_part(&sb, schema);
    strbuf_append_char(&sb, '.');
    append_part(&sb, table);
    return strbuf_detach(&sb);
}
