#include "cdc/event.h"

#include "cdc/json_unescape.h"
#include "cdc/queue_format.h"
#include "core/util.h"

#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Per-event arena. The importer parses every queue line in its reader thread
 * and frees the event in a channel thread; with cJSON's default allocator one
 * event is some 40 small mallocs and as many cross-thread frees, which was most
 * of the importer's CPU (bench/RESULTS-cdc.md). cJSON's allocator hooks are
 * process-wide, so they draw from an arena only while this thread is inside
 * cdc_event_parse() (a thread-local), and are plain malloc/free for every other
 * cJSON use. The event owns its arena and drops it whole.
 */
struct cdc_arena {
    struct cdc_arena *next;
    struct cdc_arena *cur; /* head only: the block small allocations come from */
    size_t total;          /* head only: bytes of every block of the arena (memory bounds) */
    struct adopted *adopted; /* head only: malloc'd blocks given to it (cdc_arena_adopt) */
    size_t cap, used;
    alignas(max_align_t) unsigned char data[];
};

#define ARENA_ALIGN alignof(max_align_t)

/* A block the arena frees with its own (the node itself lives in the arena). */
struct adopted {
    struct adopted *next;
    void *block;
};

static _Thread_local cdc_arena *parse_arena;

/*
 * Blocks of the usual size go back to a pool instead of free(): the reader
 * thread takes them and the channel threads give them back, and glibc's
 * malloc is slow at exactly that (a cross-thread free each time).
 */
#define POOL_BLOCK 2048 /* a narrow table's event and its item: ~1.4-1.9 KiB */
#define POOL_CAP (POOL_BLOCK - offsetof(cdc_arena, data))
#define POOL_MAX 8192 /* 16 MiB kept at most */

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static cdc_arena *pool;
static size_t pool_n;

static cdc_arena *arena_block(size_t cap)
{
    cdc_arena *a = NULL;
    if (cap <= POOL_CAP) {
        cap = POOL_CAP;
        pthread_mutex_lock(&pool_mu);
        if (pool) {
            a = pool;
            pool = a->next;
            pool_n--;
        }
        pthread_mutex_unlock(&pool_mu);
    }
    if (!a)
        a = xmalloc(offsetof(cdc_arena, data) + cap);
    a->next = NULL;
    a->cur = a;
    a->total = offsetof(cdc_arena, data) + cap;
    a->adopted = NULL;
    a->cap = cap;
    a->used = 0;
    return a;
}

/*
 * Blocks chain after the head. A full block is left for a new pool block
 * (what fits one); a longer value gets an exact block and the current one
 * stays in use. Formerly every allocation past the head took a block of its
 * own: ~60 KiB an event of a 1 kB row, most of the importer's memory and CPU.
 */
static void *arena_alloc(cdc_arena *a, size_t n)
{
    n = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    cdc_arena *c = a->cur;
    if (c->cap - c->used < n) {
        bool own = n > POOL_CAP;
        cdc_arena *b = arena_block(own ? n : POOL_CAP);
        b->next = a->next;
        a->next = b;
        a->total += b->total;
        if (own) {
            b->used = n;
            return b->data;
        }
        a->cur = c = b;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(cdc_arena *a)
{
    if (!a)
        return;
    for (struct adopted *d = a->adopted; d; d = d->next)
        free(d->block);
    pthread_mutex_lock(&pool_mu);
    while (a) {
        cdc_arena *next = a->next;
        if (a->cap == POOL_CAP && pool_n < POOL_MAX) {
            a->next = pool;
            pool = a;
            pool_n++;
        } else {
            free(a);
        }
        a = next;
    }
    pthread_mutex_unlock(&pool_mu);
}

void cdc_event_parser_release(void)
{
    pthread_mutex_lock(&pool_mu);
    cdc_arena *a = pool;
    pool = NULL;
    pool_n = 0;
    pthread_mutex_unlock(&pool_mu);
    while (a) {
        cdc_arena *next = a->next;
        free(a);
        a = next;
    }
}

static void *hook_malloc(size_t n)
{
    return parse_arena ? arena_alloc(parse_arena, n) : xmalloc(n);
}

static void hook_free(void *p)
{
    /* inside a parse only its own nodes are freed (on a syntax error): the arena goes whole */
    if (!parse_arena)
        free(p);
}

static void install_hooks(void)
{
    cJSON_Hooks h = {hook_malloc, hook_free};
    cJSON_InitHooks(&h);
}

void cdc_event_parser_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_hooks);
}

static bool fail(char *err, size_t n, const char *what)
{
    snprintf(err, n, "%s", what);
    return false;
}

/*
 * Long string values decoded in place in a long line (cdc_event_parse_in_place):
 * cJSON parsed a copy of the line in which each is a placeholder, PH_MARK and
 * its index, which no value of that line can spell (such a line has no 0xFF
 * byte at all).
 */
#define PH_MARK "\xFF\xFE"
typedef struct long_values {
    const char **value; /* into the line */
    size_t count;
} long_values;

/* The value a placeholder stands for, else v itself. */
static const char *long_value(const long_values *lv, const char *v)
{
    if (!lv || !lv->count || strncmp(v, PH_MARK, 2) != 0)
        return v;
    char *end;
    unsigned long k = strtoul(v + 2, &end, 10);
    return *end == '\0' && k < lv->count ? lv->value[k] : v;
}

static const char *str_of(const long_values *lv, const cJSON *j)
{
    return cJSON_IsString(j) ? long_value(lv, j->valuestring) : NULL;
}

/* An object of column -> string|null into cols; a missing member gives an empty set. */
static bool parse_cols(cdc_arena *arena, const long_values *lv, const cJSON *obj, cdc_cols *cols,
                       const char *member, char *err, size_t n)
{
    memset(cols, 0, sizeof *cols);
    if (!obj || cJSON_IsNull(obj))
        return true;
    if (!cJSON_IsObject(obj)) {
        snprintf(err, n, "\"%s\" is not an object", member);
        return false;
    }
    size_t count = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        count++;
    if (count == 0)
        return true;
    cols->names = arena_alloc(arena, count * sizeof *cols->names);
    cols->values = arena_alloc(arena, count * sizeof *cols->values);
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!c->string) {
            snprintf(err, n, "\"%s\" has a member without a name", member);
            return false;
        }
        const char *v;
        if (cJSON_IsNull(c))
            v = NULL;
        else if (cJSON_IsString(c))
            v = long_value(lv, c->valuestring);
        else {
            snprintf(err, n, "\"%s\".\"%s\" is not a string or null", member, c->string);
            return false;
        }
        cols->names[cols->count] = c->string;
        cols->values[cols->count] = v;
        cols->count++;
    }
    return true;
}

enum { M_VSN, M_OP, M_ROLE, M_SCHEMA, M_TABLE, M_KEY, M_FIELDS, M_BEFORE, M_COUNT };
static const char *const member_names[M_COUNT] = {
    "vsn", "op", "exporter_role", "schema_name", "table_name", "key", "fields", "before_fields",
};

/*
 * The known members of root in one walk (cJSON_GetObjectItemCaseSensitive per
 * member walks the object each time); the first of duplicates wins, as there.
 */
static void find_members(const cJSON *root, const cJSON *m[M_COUNT])
{
    for (int k = 0; k < M_COUNT; k++)
        m[k] = NULL;
    for (const cJSON *c = root->child; c; c = c->next) {
        if (!c->string)
            continue;
        for (int k = 0; k < M_COUNT; k++) {
            if (!m[k] && strcmp(c->string, member_names[k]) == 0) {
                m[k] = c;
                break;
            }
        }
    }
}

/* ev->arena stays NULL here: failure paths clear ev and leave the arena to the caller. */
static bool parse_into(cdc_arena *arena, const long_values *lv, const char *line, size_t len,
                       cdc_event *ev, char *err, size_t err_len)
{
    memset(ev, 0, sizeof *ev);
    cdc_event_parser_init();
    parse_arena = arena;
    ev->json = cJSON_ParseWithLength(line, len);
    parse_arena = NULL;
    if (!ev->json || !cJSON_IsObject(ev->json)) {
        cdc_event_free(ev);
        return fail(err, err_len, "not a JSON object");
    }
    const cJSON *m[M_COUNT];
    find_members(ev->json, m);
    const cJSON *vsn = m[M_VSN];
    if (!cJSON_IsNumber(vsn) || vsn->valuedouble < 1 || vsn->valuedouble > 9007199254740992.0) {
        cdc_event_free(ev);
        return fail(err, err_len, "\"vsn\" missing or not a positive integer");
    }
    ev->vsn = (int64_t)vsn->valuedouble;
    const char *op = str_of(lv, m[M_OP]);
    ev->exporter_role = str_of(lv, m[M_ROLE]);
    if (!op || !ev->exporter_role) {
        cdc_event_free(ev);
        return fail(err, err_len, "\"op\" or \"exporter_role\" missing");
    }
    if (strcmp(op, QUEUE_OP_INSERT) == 0)
        ev->op = CDC_OP_INSERT;
    else if (strcmp(op, QUEUE_OP_UPDATE) == 0)
        ev->op = CDC_OP_UPDATE;
    else if (strcmp(op, QUEUE_OP_DELETE) == 0)
        ev->op = CDC_OP_DELETE;
    else if (strcmp(op, QUEUE_OP_TRUNCATE) == 0)
        ev->op = CDC_OP_TRUNCATE;
    else if (strcmp(op, QUEUE_OP_CUTOVER_TARGET) == 0 || strcmp(op, QUEUE_OP_CUTOVER_SOURCE) == 0 ||
             strcmp(op, QUEUE_OP_CUTOVER_SOURCE_REPLICA) == 0) {
        ev->op = CDC_OP_CUTOVER;
        ev->cutover_op = op;
        return true;
    } else {
        cdc_event_free(ev);
        return fail(err, err_len, "unknown \"op\"");
    }
    ev->schema_name = str_of(lv, m[M_SCHEMA]);
    ev->table_name = str_of(lv, m[M_TABLE]);
    if (!ev->schema_name || !ev->table_name) {
        cdc_event_free(ev);
        return fail(err, err_len, "\"schema_name\" or \"table_name\" missing");
    }
    if (!parse_cols(arena, lv, m[M_KEY], &ev->key, "key", err, err_len) ||
        !parse_cols(arena, lv, m[M_FIELDS], &ev->fields, "fields", err, err_len) ||
        !parse_cols(arena, lv, m[M_BEFORE], &ev->before, "before_fields", err, err_len)) {
        cdc_event_free(ev);
        return false;
    }
    if (ev->op == CDC_OP_INSERT && ev->fields.count == 0) {
        cdc_event_free(ev);
        return fail(err, err_len, "insert without \"fields\"");
    }
    if ((ev->op == CDC_OP_UPDATE || ev->op == CDC_OP_DELETE) && ev->key.count == 0 &&
        ev->before.count == 0) {
        cdc_event_free(ev);
        return fail(err, err_len, "update or delete without \"key\"");
    }
    return true;
}

cdc_arena *cdc_arena_for_line(size_t len, size_t extra)
{
    /* a pool block: the parse chains more as it needs them, a long value gets its own */
    (void)len;
    return arena_block(extra + 512);
}

size_t cdc_arena_bytes(const cdc_arena *a) { return a ? a->total : 0; }

void *cdc_arena_alloc(cdc_arena *a, size_t n) { return arena_alloc(a, n); }

void cdc_arena_free(cdc_arena *a) { arena_free(a); }

bool cdc_event_parse_in(cdc_arena *a, const char *line, size_t len, cdc_event *ev, char *err,
                        size_t err_len)
{
    return parse_into(a, NULL, line, len, ev, err, err_len);
}

/* A string literal this long (escaped) is decoded in place, not copied by cJSON. */
#define LONG_LITERAL ((size_t)64 << 10)

static bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool cdc_event_parse_in_place(cdc_arena *a, char *line, size_t len, cdc_event *ev, char *err,
                              size_t err_len)
{
    if (memchr(line, 0xFF, len)) /* a placeholder could be mistaken for a value */
        return parse_into(a, NULL, line, len, ev, err, err_len);
    /*
     * The copy cJSON parses: the line with each long member value replaced by
     * a placeholder. Outside string literals a line has no quote, so the
     * literals are found from quote to quote; a literal is a member value
     * when a ':' precedes it.
     */
    strbuf compact = STRBUF_INIT;
    long_values lv = {NULL, 0};
    size_t cap = 0, pos = 0, copied = 0;
    bool ok = true;
    while (pos < len) {
        const char *q = memchr(line + pos, '"', len - pos);
        if (!q)
            break;
        size_t open = (size_t)(q - line);
        size_t end = json_literal_end(line + open + 1, len - open - 1);
        if (end == (size_t)-1)
            break; /* cJSON reports the unterminated literal */
        size_t close = open + 1 + end;
        pos = close + 1;
        if (end <= LONG_LITERAL)
            continue;
        size_t b = open;
        while (b > 0 && is_json_space(line[b - 1]))
            b--;
        if (b == 0 || line[b - 1] != ':')
            continue;
        strbuf_append_len(&compact, line + copied, open - copied);
        copied = pos;
        if (json_unescape_in_place(line + open + 1, end) == (size_t)-1) {
            ok = false;
            break;
        }
        if (lv.count == cap) {
            cap = cap ? cap * 2 : 8;
            lv.value = xrealloc(lv.value, cap * sizeof *lv.value);
        }
        strbuf_appendf(&compact, "\"" PH_MARK "%zu\"", lv.count);
        lv.value[lv.count++] = line + open + 1;
    }
    if (ok) {
        strbuf_append_len(&compact, line + copied, len - copied);
        ok = lv.count ? parse_into(a, &lv, compact.data, compact.len, ev, err, err_len)
                      : parse_into(a, NULL, line, len, ev, err, err_len);
    } else {
        memset(ev, 0, sizeof *ev);
        fail(err, err_len, "a long string value has an invalid escape");
    }
    strbuf_free(&compact);
    free(lv.value);
    return ok;
}

void cdc_arena_adopt(cdc_arena *a, void *block, size_t size)
{
    struct adopted *d = arena_alloc(a, sizeof *d);
    d->block = block;
    d->next = a->adopted;
    a->adopted = d;
    a->total += size;
}

bool cdc_event_parse(const char *line, size_t len, cdc_event *ev, char *err, size_t err_len)
{
    cdc_arena *a = cdc_arena_for_line(len, 0);
    if (!parse_into(a, NULL, line, len, ev, err, err_len)) {
        arena_free(a);
        return false;
    }
    ev->arena = a;
    return true;
}

void cdc_event_free(cdc_event *ev)
{
    if (!ev)
        return;
    /* the tree and the column arrays live in the arena (when the event owns one) */
    arena_free(ev->arena);
    memset(ev, 0, sizeof *ev);
}

const char *cdc_cols_get(const cdc_cols *cols, const char *name, bool *found)
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

const char *cdc_event_old_value(const cdc_event *ev, const char *name, bool *found)
{
    const char *v = cdc_cols_get(&ev->key, name, found);
    if (*found)
        return v;
    return cdc_cols_get(&ev->before, name, found);
}

const char *cdc_event_new_value(const cdc_event *ev, const char *name, bool *found)
{
    const char *v = cdc_cols_get(&ev->fields, name, found);
    if (*found || ev->op != CDC_OP_UPDATE)
        return v;
    return cdc_event_old_value(ev, name, found);
}
