/*
 * One CDC event (SPEC.md "CDC event"), parsed from a queue line with cJSON.
 * Column values are PostgreSQL text representations; a NULL value pointer is
 * SQL NULL. Strings point into the parsed cJSON tree the event owns, or, for
 * long values of a line parsed in place, into that line (which its arena owns).
 */
#ifndef VOYAGER_CDC_EVENT_H
#define VOYAGER_CDC_EVENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cdc_op {
    CDC_OP_INSERT = 0,
    CDC_OP_UPDATE,
    CDC_OP_DELETE,
    CDC_OP_CUTOVER, /* end of stream; cdc_event.cutover_op says which cutover */
    CDC_OP_TRUNCATE, /* empty the table; no key, no fields */
} cdc_op;

/* A set of columns with text values (value NULL = SQL NULL). */
typedef struct cdc_cols {
    const char **names;
    const char **values;
    size_t count;
} cdc_cols;

typedef struct cdc_arena cdc_arena;

typedef struct cdc_event {
    int64_t vsn;
    cdc_op op;
    const char *cutover_op;     /* "cutover.target" ... for CDC_OP_CUTOVER, else NULL */
    const char *schema_name;
    const char *table_name;
    const char *exporter_role;
    cdc_cols key;               /* old key (update/delete); may be empty for inserts */
    cdc_cols fields;            /* insert: whole row; update: changed columns (new values) */
    cdc_cols before;            /* update/delete: old row when the exporter gave it */
    cJSON *json;                /* the parsed line, in arena */
    struct cdc_arena *arena;    /* owns json, every string above and the cols arrays;
                                   NULL when parsed into the caller's arena */
} cdc_event;

/*
 * Install cJSON allocator hooks that let cdc_event_parse() put a whole event
 * in one arena (other cJSON users keep plain malloc/free). Process-wide and
 * idempotent; cdc_event_parse() calls it, but call it before starting threads
 * that use cJSON, since the hooks are swapped without a lock.
 */
void cdc_event_parser_init(void);

/* Free the spare arena blocks kept for reuse (events still alive keep theirs). */
void cdc_event_parser_release(void);

/*
 * Parse one queue line (no trailing newline needed). On failure returns false
 * and puts a one-line reason into err (err_len bytes). On success the caller
 * frees *ev with cdc_event_free().
 */
bool cdc_event_parse(const char *line, size_t len, cdc_event *ev, char *err, size_t err_len);

/*
 * The same, with the event's tree in arena a, which the caller owns and frees
 * with cdc_arena_free() after cdc_event_free(ev) (which then frees nothing but
 * may still be called). A failed parse leaves what it used in a.
 * cdc_arena_for_line() makes an arena for a line of len bytes with room for
 * extra bytes the caller puts there with cdc_arena_alloc() (aligned, not
 * zeroed), so an event and what holds it share its blocks; it grows as the
 * parse needs.
 */
bool cdc_event_parse_in(cdc_arena *a, const char *line, size_t len, cdc_event *ev, char *err,
                        size_t err_len);
cdc_arena *cdc_arena_for_line(size_t len, size_t extra);

/*
 * cdc_event_parse_in() for a long line without a second copy of its long
 * values: each string member value longer than 64 KiB is decoded in place in
 * line (which this changes), and the event's value points there; cJSON
 * parses a copy of the line without them. line[len] must be writable (the
 * line's NUL). The line must live as long as the event: hand the block
 * holding it to the arena with cdc_arena_adopt(). A value holding \u0000
 * ends at it, as cJSON's do.
 */
bool cdc_event_parse_in_place(cdc_arena *a, char *line, size_t len, cdc_event *ev, char *err,
                              size_t err_len);
/*
 * The arena takes block (malloc'd, size bytes allocated) and frees it with
 * itself; cdc_arena_bytes() counts it.
 */
void cdc_arena_adopt(cdc_arena *a, void *block, size_t size);
void *cdc_arena_alloc(cdc_arena *a, size_t n);
/* Bytes the arena holds (every block): what an event costs in memory. */
size_t cdc_arena_bytes(const cdc_arena *a);
void cdc_arena_free(cdc_arena *a);
void cdc_event_free(cdc_event *ev);

/* Value of column name in cols; *found tells NULL value from missing column. */
const char *cdc_cols_get(const cdc_cols *cols, const char *name, bool *found);

/*
 * The old value of column name for an update or delete: from key, else from
 * before. *found false when the event carries neither.
 */
const char *cdc_event_old_value(const cdc_event *ev, const char *name, bool *found);

/*
 * The value of column name after the event (insert/update): from fields, else
 * (update, column unchanged) the old value.
 */
const char *cdc_event_new_value(const cdc_event *ev, const char *name, bool *found);

#endif
