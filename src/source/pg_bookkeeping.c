#include "cdc/import_metainfo.h"

#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

bool cdc_metainfo_create(pgconn *c)
{
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

/* Read one part of a cdc_metainfo_table_name() form; *s advances past it. */
static char *parse_part(const char **s)
{
    const char *p = *s;
    strbuf sb = STRBUF_INIT;
    if (*p == '"') {
        p++;
        while (*p) {
            if (*p == '"' && p[1] == '"') {
                strbuf_append_char(&sb, '"');
                p += 2;
            } else if (*p == '"') {
                p++;
                break;
            } else {
                strbuf_append_char(&sb, *p++);
            }
        }
    } else {
        while (*p && *p != '.')
            strbuf_append_char(&sb, *p++);
    }
    *s = p;
    return strbuf_detach(&sb);
}

bool cdc_import_counts_by_table(pgconn *c, const char *migration_uuid, cdc_table_count **out,
                                size_t *count)
{
    *out = NULL;
    *count = 0;
    int exists = pgconn_relation_exists(c, CDC_COUNTS_TABLE);
    if (exists <= 0)
        return exists == 0;
    const char *p[1] = {migration_uuid};
    PGresult *r = pgconn_query(c,
                               "SELECT table_name, sum(num_inserts), sum(num_updates), "
                               "sum(num_deletes) FROM " CDC_COUNTS_TABLE
                               " WHERE migration_uuid = $1 GROUP BY table_name ORDER BY table_name",
                               1, p);
    if (!r)
        return false;
    int n = PQntuples(r);
    *out = xcalloc(n ? (size_t)n : 1, sizeof **out);
    for (int i = 0; i < n; i++) {
        cdc_table_count *t = &(*out)[i];
        const char *s = PQgetvalue(r, i, 0);
        t->schema_name = parse_part(&s);
        if (*s == '.')
            s++;
        t->table_name = parse_part(&s);
        t->inserts = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        t->updates = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        t->deletes = strtoll(PQgetvalue(r, i, 3), NULL, 10);
    }
    *count = (size_t)n;
    PQclear(r);
    return true;
}

void cdc_import_counts_free(cdc_table_count *counts, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(counts[i].schema_name);
        free(counts[i].table_name);
    }
    free(counts);
}
