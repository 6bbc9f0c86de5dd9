#include "source/writer.h"

#include "core/log.h"

#include <stdlib.h>
#include <string.h>

extern const writer_ops writer_pg_ops;
extern const writer_ops writer_mysql_ops;

/* The writers this build has; a new one is one more line. */
static const writer_ops *const writers[] = {&writer_pg_ops, &writer_mysql_ops, NULL};

writer *writer_for(engine_ctx *eng, db_conf *conf, engine_status *status)
{
    /*
     * The target speaks PostgreSQL's protocol whatever the source is; the source (fall-back) and
     * a source-replica (fall-forward: the command gives it the source's type) are of their type.
     */
    const char *type = conf->role != DB_TARGET && conf->type ? conf->type : "postgresql";
    for (size_t i = 0; writers[i]; i++) {
        if (strcmp(type, writers[i]->type) != 0)
            continue;
        writer *w = xcalloc(1, sizeof *w);
        w->ops = writers[i];
        w->eng = eng;
        w->conf = conf;
        return w;
    }
    log_error("import data to %s: applying changes to a %s database is not built yet in this "
              "version of voyager-c",
              db_role_name(conf->role), type);
    *status = ENGINE_NOT_SUPPORTED;
    return NULL;
}

void writer_free(writer *w)
{
    if (!w)
        return;
    if (w->ops->free)
        w->ops->free(w);
    free(w);
}

void writer_session_close(writer_session *s)
{
    if (s)
        s->ops->close_session(s);
}

void writer_table_counts_free(writer_table_count *counts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(counts[i].schema_name);
        free(counts[i].table_name);
    }
    free(counts);
}

void table_meta_free(table_meta *t)
{
    if (!t)
        return;
    free(t->schema_name);
    free(t->table_name);
    free(t->qualified);
    free(t->count_name);
    strlist_free(&t->pk);
    for (size_t i = 0; i < t->nuniq; i++)
        strlist_free(&t->uniq[i]);
    free(t->uniq);
    strlist_free(&t->ucols);
    strlist_free(&t->col_names);
    strlist_free(&t->col_types);
    strlist_free(&t->col_match);
    free(t->fk_group);
    free(t->route_group);
    free(t);
}

const char *writer_cols_get(const writer_cols *cols, const char *name, bool *found)
{
    for (size_t i = 0; i < cols->count; i++) {
        if (strcmp(cols->names[i], name) == 0) {
            *found = true;
            return cols->values[i];
        }
    }
    *found = false;
    return NULL;
}

const char *writer_old_value(const writer_change *ev, const char *name, bool *found)
{
    const char *v = writer_cols_get(&ev->key, name, found);
    if (*found)
        return v;
    return writer_cols_get(&ev->before, name, found);
}

static int cmp_row(const void *a, const void *b)
{
    const import_metainfo_row *x = a, *y = b;
    int c = strcmp(x->file_name, y->file_name);
    if (c)
        return c;
    return x->batch_number < y->batch_number ? -1 : x->batch_number > y->batch_number;
}

void import_metainfo_set_sort(import_metainfo_set *s)
{
    if (s->count)
        qsort(s->items, s->count, sizeof *s->items, cmp_row);
}

bool import_metainfo_set_has(const import_metainfo_set *s, const char *file_name, int64_t batch,
                             int64_t *rows)
{
    import_metainfo_row key = {(char *)file_name, batch, 0};
    const import_metainfo_row *hit =
        s->count ? bsearch(&key, s->items, s->count, sizeof *s->items, cmp_row) : NULL;
    if (hit && rows)
        *rows = hit->rows;
    return hit != NULL;
}

void import_metainfo_set_free(import_metainfo_set *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i].file_name);
    free(s->items);
    memset(s, 0, sizeof *s);
}
