/*
 * source/mysql/mysql_binlog against a live MariaDB (tests/integration/test_mysql_binlog.sh):
 * rows of every type family inserted, updated and deleted in four transactions are read back
 * from the binlog; decoded values are compared with what the server's SELECT returns for the
 * same rows, positions grow strictly, and resuming from a saved position yields exactly the
 * later transactions.
 */
#include "testlib.h"
#include "test_mysql_live.h"

#include "core/util.h"
#include "source/mysql/mysql_binlog.h"
#include "source/mysql/mysql_catalog.h"

#include <ctype.h>
#include <stdlib.h>

TEST(mysql_binlog_pos_order)
{
    mysql_binlog_pos a = {"binlog.000009", 900, ""}, b = {"binlog.000010", 4, ""}, c = {"binlog.000010", 120, ""};
    CHECK(mysql_binlog_pos_cmp(&a, &b) < 0);
    CHECK(mysql_binlog_pos_cmp(&b, &c) < 0);
    CHECK(mysql_binlog_pos_cmp(&c, &c) == 0);
    CHECK(mysql_binlog_pos_cmp(&c, &a) > 0);
}

/*
 * The stream rides out exactly the errors mysql_conn calls a lost connection: its own list
 * once missed ER_NET_WRITE_INTERRUPTED, so that broken stream was an error instead of a reconnect.
 */
TEST(mysql_binlog_lost_errors_are_mysql_conns)
{
    char lost[64];
    mysql_binlog_opts o = {.lost = lost, .lost_size = sizeof lost};
    for (unsigned int e = 1; e < 5000; e++) {
        lost[0] = '\0';
        bool noted = mysql_binlog_note_lost(&o, e, "error %u", e);
        if (noted != mysql_errno_lost(e))
            test_fail(__FILE__, __LINE__, "errno %u: the binlog stream says lost=%d, mysql_conn says %d", e,
                      noted, mysql_errno_lost(e));
        CHECK(noted == (lost[0] != '\0'));
    }
    CHECK(mysql_binlog_note_lost(&o, 0, "ended"));
    CHECK(str_eq(lost, "ended"));
    mysql_binlog_opts quiet = {0};
    CHECK(!mysql_binlog_note_lost(&quiet, 2013, "lost"));
}

/* A copy of what the callback saw: per transaction its position and rows as "op table v1|v2|...". */
typedef struct seen {
    mysql_binlog_pos pos[16];
    strlist rows[16];
    size_t n;
} seen;

static void image(strbuf *sb, const mysql_binlog_value *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_append_char(sb, '|');
        if (v[i].is_null) {
            strbuf_append(sb, "NULL");
            continue;
        }
        for (size_t k = 0; k < v[i].len; k++) {
            unsigned char ch = (unsigned char)v[i].data[k];
            if (ch < 0x20 || ch == 0x7f)
                strbuf_appendf(sb, "\\x%02x", ch);
            else
                strbuf_append_char(sb, (char)ch);
        }
    }
}

static bool collect(void *arg, const mysql_binlog_txn *txn)
{
    seen *s = arg;
    if (s->n == 16)
        return false;
    s->pos[s->n] = txn->commit;
    memset(&s->rows[s->n], 0, sizeof s->rows[s->n]);
    for (size_t i = 0; i < txn->nrows; i++) {
        const mysql_binlog_row *r = &txn->rows[i];
        strbuf sb = STRBUF_INIT;
        strbuf_appendf(&sb, "%c %s ", (char)r->op, r->table->name);
        if (r->before)
            image(&sb, r->before, r->ncols);
        strbuf_append(&sb, " -> ");
        if (r->after)
            image(&sb, r->after, r->ncols);
        strlist_push_owned(&s->rows[s->n], strbuf_detach(&sb));
    }
    s->n++;
    return true;
}

static void seen_free(seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        strlist_free(&s->rows[i]);
    s->n = 0;
}

static bool stream_from(const mysql_catalog *cat, const mysql_binlog_pos *from, seen *s)
{
    db_conf conf = mysql_live_conf();
    mysql_conn *c = mysql_conn_open(&conf, NULL);
    if (!c)
        return false;
    mysql_binlog_opts o = {.catalog = cat, .start = *from, .stop_at_end = true};
    bool ok = mysql_binlog_stream(c, &o, collect, s);
    mysql_conn_close(c);
    return ok;
}

/*
 * The row as the server prints it, in the decoder's text forms: BIT as binary digits of the
 * column's width, FLOAT/DOUBLE compared separately (see below), everything else as SELECT gives it.
 */
static const char *const select_row =
    "SELECT CONCAT_WS('|', id, IFNULL(ti,'NULL'), IFNULL(tu,'NULL'), IFNULL(si,'NULL'), IFNULL(mi,'NULL'), "
    "IFNULL(mu,'NULL'), IFNULL(ii,'NULL'), IFNULL(iu,'NULL'), IFNULL(bi,'NULL'), IFNULL(bu,'NULL'), "
    "IFNULL(d,'NULL'), IFNULL(dn,'NULL'), 'F', 'D', IFNULL(c,'NULL'), IFNULL(vc,'NULL'), IFNULL(tx,'NULL'), "
    "IFNULL(HEX(vb),'NULL'), IFNULL(HEX(bl),'NULL'), IFNULL(dt,'NULL'), IFNULL(tm,'NULL'), IFNULL(dtm,'NULL'), "
    "IFNULL(ts,'NULL'), IFNULL(y,'NULL'), IFNULL(e,'NULL'), IFNULL(st,'NULL'), IFNULL(LPAD(BIN(bt),5,'0'),'NULL'), "
    "IFNULL(j,'NULL')) FROM bl WHERE id = ?";

/* The decoder's image of bl with binary columns in hex and the float/double replaced by F/D. */
static char *normalise(const char *row, char **f, char **d)
{
    /* "I bl  -> v0|v1|..." : take the after image */
    const char *arrow = strstr(row, " -> ");
    strlist parts = STRLIST_INIT;
    const char *p = arrow ? arrow + 4 : row;
    for (;;) {
        const char *bar = strchr(p, '|');
        strlist_push_owned(&parts, bar ? xstrndup(p, (size_t)(bar - p)) : xstrdup(p));
        if (!bar)
            break;
        p = bar + 1;
    }
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < parts.count; i++) {
        const char *v = parts.items[i];
        if (i)
            strbuf_append_char(&sb, '|');
        if (i == 12) {
            *f = xstrdup(v);
            strbuf_append(&sb, "F");
        } else if (i == 13) {
            *d = xstrdup(v);
            strbuf_append(&sb, "D");
        } else if ((i == 17 || i == 18) && !str_eq(v, "NULL")) {
            /* decoded bytes were printed with \xNN escapes for control bytes: back to hex */
            for (const char *q = v; *q;) {
                if (q[0] == '\\' && q[1] == 'x') {
                    strbuf_appendf(&sb, "%c%c", toupper((unsigned char)q[2]), toupper((unsigned char)q[3]));
                    q += 4;
                } else {
                    strbuf_appendf(&sb, "%02X", (unsigned char)*q);
                    q++;
                }
            }
        } else {
            strbuf_append(&sb, v);
        }
    }
    strlist_free(&parts);
    return strbuf_detach(&sb);
}

static const char *const create_sql[] = {
    "DROP TABLE IF EXISTS bl, kv",
    "CREATE TABLE bl (id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, "
    "mu MEDIUMINT UNSIGNED, ii INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, d DECIMAL(20,6), "
    "dn DECIMAL(5,2), f FLOAT, db DOUBLE, c CHAR(5), vc VARCHAR(300), tx TEXT, vb VARBINARY(8), bl BLOB, "
    "dt DATE, tm TIME(2), dtm DATETIME(3), ts TIMESTAMP(6) NULL, y YEAR, e ENUM('x','y'), st SET('r','g','b'), "
    "bt BIT(5), j JSON)",
    "CREATE TABLE kv (k VARCHAR(10) PRIMARY KEY, v INT)",
};

static const char *const changes[][3] = {
    {"INSERT INTO bl VALUES (1, -128, 255, -32768, -8388608, 16777215, -2147483648, 4294967295, "
     "-9223372036854775808, 18446744073709551615, -12345678901234.123456, 0.05, 1.5, 0.1, 'ab', "
     "'h\xC3\xA9llo \xF0\x9F\x98\x80', REPEAT('t', 400), X'00FF0A', X'DEADBEEF', '2024-02-29', '-12:34:56.78', "
     "'2024-01-02 03:04:05.678', '2038-01-19 03:14:07.000001', 2024, 'y', 'r,b', b'00101', '{\"a\": [1, 2]}')",
     NULL, NULL},
    {"INSERT INTO bl (id) VALUES (2)", "INSERT INTO kv VALUES ('k1', 10), ('k2', 20)", NULL},
    {"UPDATE bl SET ti = 127, d = 0.000001, vc = 'bye', tm = '838:59:59', e = 'x', st = '', bt = b'11111', "
     "ts = '1970-01-01 00:00:01', f = -3.25, db = 1e300, y = 1901 WHERE id = 1",
     "UPDATE kv SET v = v + 1", NULL},
    {"DELETE FROM bl WHERE id = 2", "DELETE FROM kv WHERE k = 'k1'", NULL},
};

TEST(mysql_server_binlog_stream_and_resume)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf root = mysql_live_root_conf();
    mysql_conn *rc = mysql_conn_open(&root, NULL);
    CHECK(rc != NULL);
    bool made = true;
    for (size_t i = 0; i < ARRAY_LEN(create_sql); i++)
        made = made && mysql_conn_exec(rc, create_sql[i]);
    mysql_catalog cat;
    bool read = false;
    mysql_binlog_pos start = {0};
    seen all = {0}, later = {0};
    char *final_row = NULL, *first_row = NULL;
    if (made) {
        db_conf conf = mysql_live_conf();
        mysql_conn *vc = mysql_conn_open(&conf, NULL);
        read = vc && mysql_catalog_read(vc, conf.name, &cat) && mysql_binlog_current(vc, &start);
        mysql_conn_close(vc);
    }
    bool applied = read;
    for (size_t t = 0; applied && t < ARRAY_LEN(changes); t++) {
        applied = mysql_conn_exec(rc, "START TRANSACTION");
        for (int k = 0; applied && k < 3 && changes[t][k]; k++)
            applied = mysql_conn_exec(rc, changes[t][k]);
        applied = applied && mysql_conn_exec(rc, "COMMIT");
        if (applied && t == 0)
            first_row = mysql_conn_query_value(rc, select_row, 1, (const char *[]){"1"}, NULL);
    }
    if (applied)
        final_row = mysql_conn_query_value(rc, select_row, 1, (const char *[]){"1"}, NULL);
    char *fv = NULL, *dv = NULL;
    char *ff = applied ? mysql_conn_query_value(rc, "SELECT CONCAT(f, '|', db) FROM bl WHERE id = 1", 0, NULL, NULL) : NULL;
    mysql_conn_close(rc);
    CHECK(made);
    if (!read)
        goto out;
    CHECK(applied && first_row && final_row && ff);

    /* everything from the position before the changes */
    bool streamed = stream_from(&cat, &start, &all);
    if (!streamed) {
        test_fail(__FILE__, __LINE__, "streaming from %s:%llu failed", start.file, start.offset);
        goto out;
    }
    for (size_t i = 0; i < all.n; i++)
        for (size_t k = 0; k < all.rows[i].count; k++)
            printf("#   txn %zu at %s:%llu (%s): %s\n", i, all.pos[i].file, all.pos[i].offset, all.pos[i].gtid,
                   all.rows[i].items[k]);
    if (all.n != 4) {
        test_fail(__FILE__, __LINE__, "%zu transactions, wanted 4", all.n);
        goto out;
    }
    size_t want_rows[4] = {1, 3, 3, 2};
    for (size_t i = 0; i < 4; i++) {
        if (all.rows[i].count != want_rows[i]) {
            test_fail(__FILE__, __LINE__, "transaction %zu has %zu rows, wanted %zu", i, all.rows[i].count, want_rows[i]);
            goto out;
        }
        if (i > 0 && mysql_binlog_pos_cmp(&all.pos[i - 1], &all.pos[i]) >= 0) {
            test_fail(__FILE__, __LINE__, "position %zu does not grow", i);
            goto out;
        }
        if (!all.pos[i].gtid[0]) {
            test_fail(__FILE__, __LINE__, "transaction %zu has no GTID", i);
            goto out;
        }
    }
    /* the inserted row and the updated row, as the server prints them */
    char *ins = normalise(all.rows[0].items[0], &fv, &dv);
    bool ins_same = str_eq(ins, first_row);
    if (!ins_same)
        printf("#   insert decoded: %s\n#   server says:    %s\n", ins, first_row);
    bool floats1 = fv && dv && strtod(fv, NULL) == 1.5 && strtod(dv, NULL) == 0.1;
    free(ins);
    free(fv);
    free(dv);
    fv = dv = NULL;
    const char *upd_row = NULL;
    for (size_t k = 0; k < all.rows[2].count; k++)
        if (str_starts_with(all.rows[2].items[k], "U bl "))
            upd_row = all.rows[2].items[k];
    CHECK(upd_row != NULL);
    char *upd = normalise(upd_row, &fv, &dv);
    bool upd_same = str_eq(upd, final_row);
    if (!upd_same)
        printf("#   update decoded: %s\n#   server says:    %s\n", upd, final_row);
    bool floats2 = strtod(fv, NULL) == -3.25 && strtod(dv, NULL) == 1e300;
    free(upd);
    CHECK(ins_same);
    CHECK(floats1);
    CHECK(upd_same);
    CHECK(floats2);
    /* the update's before image is the insert's after image; the delete's before image the insert's */
    const char *ins_after = strstr(all.rows[0].items[0], " -> ") + 4;
    bool before_ok = strstr(upd_row, ins_after) == upd_row + strlen("U bl ");
    CHECK(before_ok);
    bool kv_ok = strlist_contains(&all.rows[1], "I kv  -> k1|10") && strlist_contains(&all.rows[1], "I kv  -> k2|20") &&
                 strlist_contains(&all.rows[2], "U kv k1|10 -> k1|11") && strlist_contains(&all.rows[3], "D kv k1|11 -> ") &&
                 strlist_contains(&all.rows[1], "I bl  -> 2|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|"
                                                "NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL");
    CHECK(kv_ok);

    /* resume from the second transaction's commit: exactly the third and the fourth */
    if (!stream_from(&cat, &all.pos[1], &later)) {
        test_fail(__FILE__, __LINE__, "resuming from %s:%llu failed", all.pos[1].file, all.pos[1].offset);
        goto out;
    }
    bool resumed = later.n == 2 && mysql_binlog_pos_cmp(&later.pos[0], &all.pos[2]) == 0 &&
                   mysql_binlog_pos_cmp(&later.pos[1], &all.pos[3]) == 0 && str_eq(later.pos[0].gtid, all.pos[2].gtid) &&
                   later.rows[0].count == all.rows[2].count && later.rows[1].count == all.rows[3].count &&
                   str_eq(later.rows[1].items[0], all.rows[3].items[0]);
    CHECK(resumed);
    /* and from the last one: nothing */
    seen none = {0};
    bool empty = stream_from(&cat, &all.pos[3], &none) && none.n == 0;
    seen_free(&none);
    CHECK(empty);
out:
    free(fv);
    free(dv);
    free(ff);
    free(first_row);
    free(final_row);
    seen_free(&all);
    seen_free(&later);
    if (read)
        mysql_catalog_free(&cat);
}

/* What the heartbeat test saw: transactions, then the first heartbeat's position. */
typedef struct beat {
    size_t txns;
    mysql_binlog_pos last, idle;
    bool heard;
} beat;

static bool beat_txn(void *arg, const mysql_binlog_txn *txn)
{
    beat *b = arg;
    b->txns++;
    b->last = txn->commit;
    return true;
}

static bool beat_idle(void *arg, const mysql_binlog_pos *at)
{
    beat *b = arg;
    b->idle = *at;
    b->heard = true;
    return false; /* stop at the first heartbeat */
}

/*
 * Across a file switch (FLUSH BINARY LOGS: the server's ROTATE, read from the event's bytes since
 * Connector/C 3.3 misreads the artificial one) the position names the new file; once everything is
 * sent, the server's heartbeat reports the end of the binlog (at or past SHOW MASTER STATUS).
 */
TEST(mysql_server_binlog_heartbeat_after_rotate)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf root = mysql_live_root_conf();
    db_conf conf = mysql_live_conf();
    mysql_conn *rc = mysql_conn_open(&root, NULL);
    mysql_conn *vc = mysql_conn_open(&conf, NULL);
    CHECK(rc && vc);
    if (!rc || !vc) {
        mysql_conn_close(rc);
        mysql_conn_close(vc);
        return;
    }
    mysql_catalog cat;
    mysql_binlog_pos start, end;
    bool ok = mysql_conn_exec(rc, "CREATE TABLE IF NOT EXISTS hb (id INT PRIMARY KEY)") &&
              mysql_catalog_read(vc, conf.name, &cat);
    CHECK(ok);
    if (!ok)
        goto out_conns;
    ok = mysql_binlog_current(vc, &start) && mysql_conn_exec(rc, "INSERT INTO hb VALUES (1)") &&
         mysql_conn_exec(rc, "FLUSH BINARY LOGS") && mysql_conn_exec(rc, "INSERT INTO hb VALUES (2)") &&
         mysql_binlog_current(vc, &end);
    CHECK(ok);
    if (ok) {
        mysql_conn *sc = mysql_conn_open(&conf, NULL);
        char lost[200] = "";
        beat b = {0};
        mysql_binlog_opts o = {.catalog = &cat, .start = start, .heartbeat_ms = 200, .idle = beat_idle,
                               .lost = lost, .lost_size = sizeof lost};
        bool streamed = sc && mysql_binlog_stream(sc, &o, beat_txn, &b);
        mysql_conn_close(sc);
        CHECK(streamed);
        CHECK(b.txns == 2);
        CHECK(b.heard);
        CHECK(str_eq(b.last.file, end.file));
        /* at or past the end read after the inserts (a binlog checkpoint event may follow a flush) */
        CHECK(mysql_binlog_pos_cmp(&b.idle, &end) >= 0);
        CHECK(lost[0] == '\0');
        printf("#   last %s:%llu, heartbeat at %s:%llu, server at %s:%llu\n", b.last.file, b.last.offset,
                   b.idle.file, b.idle.offset, end.file, end.offset);
    }
    mysql_conn_exec(rc, "DROP TABLE hb");
    mysql_catalog_free(&cat);
out_conns:
    mysql_conn_close(rc);
    mysql_conn_close(vc);
}

/* Run statements on c until one fails. */
static bool exec_all(mysql_conn *c, const char *const *sql, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!mysql_conn_exec(c, sql[i]))
            return false;
    return true;
}

/* root's session (changes) and voyager's (catalog, binlog); false with neither open when one fails. */
static bool open_root_and_voyager(db_conf *root, db_conf *conf, mysql_conn **rc, mysql_conn **vc)
{
    *rc = mysql_conn_open(root, NULL);
    *vc = mysql_conn_open(conf, NULL);
    if (*rc && *vc)
        return true;
    mysql_conn_close(*rc);
    mysql_conn_close(*vc);
    *rc = *vc = NULL;
    return false;
}

/*
 * A two-phase XA transaction's rows come in its XA PREPARE group and its commit in a later group
 * without rows: the stream once dropped them without a word. Now it stops, whether it saw the
 * prepare or not; XA ... ONE PHASE (a plain transaction in the binlog) and an XA transaction on a
 * table not captured still go through.
 */
TEST(mysql_server_binlog_xa_two_phase_stops)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf root = mysql_live_root_conf(), conf = mysql_live_conf();
    mysql_conn *rc, *vc;
    CHECK(open_root_and_voyager(&root, &conf, &rc, &vc));
    static const char *const setup[] = {
        "DROP TABLE IF EXISTS xa", "CREATE TABLE xa (id INT PRIMARY KEY, v VARCHAR(10))",
        "DROP DATABASE IF EXISTS xa_other", "CREATE DATABASE xa_other", "CREATE TABLE xa_other.o (id INT PRIMARY KEY)"};
    static const char *const harmless[] = {
        "XA START 'one'", "INSERT INTO xa VALUES (1, 'one')", "XA END 'one'", "XA COMMIT 'one' ONE PHASE",
        "XA START 'elsewhere'", "INSERT INTO xa_other.o VALUES (1)", "XA END 'elsewhere'", "XA PREPARE 'elsewhere'",
        "XA COMMIT 'elsewhere'", "INSERT INTO xa VALUES (2, 'plain')"};
    static const char *const two_phase[] = {"XA START 'two'", "INSERT INTO xa VALUES (3, 'two')", "XA END 'two'",
                                            "XA PREPARE 'two'", "XA COMMIT 'two'"};
    static const char *const prepare_late[] = {"XA START 'late'", "INSERT INTO xa VALUES (4, 'late')", "XA END 'late'",
                                               "XA PREPARE 'late'"};
    mysql_catalog cat;
    mysql_binlog_pos p0, p1;
    bool ok = exec_all(rc, setup, ARRAY_LEN(setup)) && mysql_catalog_read(vc, conf.name, &cat);
    CHECK(ok);
    if (!ok)
        goto out;
    seen a = {0}, b = {0}, c = {0};
    /* ONE PHASE and plain handed on, the other database's XA transaction skipped */
    ok = mysql_binlog_current(vc, &p0) && exec_all(rc, harmless, ARRAY_LEN(harmless));
    CHECK(ok);
    bool first = ok && stream_from(&cat, &p0, &a);
    CHECK(first);
    CHECK(a.n == 2 && a.rows[0].count == 1 && str_eq(a.rows[0].items[0], "I xa  -> 1|one") &&
          a.rows[1].count == 1 && str_eq(a.rows[1].items[0], "I xa  -> 2|plain"));
    /* the prepared XA transaction 'two' stops the stream, nothing of it handed on */
    ok = first && a.n == 2 && exec_all(rc, two_phase, ARRAY_LEN(two_phase));
    CHECK(ok);
    bool second = ok && stream_from(&cat, &a.pos[1], &b);
    CHECK(ok && !second);
    CHECK(b.n == 0);
    /* 'late' was prepared before the start: its XA COMMIT alone stops the stream */
    ok = ok && exec_all(rc, prepare_late, ARRAY_LEN(prepare_late)) && mysql_binlog_current(vc, &p1) &&
         mysql_conn_exec(rc, "XA COMMIT 'late'");
    CHECK(ok);
    bool third = ok && stream_from(&cat, &p1, &c);
    CHECK(ok && !third);
    CHECK(c.n == 0);
    seen_free(&a), seen_free(&b), seen_free(&c);
    mysql_catalog_free(&cat);
out:
    mysql_conn_exec(rc, "DROP DATABASE IF EXISTS xa_other");
    mysql_conn_close(rc);
    mysql_conn_close(vc);
}

/*
 * TRUNCATE TABLE of a captured table, however it is written, is handed on as a transaction of
 * its own with one TRUNCATE row (it once was dropped: the target kept every row); a TRUNCATE
 * in another database is not.
 */
TEST(mysql_server_binlog_truncate)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf root = mysql_live_root_conf(), conf = mysql_live_conf();
    mysql_conn *rc, *vc;
    CHECK(open_root_and_voyager(&root, &conf, &rc, &vc));
    static const char *const setup[] = {
        "DROP TABLE IF EXISTS tr", "CREATE TABLE tr (id INT PRIMARY KEY, v VARCHAR(10))",
        "DROP DATABASE IF EXISTS tr_other", "CREATE DATABASE tr_other", "CREATE TABLE tr_other.tr (id INT PRIMARY KEY)"};
    char *trunc_db = xasprintf("/* by hand */ truncate `%s` . `tr`", conf.name);
    const char *const changes_sql[] = {"INSERT INTO tr VALUES (1, 'a'), (2, 'b')", "TRUNCATE TABLE tr", trunc_db,
                                       "TRUNCATE TABLE tr_other.tr", "INSERT INTO tr VALUES (10, 'after')"};
    mysql_catalog cat;
    mysql_binlog_pos p0;
    seen a = {0};
    bool ok = exec_all(rc, setup, ARRAY_LEN(setup)) && mysql_catalog_read(vc, conf.name, &cat);
    CHECK(ok);
    if (!ok)
        goto out;
    ok = mysql_binlog_current(vc, &p0) && exec_all(rc, changes_sql, ARRAY_LEN(changes_sql));
    CHECK(ok);
    bool streamed = ok && stream_from(&cat, &p0, &a);
    CHECK(streamed);
    for (size_t i = 0; i < a.n; i++)
        for (size_t k = 0; k < a.rows[i].count; k++)
            printf("#   txn %zu: %s\n", i, a.rows[i].items[k]);
    CHECK(a.n == 4);
    if (a.n == 4) {
        CHECK(a.rows[0].count == 2);
        CHECK(a.rows[1].count == 1 && str_eq(a.rows[1].items[0], "T tr  -> "));
        CHECK(a.rows[2].count == 1 && str_eq(a.rows[2].items[0], "T tr  -> "));
        CHECK(a.rows[3].count == 1 && str_eq(a.rows[3].items[0], "I tr  -> 10|after"));
        CHECK(mysql_binlog_pos_cmp(&a.pos[0], &a.pos[1]) < 0 && mysql_binlog_pos_cmp(&a.pos[1], &a.pos[2]) < 0 &&
              mysql_binlog_pos_cmp(&a.pos[2], &a.pos[3]) < 0);
    }
    seen_free(&a);
    mysql_catalog_free(&cat);
out:
    free(trunc_db);
    mysql_conn_exec(rc, "DROP DATABASE IF EXISTS tr_other");
    mysql_conn_close(rc);
    mysql_conn_close(vc);
}

/*
 * A DDL that keeps the column count but not the layout (a column moved, a decimal's scale
 * changed) stops the stream at the table map, instead of decoding values into the wrong columns.
 * Two columns of one type swapped show only in the column names, which the table map carries
 * with binlog_row_metadata=FULL.
 */
TEST(mysql_server_binlog_layout_change_stops)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf root = mysql_live_root_conf(), conf = mysql_live_conf();
    mysql_conn *rc, *vc;
    CHECK(open_root_and_voyager(&root, &conf, &rc, &vc));
    static const char *const setup[] = {"DROP TABLE IF EXISTS sw, dc, sw2",
                                        "CREATE TABLE sw (id INT PRIMARY KEY, a VARCHAR(10), b INT)",
                                        "CREATE TABLE dc (id INT PRIMARY KEY, d DECIMAL(10,2))",
                                        "CREATE TABLE sw2 (id INT PRIMARY KEY, a VARCHAR(10), b VARCHAR(10))"};
    static const char *const swapped[] = {"SET GLOBAL binlog_row_metadata = 'FULL'",
                                          "INSERT INTO sw2 (id, a, b) VALUES (1, 'A1', 'B1')",
                                          "ALTER TABLE sw2 MODIFY b VARCHAR(10) AFTER id",
                                          "INSERT INTO sw2 (id, a, b) VALUES (2, 'A2', 'B2')"};
    static const char *const moved[] = {"ALTER TABLE sw MODIFY b INT AFTER id",
                                        "INSERT INTO sw (id, a, b) VALUES (1, 'AAA', 5)"};
    static const char *const scaled[] = {"ALTER TABLE dc MODIFY d DECIMAL(10,3)", "INSERT INTO dc VALUES (1, 1.5)"};
    mysql_catalog cat;
    mysql_binlog_pos p0, p1, p2;
    seen a = {0}, b = {0}, c = {0};
    char *metadata = mysql_conn_query_value(rc, "SELECT @@global.binlog_row_metadata", 0, NULL, NULL);
    bool ok = metadata && exec_all(rc, setup, ARRAY_LEN(setup)) && mysql_catalog_read(vc, conf.name, &cat);
    CHECK(ok);
    if (!ok)
        goto out;
    ok = mysql_binlog_current(vc, &p0) && exec_all(rc, moved, ARRAY_LEN(moved)) && mysql_binlog_current(vc, &p1) &&
         exec_all(rc, scaled, ARRAY_LEN(scaled));
    CHECK(ok);
    bool first = ok && stream_from(&cat, &p0, &a);
    CHECK(ok && !first);
    CHECK(a.n == 0);
    bool second = ok && stream_from(&cat, &p1, &b);
    CHECK(ok && !second);
    CHECK(b.n == 0);
    /* same-typed columns swapped: the row before the ALTER goes through, the one after stops it */
    ok = ok && mysql_binlog_current(vc, &p2) && exec_all(rc, swapped, ARRAY_LEN(swapped));
    CHECK(ok);
    bool third = ok && stream_from(&cat, &p2, &c);
    CHECK(ok && !third);
    CHECK(c.n == 1 && c.rows[0].count == 1 && str_eq(c.rows[0].items[0], "I sw2  -> 1|A1|B1"));
    seen_free(&a), seen_free(&b), seen_free(&c);
    mysql_catalog_free(&cat);
out:
    /* the server's setting back, from a list of the statements (no server text pasted into SQL) */
    static const char *const restore[][2] = {{"NO_LOG", "SET GLOBAL binlog_row_metadata = 'NO_LOG'"},
                                             {"MINIMAL", "SET GLOBAL binlog_row_metadata = 'MINIMAL'"},
                                             {"FULL", "SET GLOBAL binlog_row_metadata = 'FULL'"}};
    for (size_t i = 0; metadata && i < ARRAY_LEN(restore); i++)
        if (str_case_eq(metadata, restore[i][0]))
            mysql_conn_exec(rc, restore[i][1]);
    free(metadata);
    mysql_conn_exec(rc, "DROP TABLE IF EXISTS sw, dc, sw2");
    mysql_conn_close(rc);
    mysql_conn_close(vc);
}

/*
 * A session with binlog_row_image MINIMAL (or NOBLOB) writes rows without every column: the
 * missing ones were read as NULL. Now such a row stops the stream; FULL rows before it go through.
 */
TEST(mysql_server_binlog_partial_image_stops)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf root = mysql_live_root_conf(), conf = mysql_live_conf();
    mysql_conn *rc, *vc;
    CHECK(open_root_and_voyager(&root, &conf, &rc, &vc));
    static const char *const setup[] = {"DROP TABLE IF EXISTS pi",
                                        "CREATE TABLE pi (id INT PRIMARY KEY, a INT, c VARCHAR(10) DEFAULT 'dflt', b BLOB)"};
    static const char *const full[] = {"INSERT INTO pi VALUES (1, 1, 'x', 'blob')"};
    static const char *const minimal[] = {"SET SESSION binlog_row_image = 'MINIMAL'", "INSERT INTO pi (id, a) VALUES (2, 2)"};
    static const char *const noblob[] = {"SET SESSION binlog_row_image = 'NOBLOB'", "UPDATE pi SET a = 3 WHERE id = 1"};
    mysql_catalog cat;
    mysql_binlog_pos p0, p1;
    seen a = {0}, b = {0};
    bool ok = exec_all(rc, setup, ARRAY_LEN(setup)) && mysql_catalog_read(vc, conf.name, &cat);
    CHECK(ok);
    if (!ok)
        goto out;
    ok = mysql_binlog_current(vc, &p0) && exec_all(rc, full, ARRAY_LEN(full)) && exec_all(rc, minimal, ARRAY_LEN(minimal)) &&
         mysql_binlog_current(vc, &p1) && exec_all(rc, noblob, ARRAY_LEN(noblob)) &&
         mysql_conn_exec(rc, "SET SESSION binlog_row_image = 'FULL'");
    CHECK(ok);
    bool first = ok && stream_from(&cat, &p0, &a);
    CHECK(ok && !first);
    CHECK(a.n == 1 && a.rows[0].count == 1 && str_eq(a.rows[0].items[0], "I pi  -> 1|1|x|blob"));
    bool second = ok && stream_from(&cat, &p1, &b);
    CHECK(ok && !second);
    CHECK(b.n == 0);
    seen_free(&a), seen_free(&b);
    mysql_catalog_free(&cat);
out:
    mysql_conn_exec(rc, "DROP TABLE IF EXISTS pi");
    mysql_conn_close(rc);
    mysql_conn_close(vc);
}

/*
 * The table map check must not stop a stream over a table that did not change: widths past 255
 * bytes (where CHAR's metadata borrows bits of the type byte), other character sets, every
 * text/blob size, MariaDB's own types, spatial types, wide enums and sets.
 */
TEST(mysql_server_binlog_layout_check_accepts_unchanged_types)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf root = mysql_live_root_conf(), conf = mysql_live_conf();
    mysql_conn *rc, *vc;
    CHECK(open_root_and_voyager(&root, &conf, &rc, &vc));
    static const char *const setup[] = {
        "DROP TABLE IF EXISTS wide",
        "CREATE TABLE wide (id INT PRIMARY KEY, c1 CHAR(100), c2 CHAR(255) CHARACTER SET latin1, "
        "c3 CHAR(10) CHARACTER SET utf8mb3, c4 CHAR(70) CHARACTER SET ucs2, bn BINARY(200), v1 VARCHAR(5000), "
        "v2 VARCHAR(100) CHARACTER SET cp1251, vb VARBINARY(300), t1 TINYTEXT, t2 MEDIUMTEXT, t3 LONGTEXT, "
        "b1 TINYBLOB, b2 MEDIUMBLOB, b3 LONGBLOB, j JSON, bt1 BIT(1), bt64 BIT(64), dt DATETIME, dt6 DATETIME(6), "
        "tm6 TIME(6), ts TIMESTAMP NULL, y YEAR, f FLOAT, fd FLOAT(7,3), d DOUBLE, dec1 DECIMAL(65,30), "
        "dec2 DECIMAL(5,0), u UUID, i6 INET6, i4 INET4, g GEOMETRY, pt POINT, e ENUM('a','b'), "
        "s SET('s1','s2','s3','s4','s5','s6','s7','s8','s9','s10'), ti TINYINT UNSIGNED, bi BIGINT ZEROFILL)"};
    mysql_catalog cat;
    mysql_binlog_pos p0;
    seen a = {0};
    bool ok = exec_all(rc, setup, ARRAY_LEN(setup)) && mysql_catalog_read(vc, conf.name, &cat);
    CHECK(ok);
    if (!ok)
        goto out;
    ok = mysql_binlog_current(vc, &p0) &&
         mysql_conn_exec(rc, "INSERT INTO wide (id, c1, c2, c4, bn, v1, u, i6, i4, pt, e, s, dec1) VALUES "
                             "(1, 'c1', 'c2', 'c4', 'bn', 'v1', UUID(), '::1', '1.2.3.4', POINT(1, 2), 'b', "
                             "'s1,s10', 1.5)") &&
         mysql_conn_exec(rc, "UPDATE wide SET c3 = 'x', dt = NOW() WHERE id = 1");
    CHECK(ok);
    bool streamed = ok && stream_from(&cat, &p0, &a);
    CHECK(streamed);
    CHECK(a.n == 2);
    seen_free(&a);
    mysql_catalog_free(&cat);
out:
    mysql_conn_exec(rc, "DROP TABLE IF EXISTS wide");
    mysql_conn_close(rc);
    mysql_conn_close(vc);
}
