#include "snapshot/table_list.h"

#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"
#include "db/pgconn.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Read one identifier part at *p: "quoted ""with"" doubles" or unquoted up to '.'. */
static bool parse_part(const char **p, const char *end, char **out, bool *quoted)
{
    const char *s = *p;
    strbuf sb = STRBUF_INIT;
    if (s < end && *s == '"') {
        *quoted = true;
        s++;
        if (!str_take_quoted(&s, end, '"', &sb)) {
            strbuf_free(&sb);
            return false; /* unterminated quote */
        }
    } else {
        *quoted = false;
        while (s < end && *s != '.' && *s != '"')
            strbuf_append_char(&sb, *s++);
    }
    *p = s;
    *out = strbuf_detach(&sb);
    return **out != '\0';
}

static bool parse_item(const char *s, size_t len, table_pattern *tp)
{
    const char *p = s, *end = s + len;
    memset(tp, 0, sizeof *tp);
    tp->text = xstrndup(s, len);
    char *first = NULL;
    bool q1 = false;
    if (!parse_part(&p, end, &first, &q1)) {
        free(first);
        return false;
    }
    if (p == end) {
        tp->name = first;
        tp->name_quoted = q1;
        return true;
    }
    if (*p != '.') {
        free(first);
        return false;
    }
    p++;
    char *second = NULL;
    bool q2 = false;
    if (!parse_part(&p, end, &second, &q2) || p != end) {
        free(first);
        free(second);
        return false;
    }
    tp->schema = first;
    tp->schema_quoted = q1;
    tp->name = second;
    tp->name_quoted = q2;
    return true;
}

static void push(table_patterns *out, const table_pattern *tp)
{
    out->items = xrealloc(out->items, (out->count + 1) * sizeof *out->items);
    out->items[out->count++] = *tp;
}

static void pattern_free(table_pattern *tp)
{
    free(tp->text);
    free(tp->schema);
    free(tp->name);
}

static bool add_item(const char *s, size_t len, table_patterns *out, char **err)
{
    while (len > 0 && isspace((unsigned char)*s))
        s++, len--;
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    if (len == 0)
        return true;
    table_pattern tp;
    if (!parse_item(s, len, &tp)) {
        *err = xasprintf("bad table name '%.*s': use table, schema.table or \"CaseSensitive\"",
                         (int)len, s);
        pattern_free(&tp);
        return false;
    }
    push(out, &tp);
    return true;
}

bool table_patterns_parse(const char *list, table_patterns *out, char **err)
{
    *err = NULL;
    if (!list)
        return true;
    const char *start = list;
    bool in_quote = false;
    for (const char *p = list;; p++) {
        if (*p == '"')
            in_quote = !in_quote;
        if (*p == '\0' || (*p == ',' && !in_quote)) {
            if (!add_item(start, (size_t)(p - start), out, err))
                return false;
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
    return true;
}

bool table_patterns_parse_file(const char *path, table_patterns *out, char **err)
{
    *err = NULL;
    char *data = NULL;
    size_t len = 0;
    if (!fs_read_all(path, &data, &len)) {
        *err = xasprintf("cannot read table list file %s: %m", path);
        return false;
    }
    bool ok = true;
    char *save = NULL;
    for (char *line = strtok_r(data, "\r\n", &save); ok && line; line = strtok_r(NULL, "\r\n", &save)) {
        char *t = str_trim(line);
        if (*t == '\0' || *t == '#')
            continue;
        ok = add_item(t, strlen(t), out, err);
    }
    free(data);
    return ok;
}

void table_patterns_free(table_patterns *p)
{
    for (size_t i = 0; i < p->count; i++)
        pattern_free(&p->items[i]);
    free(p->items);
    p->items = NULL;
    p->count = 0;
}

/* One UTF-8 character: `?` stands for a character, not a byte, in a name like 日本. */
static const char *next_char(const char *s)
{
    s++;
    while (((unsigned char)*s & 0xC0) == 0x80)
        s++;
    return s;
}

static bool same_byte(char a, char b, bool fold)
{
    /* ASCII only: PostgreSQL folds only ASCII letters of an unquoted name. */
    if (fold && a >= 'A' && a <= 'Z')
        a = (char)(a - 'A' + 'a');
    if (fold && b >= 'A' && b <= 'Z')
        b = (char)(b - 'A' + 'a');
    return a == b;
}

/*
 * `*` and `?` are the only wildcards (the documented ones); every other byte,
 * `[` and `\` included, stands for itself, so a name like arr[1] needs no
 * escaping. Backtracks to the last `*` only: linear in practice.
 */
static bool glob_matches(const char *pat, const char *s, bool fold)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = ++pat;
            resume = s;
        } else if (*pat == '?') {
            pat++;
            s = next_char(s);
        } else if (*pat && same_byte(*pat, *s, fold)) {
            pat++;
            s++;
        } else if (star) {
            pat = star;
            s = resume = next_char(resume);
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/*
 * A quoted part keeps its case and is otherwise a pattern like an unquoted
 * one: upstream writes "*Case*" for a case-sensitive wildcard.
 */
static bool part_matches(const char *pat, bool quoted, const char *value)
{
    return glob_matches(pat, value, !quoted);
}

bool table_pattern_matches(const table_pattern *p, const char *schema, const char *name)
{
    if (p->schema && !part_matches(p->schema, p->schema_quoted, schema))
        return false;
    return part_matches(p->name, p->name_quoted, name);
}

static bool has_wildcard(const table_pattern *p)
{
    return strpbrk(p->name, "*?") || (p->schema && strpbrk(p->schema, "*?"));
}

static bool check_all_match(const table_ref *tables, size_t n, const table_partitions *partitions,
                            const table_patterns *pats, const char *which, char **err, const char **hint)
{
    for (size_t k = 0; k < pats->count; k++) {
        const table_pattern *p = &pats->items[k];
        if (has_wildcard(p))
            continue;
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = table_pattern_matches(p, tables[i].schema, tables[i].name);
        if (found)
            continue;
        for (size_t i = 0; partitions && i < partitions->count; i++) {
            const table_ref *part = &partitions->parts[i], *root = &partitions->roots[i];
            if (!table_pattern_matches(p, part->schema, part->name))
                continue;
            char *pname = table_display_name(part->schema, part->name);
            char *rname = table_display_name(root->schema, root->name);
            *err = xasprintf("'%s' in %s is %s, a partition of %s: a partition is exported with its "
                             "partitioned table, never alone",
                             p->text, which, pname, rname);
            free(pname);
            free(rname);
            *hint = "name the partitioned table (its root) instead; a partition cannot be left out "
                    "on its own";
            return false;
        }
        *err = xasprintf("table '%s' in %s does not exist", p->text, which);
        *hint = "names are schema.table; quote case-sensitive names: \"Name\"";
        return false;
    }
    return true;
}

bool table_filter_select(const table_ref *tables, size_t n, const table_partitions *partitions,
                         const table_patterns *include, const table_patterns *exclude, bool *keep,
                         char **err, const char **hint)
{
    *err = NULL;
    *hint = NULL;
    if (!check_all_match(tables, n, partitions, include, "--table-list", err, hint) ||
        !check_all_match(tables, n, partitions, exclude, "--exclude-table-list", err, hint))
        return false;
    for (size_t i = 0; i < n; i++) {
        bool in = include->count == 0;
        for (size_t k = 0; k < include->count && !in; k++)
            in = table_pattern_matches(&include->items[k], tables[i].schema, tables[i].name);
        for (size_t k = 0; k < exclude->count && in; k++)
            in = !table_pattern_matches(&exclude->items[k], tables[i].schema, tables[i].name);
        keep[i] = in;
    }
    return true;
}

char *table_display_name(const char *schema, const char *name)
{
    if (!schema || strcmp(schema, "public") == 0)
        return xstrdup(name);
    return xasprintf("%s.%s", schema, name);
}

char *table_qualified_name(const char *schema, const char *name)
{
    return pg_quote_qualified_min(schema ? schema : "public", name);
}
