#include "db/feed_names.h"

#include "core/util.h"

/* The uuid without its dashes: names stay within NAMEDATALEN and need no quoting. */
static char *named(const char *prefix, const char *migration_uuid)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, prefix);
    for (const char *p = migration_uuid; *p; p++)
        if (*p != '-')
            strbuf_append_char(&sb, *p);
    return strbuf_detach(&sb);
}

char *feed_uuid_hex(const char *migration_uuid) { return named("", migration_uuid); }

char *feed_slot_name(const char *migration_uuid, bool of_target)
{
    return named(of_target ? "voyager_target_slot_" : "voyager_slot_", migration_uuid);
}

char *feed_publication_name(const char *migration_uuid, bool of_target)
{
    return named(of_target ? "voyager_target_pub_" : "voyager_pub_", migration_uuid);
}
