/*
 * The object types of an exported schema: where each lives under schema/, the
 * name an operator uses for it (--object-type-list), and the order import
 * schema applies them in. One table, so export, import and the help text agree.
 */
#ifndef VOYAGER_SCHEMA_SCHEMA_OBJTYPE_H
#define VOYAGER_SCHEMA_SCHEMA_OBJTYPE_H

#include <stdbool.h>

/* In the order import schema applies them (dependency-safe for pg_dump output). */
typedef enum schema_obj {
    OBJ_SCHEMA = 0,
    OBJ_COLLATION,
    OBJ_EXTENSION,
    OBJ_TYPE,
    OBJ_DOMAIN,
    OBJ_SEQUENCE,
    OBJ_TABLE,
    OBJ_PARTITION,
    OBJ_FOREIGN_TABLE,
    OBJ_FUNCTION,
    OBJ_PROCEDURE,
    OBJ_VIEW,
    OBJ_MVIEW,
    OBJ_RULE,
    OBJ_COMMENT,
    OBJ_POLICY,
    OBJ_UNCATEGORIZED,
    /* post-data: applied by import schema --post-snapshot-import true */
    OBJ_INDEX,
    OBJ_TRIGGER,
    OBJ_COUNT
} schema_obj;

/* "TABLE", "FOREIGN TABLE", ... as in yb-voyager's --object-type-list. */
const char *schema_obj_name(schema_obj t);
/* File under schema/: "tables/table.sql", "uncategorized.sql", ... */
const char *schema_obj_file(schema_obj t);
/* Indexes and triggers: created after the data is imported. */
bool schema_obj_is_post_data(schema_obj t);
/* Case-insensitive; "FOREIGN_TABLE" and "FOREIGN TABLE" both work. */
bool schema_obj_parse(const char *name, schema_obj *out);

/*
 * Parse a comma list into order[] (no duplicates; TABLE brings PARTITION right
 * after it, as in yb-voyager) and return the count, or -1
 * after a one-line error naming the bad word, the flag and the valid names.
 */
int schema_obj_parse_list(const char *list, const char *flag, schema_obj order[OBJ_COUNT]);

/* "SCHEMA, COLLATION, ..." for messages. Static storage. */
const char *schema_obj_valid_names(void);

#endif
