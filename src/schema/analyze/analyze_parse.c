/*
 * Schema files to statements: split with libpg_query (the parser's split, or
 * the scanner's when a statement does not parse), parse each statement on its
 * own, and remember file and line for the report.
 */
#include "schema/analyze/analyze_int.h"

#include "core/fsutil.h"
#include "core/log.h"

#include <ctype.h>
#include <dirent.h>
#include <pg_query.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* PostgreSQL reports error positions in characters (1-based); we need bytes. */
static size_t char_to_byte(const char *s, int cursor)
{
    size_t b = 0;
    for (int c = 1; c < cursor && s[b]; c++) {
        b++;
        while (((unsigned char)s[b] & 0xC0) == 0x80)
            b++;
    }
    return b;
}

static int line_at(const char *s, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off && s[i]; i++)
        if (s[i] == '\n')
            line++;
    return line;
}

/* Line numbers of increasing offsets in one text, without rescanning it from the start each time. */
typedef struct line_cursor {
    const char *s;
    size_t off;
    int line;
} line_cursor;

static int cursor_line(line_cursor *c, size_t off)
{
    if (off < c->off) {
        c->off = 0;
        c->line = 1;
    }
    for (; c->off < off && c->s[c->off]; c->off++)
        if (c->s[c->off] == '\n')
            c->line++;
    return c->line;
}

/*
 * Skip blanks and comments that the split leaves in front of a statement, and
 * psql meta-commands (recent pg_dump writes \restrict / \unrestrict lines).
 */
static size_t skip_leading(const char *s, size_t i, size_t end)
{
    for (;;) {
        while (i < end && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f'))
            i++;
        if ((i + 1 < end && s[i] == '-' && s[i + 1] == '-') || (i < end && s[i] == '\\')) {
            while (i < end && s[i] != '\n')
                i++;
        } else if (i + 1 < end && s[i] == '/' && s[i + 1] == '*') {
            const char *close = strstr(s + i + 2, "*/");
            i = close && (size_t)(close - s) + 2 <= end ? (size_t)(close - s) + 2 : end;
        } else {
            return i;
        }
    }
}

cJSON *an_parse(const char *sql, char **err, int *cursor)
{
    PgQueryParseResult r = pg_query_parse(sql);
    cJSON *root = NULL;
    if (r.error) {
        if (err)
            *err = xstrdup(r.error->message);
        if (cursor)
            *cursor = r.error->cursorpos;
    } else {
        root = cJSON_Parse(r.parse_tree);
        if (!root && err)
            *err = xstrdup("libpg_query returned a parse tree that is not JSON");
    }
    pg_query_free_parse_result(r);
    return root;
}

static an_stmt *stmt_push(analysis *a)
{
    if (a->nstmts == a->capstmts) {
        a->capstmts = a->capstmts ? a->capstmts * 2 : 64;
        a->stmts = xrealloc(a->stmts, a->capstmts * sizeof(*a->stmts));
    }
    an_stmt *st = &a->stmts[a->nstmts++];
    memset(st, 0, sizeof(*st));
    return st;
}

/* The object type a schema file holds, from its folder: for statements that do not parse. */
static const char *type_from_path(const char *path)
{
    static const struct {
        const char *dir, *type;
    } map[] = {{"tables/", "TABLE"},         {"sequences/", "SEQUENCE"},  {"views/", "VIEW"},
               {"mviews/", "MVIEW"},         {"functions/", "FUNCTION"},  {"procedures/", "PROCEDURE"},
               {"triggers/", "TRIGGER"},     {"types/", "TYPE"},          {"domains/", "DOMAIN"},
               {"extensions/", "EXTENSION"}, {"collations/", "COLLATION"}, {"rules/", "RULE"},
               {"policies/", "POLICY"},      {"partitions/", "TABLE"},    {"schemas/", "SCHEMA"},
               {"comments/", "COMMENT"}};
    for (size_t i = 0; i < ARRAY_LEN(map); i++)
        if (strstr(path, map[i].dir))
            return map[i].type;
    return "STATEMENT";
}

/* A statement that does not parse: a newer feature we can name, else a syntax error. */
static void add_unparseable(analysis *a, an_stmt *st, const char *msg, size_t err_byte)
{
    if (!an_guess_object(st->sql, &st->obj_type, &st->obj_name)) {
        st->obj_type = xstrdup(type_from_path(st->file));
        st->obj_name = xstrdup("");
    }
    an_rule_id rule;
    char *detail = NULL;
    /* Not PostgreSQL 15 but a known construct (newer syntax, an Oracle COMPOUND trigger, WITH OIDS ...): that is the issue. */
    bool known = an_rules_text(a, st);
    if (an_classify_parse_error(st->sql, (int)err_byte, msg, &rule, &detail)) {
        an_report(a, st, rule, detail);
        free(detail);
        return;
    }
    if (known)
        return;
    char *d = xasprintf("line %d: %s", st->line + line_at(st->sql, err_byte) - 1, msg);
    an_report(a, st, R_SYNTAX_ERROR, d);
    free(d);
}

static void add_stmt(analysis *a, const char *path, const char *text, size_t start, size_t end, line_cursor *lc)
{
    start = skip_leading(text, start, end);
    while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\n' || text[end - 1] == '\t' ||
                           text[end - 1] == '\r' || text[end - 1] == ';'))
        end--;
    if (end <= start)
        return;
    an_stmt *st = stmt_push(a);
    st->file = xstrdup(path);
    st->line = cursor_line(lc, start);
    st->sql = xstrndup(text + start, end - start);
    char *err = NULL;
    int cursor = 0;
    st->root = an_parse(st->sql, &err, &cursor);
    if (!st->root) {
        add_unparseable(a, st, err ? err : "syntax error", char_to_byte(st->sql, cursor));
        free(err);
        return;
    }
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st->root, "stmts"), 0);
    st->node = an_unwrap(cJSON_GetObjectItemCaseSensitive(first, "stmt"), &st->kind);
    if (!st->node) {
        /* Only comments: nothing to analyze. */
        cJSON_Delete(st->root);
        st->root = NULL;
        st->kind = NULL;
        st->obj_type = xstrdup("STATEMENT");
        st->obj_name = xstrdup("");
    }
    free(err);
}

/*
 * If the scanner stopped on a line that is a psql meta-command (pg_dump's
 * "\restrict <key>", whose random key may start with a digit and so not even
 * lex), blank that line in place (offsets and line numbers stay) and say so.
 */
static bool blank_meta_line(char *buf, size_t err_byte)
{
    size_t len = strlen(buf);
    if (err_byte > len)
        return false;
    size_t start = err_byte;
    while (start > 0 && buf[start - 1] != '\n')
        start--;
    if (buf[start] != '\\')
        return false;
    for (size_t i = start; i < len && buf[i] != '\n'; i++)
        buf[i] = ' ';
    return true;
}

/*
 * The file does not even lex from err_byte on (an unterminated quote, a
 * literal our scanner rejects): the statements before it are analyzed as
 * usual, the one that breaks is reported from its first line to the line of
 * the error, and the rest of the file cannot be read.
 */
static void add_unlexable(analysis *a, const char *path, char *buf, char *lex, size_t err_byte, const char *msg)
{
    size_t len = strlen(buf);
    if (err_byte > len)
        err_byte = len;
    size_t fail_start = 0;
    line_cursor lc = {buf, 0, 1};
    /* Split what the scanner saw (lex: newer literals neutralized), take the text from buf. */
    char saved = lex[err_byte];
    lex[err_byte] = 0;
    PgQuerySplitResult pr = pg_query_split_with_scanner(lex);
    lex[err_byte] = saved;
    for (int i = 0; !pr.error && i < pr.n_stmts; i++) {
        size_t loc = (size_t)pr.stmts[i]->stmt_location;
        size_t end = loc + (size_t)pr.stmts[i]->stmt_len;
        if (!pr.stmts[i]->stmt_len || end >= err_byte || buf[end] != ';')
            break; /* not ended by a semicolon before the error: the statement that breaks */
        add_stmt(a, path, buf, loc, end, &lc);
        fail_start = end + 1;
    }
    pg_query_free_split_result(pr);
    size_t start = skip_leading(buf, fail_start, len);
    if (start > err_byte)
        start = err_byte;
    size_t stop = err_byte;
    while (stop < len && buf[stop] != '\n')
        stop++;
    an_stmt *st = stmt_push(a);
    st->file = xstrdup(path);
    st->line = line_at(buf, start);
    st->sql = xstrndup(buf + start, stop - start);
    char *m = stop < len ? xasprintf("%s (the rest of the file, from line %d, cannot be read)", msg,
                                     line_at(buf, stop) + 1)
                         : xstrdup(msg);
    add_unparseable(a, st, m, err_byte - start);
    free(m);
}

/*
 * PostgreSQL 16's numeric literals (0x1F, 0o17, 0b101, 1_000) are "trailing
 * junk" to PostgreSQL 15's scanner, which then cannot split the rest of the
 * file. For the split only, overwrite such a literal at err_byte with as many
 * zeros (same length: statement offsets stay valid in the original text).
 */
static bool neutralize_number(char *lex, size_t err_byte)
{
    size_t len = strlen(lex);
    if (err_byte >= len || !isdigit((unsigned char)lex[err_byte]))
        return false;
    size_t start = err_byte;
    while (start > 0 && (isalnum((unsigned char)lex[start - 1]) || lex[start - 1] == '_'))
        start--;
    if (!isdigit((unsigned char)lex[start]))
        return false;
    for (size_t i = start; i < len && (isalnum((unsigned char)lex[i]) || lex[i] == '_'); i++)
        lex[i] = '0';
    return true;
}

/* "-- Dumped from database version 15.6 (Debian 15.6-1)" -> "15.6". */
static void note_dumped_from(analysis *a, const char *sql)
{
    static const char mark[] = "-- Dumped from database version ";
    const char *p = a->dumped_from ? NULL : strstr(sql, mark);
    if (!p)
        return;
    p += sizeof(mark) - 1;
    size_t n = strcspn(p, " \r\n");
    if (n)
        a->dumped_from = xstrndup(p, n);
}

void an_add_sql(analysis *a, const char *path, const char *sql)
{
    note_dumped_from(a, sql);
    char *buf = xstrdup(sql);
    char *lex = xstrdup(sql); /* what the split sees: buf with newer literals neutralized */
    PgQuerySplitResult r;
    for (;;) {
        r = pg_query_split_with_parser(lex);
        if (!r.error)
            break;
        /* Some statement does not parse: the scanner still finds the boundaries. */
        pg_query_free_split_result(r);
        r = pg_query_split_with_scanner(lex);
        if (!r.error)
            break;
        size_t at = char_to_byte(lex, r.error->cursorpos);
        if (blank_meta_line(lex, at)) {
            blank_meta_line(buf, at);
        } else if (!neutralize_number(lex, at)) {
            break;
        }
        pg_query_free_split_result(r);
    }
    size_t len = strlen(buf);
    if (r.error) {
        size_t err_byte = char_to_byte(lex, r.error->cursorpos);
        char *msg = xstrdup(r.error->message);
        pg_query_free_split_result(r);
        add_unlexable(a, path, buf, lex, err_byte, msg);
        free(msg);
        free(lex);
        free(buf);
        return;
    }
    free(lex);
    line_cursor lc = {buf, 0, 1};
    for (int i = 0; i < r.n_stmts; i++) {
        size_t loc = (size_t)r.stmts[i]->stmt_location;
        size_t end = r.stmts[i]->stmt_len ? loc + (size_t)r.stmts[i]->stmt_len : len;
        if (end > len)
            end = len;
        add_stmt(a, path, buf, loc, end, &lc);
    }
    pg_query_free_split_result(r);
    free(buf);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Collect *.sql under dir (sorted, recursive), except failed.sql. */
static bool collect(const char *dir, strlist *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        log_error("cannot read %s: %m", dir);
        return false;
    }
    strlist names = STRLIST_INIT;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            strlist_push(&names, e->d_name);
    closedir(d);
    if (names.count)
        qsort(names.items, names.count, sizeof(char *), cmp_str);
    bool ok = true;
    for (size_t i = 0; ok && i < names.count; i++) {
        char *p = xasprintf("%s/%s", dir, names.items[i]);
        struct stat sb;
        /* lstat: a symlinked directory could loop; a symlinked file is read like any file. */
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            ok = collect(p, out);
        else if (str_ends_with(names.items[i], ".sql") && strcmp(names.items[i], "failed.sql") != 0)
            strlist_push(out, p);
        free(p);
    }
    strlist_free(&names);
    return ok;
}

int an_add_dir(analysis *a, const char *schema_dir, const char *base)
{
    strlist files = STRLIST_INIT;
    if (!collect(schema_dir, &files)) {
        strlist_free(&files);
        return -1;
    }
    size_t blen = base ? strlen(base) : 0;
    int n = 0;
    for (size_t i = 0; i < files.count; i++) {
        char *data = NULL;
        size_t len;
        if (!fs_read_all(files.items[i], &data, &len)) {
            log_error("cannot read %s: %m", files.items[i]);
            strlist_free(&files);
            return -1;
        }
        const char *shown = files.items[i];
        if (blen && strncmp(shown, base, blen) == 0 && shown[blen] == '/')
            shown += blen + 1;
        an_add_sql(a, shown, data);
        free(data);
        n++;
    }
    strlist_free(&files);
    return n;
}
