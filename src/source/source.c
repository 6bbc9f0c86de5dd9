#include "source/source.h"

#include "core/log.h"

#include <stdlib.h>
#include <string.h>

extern const source_ops source_pg_ops;

/* The sources this build has; a new one is one more line. */
static const source_ops *const sources[] = {&source_pg_ops, NULL};

source *source_for(engine_ctx *eng, db_conf *conf, const char *what, engine_status *status)
{
    for (size_t i = 0; conf->type && sources[i]; i++) {
        if (strcmp(conf->type, sources[i]->type) != 0)
            continue;
        source *s = xcalloc(1, sizeof *s);
        s->ops = sources[i];
        s->eng = eng;
        s->conf = conf;
        return s;
    }
    log_error("%s type %s is not built yet in this version of voyager-c (--source-db-type "
              "postgresql is)",
              what, conf->type ? conf->type : "(no --source-db-type)");
    *status = conf->type ? ENGINE_NOT_SUPPORTED : ENGINE_BAD_INPUT;
    return NULL;
}

void source_close(source *s)
{
    if (!s)
        return;
    if (s->ops->close)
        s->ops->close(s);
    free(s);
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
    memset(t, 0, sizeof *t);
}
