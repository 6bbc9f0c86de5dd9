/*
 * The names of a migration's PostgreSQL replication slot and publication,
 * made from its uuid: the change feed creates them, import data's replication
 * check recognises them. One rule, so the two never disagree.
 */
#ifndef VOYAGER_DB_FEED_NAMES_H
#define VOYAGER_DB_FEED_NAMES_H

#include <stdbool.h>

/* The uuid's hex digits (no dashes): in every such name; end migration looks for them. Caller frees. */
char *feed_uuid_hex(const char *migration_uuid);
/* export data's slot (of_target false) or export data from target's. Caller frees. */
char *feed_slot_name(const char *migration_uuid, bool of_target);
/* The publication beside that slot. Caller frees. */
char *feed_publication_name(const char *migration_uuid, bool of_target);

#endif
