#include "cli/older_name.h"

#include "cli/cli.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

const char *cli_older_name(const char *const *words)
{
    strbuf path = STRBUF_INIT;
    for (const char *const *w = words; *w; w++) {
        if (path.len)
            strbuf_append_char(&path, ' ');
        strbuf_append(&path, *w);
    }
    const char *older = NULL;
    for (const command_alias *a = cli_command_aliases; a->old_path && !older; a++) {
        char *p = cli_command_path(a->target);
        if (p && strcmp(p, strbuf_cstr(&path)) == 0)
            older = a->old_path;
        free(p);
    }
    strbuf_free(&path);
    return older;
}
