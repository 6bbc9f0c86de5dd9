#include "source/mysql/mysql_catalog.h"

#include "core/log.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- builders ---- */

#define GROW(arr, n)                                                                               \
    do {                                                                                           \
        (arr) = xrealloc((arr), ((n) + 1) * sizeof *(arr));                                        \
        memset(&(arr)[(n)], 0, sizeof *(arr));                                                     \
    } while (0)

mysql_table *mysql_catalog_add_table(mysql_catalog *cat, const char *name)
{
    GROW(cat->tables, cat->ntables);
    mysql_table *t = &cat->tables[cat->ntables++];
    t->name = xstrdup(name);
    t->engine = xstrdup("");
    t->collation = xstrdup("");
    t->comment = xstrdup("");
    return t;
}

static bool parse_int_list(const char *s, int *a, int *b)
{
    char *end;
    *a = (int)strtol(s, &end, 10);
    if (end == s)
        return false;
    if (*end == ',') {
        const char *p = end + 1;
        *b = (int)strtol(p, &end, 10);
        if (end == p)
            return false;
    }
    return *end == ')';
}

bool mysql_parse_enum_values(const char *column_type, strlist *out)
{
    const char *p = strchr(column_type, '(');
    if (!p)
        return false;
    p++;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p != '\'')
            return false;
        p++;
        strbuf v = STRBUF_INIT;
        for (;;) {
            if (!*p) {
                strbuf_free(&v);
                return false;
            }
            if (*p == '\'' && p[1] == '\'') {
                strbuf_append_char(&v, '\'');
                p += 2;
            } else if (*p == '\\' && p[1]) {
                /*
                 * The server writes a member's LF, CR and the like as escapes
                 * (append_unescaped): the binlog's index maps to the real text.
                 * A zero byte fits no PostgreSQL text: refused as bad syntax.
                 */
                char c = p[1];
                if (c == '0') {
                    strbuf_free(&v);
                    return false;
                }
                strbuf_append_char(&v, c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c == 'b' ? '\b'
                                       : c == 'Z' ? '\032' : c);
                p += 2;
            } else if (*p == '\'') {
                p++;
                break;
            } else {
                strbuf_append_char(&v, *p++);
            }
        }
        strlist_push_owned(out, strbuf_detach(&v));
        while (*p == ' ')
            p++;
        if (*p == ',') {
            p++;
            continue;
        }
        return *p == ')';
    }
}

mysql_column *mysql_table_add_column(mysql_table *t, const char *name, const char *column_type)
{
    GROW(t->columns, t->ncolumns);
    mysql_column *c = &t->columns[t->ncolumns++];
    c->name = xstrdup(name);
    c->column_type = xstrdup(column_type);
    c->nullable = true;
    c->length = -1;
    c->precision = -1;
    c->scale = -1;
    c->comment = xstrdup("");
    char *lower = str_to_lower(column_type);
    size_t n = 0;
    while (isalpha((unsigned char)lower[n]) || isdigit((unsigned char)lower[n]) || lower[n] == '_')
        n++;
    c->data_type = xstrndup(lower, n);
    const char *args = lower[n] == '(' ? lower + n + 1 : NULL;
    if (str_eq(c->data_type, "enum") || str_eq(c->data_type, "set")) {
        /*
         * Members are case-sensitive: parse the original text. Unparsable (or
         * holding a zero byte): no members, so each value of the column is
         * refused (snapshot: no such member in the target's check; stream: an
         * index past the members) instead of written as another one.
         */
        if (!mysql_parse_enum_values(column_type, &c->values))
            strlist_free(&c->values);
    } else if (args) {
        int a = -1, b = -1;
        if (parse_int_list(args, &a, &b)) {
            if (str_eq(c->data_type, "decimal") || str_eq(c->data_type, "numeric") ||
                str_eq(c->data_type, "float") || str_eq(c->data_type, "double") ||
                str_eq(c->data_type, "real")) {
                c->precision = a;
                c->scale = b;
            } else if (str_eq(c->data_type, "time") || str_eq(c->data_type, "datetime") ||
                       str_eq(c->data_type, "timestamp")) {
                c->fsp = a;
            } else {
                c->length = a;
            }
        }
    }
    /* modifiers after the closing parenthesis of the arguments (enum members may hold words) */
    const char *rest = lower + n;
    if (*rest == '(') {
        const char *close = strrchr(rest, ')');
        rest = close ? close + 1 : rest;
    }
    c->is_unsigned = strstr(rest, " unsigned") != NULL;
    c->is_zerofill = strstr(rest, " zerofill") != NULL;
    free(lower);
    return c;
}

void mysql_column_set_default(mysql_column *col, mysql_default_kind kind, const char *text)
{
    free(col->default_text);
    col->default_kind = kind;
    col->default_text = (kind == MYSQL_DEFAULT_LITERAL || kind == MYSQL_DEFAULT_EXPR) ? xstrdup(text ? text : "") : NULL;
}

mysql_index *mysql_table_add_index(mysql_table *t, const char *name, bool unique)
{
    GROW(t->indexes, t->nindexes);
    mysql_index *ix = &t->indexes[t->nindexes++];
    ix->name = xstrdup(name);
    ix->primary = str_eq(name, "PRIMARY");
    ix->unique = unique || ix->primary;
    ix->method = xstrdup("BTREE");
    return ix;
}

void mysql_index_add_part(mysql_index *ix, const char *column, int prefix, bool descending)
{
    GROW(ix->parts, ix->nparts);
    mysql_index_part *p = &ix->parts[ix->nparts++];
    p->column = xstrdup(column);
    p->prefix = prefix;
    p->descending = descending;
}

mysql_fkey *mysql_table_add_fkey(mysql_table *t, const char *name, const char *ref_table)
{
    GROW(t->fkeys, t->nfkeys);
    mysql_fkey *fk = &t->fkeys[t->nfkeys++];
    fk->name = xstrdup(name);
    fk->ref_table = xstrdup(ref_table);
    fk->on_update = xstrdup("RESTRICT");
    fk->on_delete = xstrdup("RESTRICT");
    return fk;
}

mysql_check *mysql_table_add_check(mysql_table *t, const char *name, const char *clause)
{
    GROW(t->checks, t->nchecks);
    mysql_check *ck = &t->checks[t->nchecks++];
    ck->name = xstrdup(name);
    ck->clause = xstrdup(clause);
    return ck;
}

mysql_view *mysql_catalog_add_view(mysql_catalog *cat, const char *name, const char *definition)
{
    GROW(cat->views, cat->nviews);
    mysql_view *v = &cat->views[cat->nviews++];
    v->name = xstrdup(name);
    v->definition = xstrdup(definition);
    v->check_option = xstrdup("NONE");
    return v;
}

mysql_object *mysql_catalog_add_other(mysql_catalog *cat, const char *kind, const char *name)
{
    GROW(cat->others, cat->nothers);
    mysql_object *o = &cat->others[cat->nothers++];
    o->kind = xstrdup(kind);
    o->name = xstrdup(name);
    return o;
}

const mysql_table *mysql_catalog_table(const mysql_catalog *cat, const char *name)
{
    for (size_t i = 0; i < cat->ntables; i++)
        if (str_eq(cat->tables[i].name, name))
            return &cat->tables[i];
    return NULL;
}

const mysql_column *mysql_table_column(const mysql_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        if (str_case_eq(t->columns[i].name, name))
            return &t->columns[i];
    return NULL;
}

/* ---- freeing ---- */

static void column_free(mysql_column *c)
{
    free(c->name);
    free(c->data_type);
    free(c->column_type);
    strlist_free(&c->values);
    free(c->default_text);
    free(c->generation_expr);
    free(c->charset);
    free(c->collation);
    free(c->comment);
}

static void table_free(mysql_table *t)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        column_free(&t->columns[i]);
    for (size_t i = 0; i < t->nindexes; i++) {
        mysql_index *ix = &t->indexes[i];
        for (size_t k = 0; k < ix->nparts; k++) {
            free(ix->parts[k].column);
            free(ix->parts[k].expression);
        }
        free(ix->parts);
        free(ix->name);
        free(ix->method);
    }
    for (size_t i = 0; i < t->nfkeys; i++) {
        mysql_fkey *fk = &t->fkeys[i];
        free(fk->name);
        strlist_free(&fk->columns);
        free(fk->ref_database);
        free(fk->ref_table);
        strlist_free(&fk->ref_columns);
        free(fk->on_update);
        free(fk->on_delete);
    }
    for (size_t i = 0; i < t->nchecks; i++) {
        free(t->checks[i].name);
        free(t->checks[i].clause);
    }
    free(t->columns);
    free(t->indexes);
    free(t->fkeys);
    free(t->checks);
    free(t->name);
    free(t->engine);
    free(t->collation);
    free(t->comment);
}

void mysql_catalog_free(mysql_catalog *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < cat->ntables; i++)
        table_free(&cat->tables[i]);
    for (size_t i = 0; i < cat->nviews; i++) {
        free(cat->views[i].name);
        free(cat->views[i].definition);
        free(cat->views[i].check_option);
    }
    for (size_t i = 0; i < cat->nothers; i++) {
        free(cat->others[i].kind);
        free(cat->others[i].name);
        free(cat->others[i].table);
        free(cat->others[i].detail);
    }
    free(cat->tables);
    free(cat->views);
    free(cat->others);
    free(cat->database);
    free(cat->server_version);
    memset(cat, 0, sizeof *cat);
}

/* ---- reading ---- */

static mysql_table *find_table(mysql_catalog *cat, const char *name)
{
    return (mysql_table *)mysql_catalog_table(cat, name);
}

static mysql_column *find_column(mysql_table *t, const char *name)
{
    return (mysql_column *)mysql_table_column(t, name);
}

static const char *cell(const mysql_rows *r, size_t row, size_t col)
{
    return mysql_rows_get(r, row, col);
}

static const char *cell_or(const mysql_rows *r, size_t row, size_t col, const char *dflt)
{
    const char *v = mysql_rows_get(r, row, col);
    return v ? v : dflt;
}

static bool looks_numeric(const char *s)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
        return false;
    char *end;
    strtod(s, &end);
    return *end == '\0';
}

/* MariaDB prints a string default as a quoted literal: 'it''s', with backslash escapes. */
static char *unquote_literal(const char *s)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "");
    size_t n = strlen(s);
    for (size_t i = 1; i + 1 < n; i++) {
        if (s[i] == '\'' && s[i + 1] == '\'') {
            strbuf_append_char(&sb, '\'');
            i++;
        } else if (s[i] == '\\' && i + 2 < n) {
            char e = s[++i];
            switch (e) {
            case 'n': strbuf_append_char(&sb, '\n'); break;
            case 't': strbuf_append_char(&sb, '\t'); break;
            case 'r': strbuf_append_char(&sb, '\r'); break;
            case '0': strbuf_append_char(&sb, '\0'); break;
            case 'Z': strbuf_append_char(&sb, '\x1a'); break;
            default: strbuf_append_char(&sb, e); break;
            }
        } else {
            strbuf_append_char(&sb, s[i]);
        }
    }
    return strbuf_detach(&sb);
}

static void set_default(mysql_column *col, const char *v, const char *extra, bool mariadb)
{
    if (col->generation_expr)
        return;
    if (mariadb) {
        if (!v)
            mysql_column_set_default(col, MYSQL_DEFAULT_NONE, NULL);
        else if (str_eq(v, "NULL"))
            mysql_column_set_default(col, MYSQL_DEFAULT_NULL, NULL);
        else if (v[0] == '\'' && strlen(v) >= 2 && v[strlen(v) - 1] == '\'') {
            char *u = unquote_literal(v);
            mysql_column_set_default(col, MYSQL_DEFAULT_LITERAL, u);
            free(u);
        } else if (looks_numeric(v) || (tolower((unsigned char)v[0]) == 'b' && v[1] == '\''))
            mysql_column_set_default(col, MYSQL_DEFAULT_LITERAL, v);
        else
            mysql_column_set_default(col, MYSQL_DEFAULT_EXPR, v);
        return;
    }
    /* MySQL 8: literals unquoted, expressions marked DEFAULT_GENERATED in EXTRA */
    if (!v)
        mysql_column_set_default(col, col->nullable ? MYSQL_DEFAULT_NULL : MYSQL_DEFAULT_NONE, NULL);
    else if (strstr(extra, "DEFAULT_GENERATED"))
        mysql_column_set_default(col, MYSQL_DEFAULT_EXPR, v);
    else
        mysql_column_set_default(col, MYSQL_DEFAULT_LITERAL, v);
}

typedef struct reader {
    mysql_conn *c;
    const char *db;
    mysql_catalog *cat;
} reader;

static bool q(reader *r, const char *sql, mysql_rows *out)
{
    return mysql_conn_query(r->c, sql, 1, (const char *[]){r->db}, out);
}

static bool read_tables(reader *r)
{
    mysql_rows rows;
    if (!q(r,
           "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, TABLE_COMMENT, AUTO_INCREMENT, "
           "CREATE_OPTIONS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? "
           "ORDER BY TABLE_NAME",
           &rows)) {
        mysql_rows_free(&rows);
        return false;
    }
    for (size_t i = 0; i < rows.nrows; i++) {
        const char *type = cell_or(&rows, i, 1, "");
        if (str_eq(type, "VIEW"))
            continue; /* read_views */
        if (str_eq(type, "SEQUENCE") || str_eq(type, "SYSTEM VERSIONED")) {
            mysql_catalog_add_other(r->cat, str_eq(type, "SEQUENCE") ? "SEQUENCE" : "SYSTEM VERSIONED TABLE",
                                    cell(&rows, i, 0));
            continue;
        }
        if (!str_eq(type, "BASE TABLE"))
            continue;
        mysql_table *t = mysql_catalog_add_table(r->cat, cell(&rows, i, 0));
        free(t->engine);
        free(t->collation);
        free(t->comment);
        t->engine = xstrdup(cell_or(&rows, i, 2, ""));
        t->collation = xstrdup(cell_or(&rows, i, 3, ""));
        t->comment = xstrdup(cell_or(&rows, i, 4, ""));
        const char *ai = cell(&rows, i, 5);
        t->auto_increment = ai ? strtoull(ai, NULL, 10) : 0;
        t->partitioned = strstr(cell_or(&rows, i, 6, ""), "partitioned") != NULL;
    }
    mysql_rows_free(&rows);
    return true;
}

static bool read_columns(reader *r)
{
    mysql_rows rows;
    if (!q(r,
           "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_DEFAULT, IS_NULLABLE, COLUMN_TYPE, "
           "CHARACTER_SET_NAME, COLLATION_NAME, EXTRA, GENERATION_EXPRESSION, COLUMN_COMMENT "
           "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? "
           "ORDER BY TABLE_NAME, ORDINAL_POSITION",
           &rows)) {
        mysql_rows_free(&rows);
        return false;
    }
    for (size_t i = 0; i < rows.nrows; i++) {
        mysql_table *t = find_table(r->cat, cell(&rows, i, 0));
        if (!t)
            continue; /* a view's columns */
        mysql_column *col = mysql_table_add_column(t, cell(&rows, i, 1), cell_or(&rows, i, 4, ""));
        col->nullable = str_eq(cell(&rows, i, 3), "YES");
        col->charset = xstrdup(cell(&rows, i, 5));
        col->collation = xstrdup(cell(&rows, i, 6));
        const char *extra = cell_or(&rows, i, 7, "");
        char *lextra = str_to_lower(extra);
        col->auto_increment = strstr(lextra, "auto_increment") != NULL;
        col->on_update_current_timestamp = strstr(lextra, "on update current_timestamp") != NULL;
        const char *gen = cell(&rows, i, 8);
        if (gen && *gen && (strstr(lextra, "generated") || strstr(lextra, "virtual") || strstr(lextra, "stored") ||
                            strstr(lextra, "persistent"))) {
            col->generation_expr = xstrdup(gen);
            col->generated_stored = strstr(lextra, "stored") != NULL || strstr(lextra, "persistent") != NULL;
        }
        free(lextra);
        set_default(col, cell(&rows, i, 2), extra, r->cat->is_mariadb);
        free(col->comment);
        col->comment = xstrdup(cell_or(&rows, i, 9, ""));
    }
    mysql_rows_free(&rows);
    return true;
}

static bool read_indexes(reader *r)
{
    mysql_rows rows;
    const char *sql = r->cat->is_mariadb
                          ? "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, COLLATION, "
                            "INDEX_TYPE, NULL FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? "
                            "ORDER BY TABLE_NAME, INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX"
                          : "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, COLLATION, "
                            "INDEX_TYPE, EXPRESSION FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? "
                            "ORDER BY TABLE_NAME, INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX";
    if (!q(r, sql, &rows)) {
        mysql_rows_free(&rows);
        return false;
    }
    for (size_t i = 0; i < rows.nrows; i++) {
        mysql_table *t = find_table(r->cat, cell(&rows, i, 0));
        if (!t)
            continue;
        const char *name = cell(&rows, i, 1);
        mysql_index *ix = t->nindexes ? &t->indexes[t->nindexes - 1] : NULL;
        if (!ix || !str_eq(ix->name, name)) {
            ix = mysql_table_add_index(t, name, str_eq(cell(&rows, i, 2), "0"));
            free(ix->method);
            ix->method = xstrdup(cell_or(&rows, i, 6, "BTREE"));
            ix->fulltext = str_eq(ix->method, "FULLTEXT");
            ix->spatial = str_eq(ix->method, "SPATIAL") || str_eq(ix->method, "RTREE");
        }
        const char *sub = cell(&rows, i, 4);
        mysql_index_add_part(ix, cell(&rows, i, 3), sub ? atoi(sub) : 0, str_eq(cell(&rows, i, 5), "D"));
        if (cell(&rows, i, 7))
            ix->parts[ix->nparts - 1].expression = xstrdup(cell(&rows, i, 7));
    }
    mysql_rows_free(&rows);
    return true;
}

static bool read_fkeys(reader *r)
{
    mysql_rows rows;
    if (!q(r,
           "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, "
           "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, rc.UPDATE_RULE, rc.DELETE_RULE "
           "FROM information_schema.KEY_COLUMN_USAGE k "
           "JOIN information_schema.REFERENTIAL_CONSTRAINTS rc ON rc.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
           "AND rc.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND rc.TABLE_NAME = k.TABLE_NAME "
           "WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL "
           "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
           &rows)) {
        mysql_rows_free(&rows);
        return false;
    }
    for (size_t i = 0; i < rows.nrows; i++) {
        mysql_table *t = find_table(r->cat, cell(&rows, i, 0));
        if (!t)
            continue;
        const char *name = cell(&rows, i, 1);
        mysql_fkey *fk = t->nfkeys ? &t->fkeys[t->nfkeys - 1] : NULL;
        if (!fk || !str_eq(fk->name, name)) {
            fk = mysql_table_add_fkey(t, name, cell_or(&rows, i, 4, ""));
            fk->ref_database = xstrdup(cell(&rows, i, 3));
            free(fk->on_update);
            free(fk->on_delete);
            fk->on_update = xstrdup(cell_or(&rows, i, 6, "RESTRICT"));
            fk->on_delete = xstrdup(cell_or(&rows, i, 7, "RESTRICT"));
        }
        strlist_push(&fk->columns, cell_or(&rows, i, 2, ""));
        strlist_push(&fk->ref_columns, cell_or(&rows, i, 5, ""));
    }
    mysql_rows_free(&rows);
    return true;
}

/*
 * MariaDB's JSON is LONGTEXT with a column-level CHECK (json_valid(`col`)): the column becomes
 * type json and the check is dropped (PostgreSQL's json validates).
 */
static bool is_mariadb_json_check(mysql_table *t, const mysql_check *ck)
{
    if (!ck->column_level)
        return false;
    mysql_column *col = find_column(t, ck->name);
    if (!col || !str_eq(col->data_type, "longtext"))
        return false;
    char *want = xasprintf("json_valid(`%s`)", col->name);
    bool is = str_eq(ck->clause, want);
    free(want);
    if (is) {
        free(col->data_type);
        free(col->column_type);
        col->data_type = xstrdup("json");
        col->column_type = xstrdup("json");
    }
    return is;
}

static bool read_checks(reader *r)
{
    mysql_rows rows;
    const char *sql = r->cat->is_mariadb
                          ? "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, LEVEL "
                            "FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? "
                            "ORDER BY TABLE_NAME, CONSTRAINT_NAME"
                          : "SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE, 'Table' "
                            "FROM information_schema.TABLE_CONSTRAINTS tc "
                            "JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = "
                            "tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME "
                            "WHERE tc.TABLE_SCHEMA = ? AND tc.CONSTRAINT_TYPE = 'CHECK' ORDER BY 1, 2";
    if (!q(r, sql, &rows)) {
        mysql_rows_free(&rows);
        return false;
    }
    for (size_t i = 0; i < rows.nrows; i++) {
        mysql_table *t = find_table(r->cat, cell(&rows, i, 0));
        if (!t)
            continue;
        mysql_check probe = {(char *)cell_or(&rows, i, 1, ""), (char *)cell_or(&rows, i, 2, ""),
                             str_eq(cell(&rows, i, 3), "Column")};
        if (r->cat->is_mariadb && is_mariadb_json_check(t, &probe))
            continue;
        mysql_check *ck = mysql_table_add_check(t, probe.name, probe.clause);
        ck->column_level = probe.column_level;
    }
    mysql_rows_free(&rows);
    return true;
}

static bool read_views(reader *r)
{
    mysql_rows rows;
    if (!q(r,
           "SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION FROM information_schema.VIEWS "
           "WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME",
           &rows)) {
        mysql_rows_free(&rows);
        return false;
    }
    for (size_t i = 0; i < rows.nrows; i++) {
        mysql_view *v = mysql_catalog_add_view(r->cat, cell(&rows, i, 0), cell_or(&rows, i, 1, ""));
        free(v->check_option);
        v->check_option = xstrdup(cell_or(&rows, i, 2, "NONE"));
    }
    mysql_rows_free(&rows);
    return true;
}

static bool read_others(reader *r)
{
    static const char *const sql[] = {
        "SELECT ROUTINE_TYPE, ROUTINE_NAME, NULL, NULL FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
        "SELECT 'TRIGGER', TRIGGER_NAME, EVENT_OBJECT_TABLE, CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION) "
        "FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY TRIGGER_NAME",
        "SELECT 'EVENT', EVENT_NAME, NULL, IF(EVENT_TYPE = 'RECURRING', "
        "CONCAT('EVERY ', INTERVAL_VALUE, ' ', INTERVAL_FIELD), 'ONE TIME') "
        "FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME",
    };
    for (size_t k = 0; k < ARRAY_LEN(sql); k++) {
        mysql_rows rows;
        if (!q(r, sql[k], &rows)) {
            mysql_rows_free(&rows);
            return false;
        }
        for (size_t i = 0; i < rows.nrows; i++) {
            mysql_object *o = mysql_catalog_add_other(r->cat, cell_or(&rows, i, 0, ""), cell_or(&rows, i, 1, ""));
            o->table = xstrdup(cell(&rows, i, 2));
            o->detail = xstrdup(cell(&rows, i, 3));
        }
        mysql_rows_free(&rows);
    }
    return true;
}

static int by_kind_name(const void *a, const void *b)
{
    const mysql_object *x = a, *y = b;
    int c = strcmp(x->kind, y->kind);
    return c ? c : strcmp(x->name, y->name);
}

bool mysql_catalog_read(mysql_conn *c, const char *database, mysql_catalog *out)
{
    memset(out, 0, sizeof *out);
    out->database = xstrdup(database);
    out->server_version = xstrdup(c->server_version);
    out->is_mariadb = c->is_mariadb;
    /* MySQL 8 caches TABLES.AUTO_INCREMENT for a day by default: read the current value */
    if (!c->is_mariadb && c->server_version_num >= 80000 &&
        !mysql_conn_exec(c, "SET SESSION information_schema_stats_expiry = 0")) {
        mysql_catalog_free(out);
        return false;
    }
    reader r = {c, database, out};
    bool ok = read_tables(&r) && read_columns(&r) && read_indexes(&r) && read_fkeys(&r) && read_checks(&r) &&
              read_views(&r) && read_others(&r);
    if (!ok) {
        mysql_catalog_free(out);
        return false;
    }
    if (out->nothers > 1)
        qsort(out->others, out->nothers, sizeof *out->others, by_kind_name);
    log_debug("read the schema of MySQL database %s: %zu tables, %zu views, %zu other objects", database,
              out->ntables, out->nviews, out->nothers);
    return true;
}
