#include "source/source.h"

#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const source_ops source_pg_ops;
extern const source_ops source_mysql_ops;

/* The sources this build has; a new one is one more line. */
static const source_ops *const sources[] = {&source_pg_ops, &source_mysql_ops, NULL};

static source *source_new(engine_ctx *eng, db_conf *conf, const source_ops *ops)
{
    source *s = xcalloc(1, sizeof *s);
    s->ops = ops;
    s->eng = eng;
    s->conf = conf;
    s->statement_timeout_s = -1;
    return s;
}

source *source_for(engine_ctx *eng, db_conf *conf, const char *what, engine_status *status)
{
    for (size_t i = 0; conf->type && sources[i]; i++) {
        if (strcmp(conf->type, sources[i]->type) != 0)
            continue;
        return source_new(eng, conf, sources[i]);
    }
    log_error("%s type %s is not built yet in this version of voyager-c (--source-db-type "
              "postgresql and mysql are)",
              what, conf->type ? conf->type : "(no --source-db-type)");
    *status = conf->type ? ENGINE_NOT_SUPPORTED : ENGINE_BAD_INPUT;
    return NULL;
}

source *source_for_target(engine_ctx *eng, db_conf *conf)
{
    /* YugabyteDB and a source-replica speak PostgreSQL's protocol, slots and pgoutput included. */
    return source_new(eng, conf, &source_pg_ops);
}

int source_lost(source *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->lost, sizeof s->lost, fmt, ap);
    va_end(ap);
    s->lost[strcspn(s->lost, "\n")] = '\0';
    return SOURCE_LOST;
}

void source_close(source *s)
{
    if (!s)
        return;
    if (s->ops->close)
        s->ops->close(s);
    free(s);
}

void source_ddl_free(source_ddl *d)
{
    for (int i = 0; i < SOURCE_DDL_PART_COUNT; i++)
        strbuf_free(&d->parts[i]);
    for (size_t i = 0; i < d->nissues; i++) {
        free(d->issues[i].object_type);
        free(d->issues[i].object_name);
        free(d->issues[i].reason);
        free(d->issues[i].suggestion);
    }
    free(d->issues);
    memset(d, 0, sizeof *d);
}

void src_tables_free(src_tables *t)
{
    for (size_t i = 0; i < t->count; i++) {
        free(t->items[i].schema);
        free(t->items[i].name);
        free(t->items[i].columns_json);
        free(t->items[i].column_list);
    }
    free(t->items);
    for (size_t i = 0; i < t->nparts; i++) {
        free(t->parts[i].schema);
        free(t->parts[i].name);
        free(t->parts[i].root_schema);
        free(t->parts[i].root_name);
    }
    free(t->parts);
    memset(t, 0, sizeof *t);
}
