/*
 * Small helpers used everywhere: allocation that aborts on out-of-memory (so
 * call sites stay clean), a growable string buffer, and string utilities.
 */
#ifndef VOYAGER_CORE_UTIL_H
#define VOYAGER_CORE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* All x* allocators abort the process with a message when memory runs out. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);                 /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
/* Caller frees the result. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/* Growable NUL-terminated byte buffer. Owner calls strbuf_free(). */
typedef struct strbuf {
    char *data;  /* always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
} strbuf;

#define STRBUF_INIT {NULL, 0, 0}
void strbuf_reserve(strbuf *sb, size_t extra);
void strbuf_append(strbuf *sb, const char *s);
void strbuf_append_len(strbuf *sb, const char *s, size_t n);
void strbuf_append_char(strbuf *sb, char c);
void strbuf_append_int(strbuf *sb, long long v); /* decimal, as "%lld" (no printf: hot paths) */
void strbuf_appendf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_reset(strbuf *sb);
void strbuf_free(strbuf *sb);
/* Hands the buffer to the caller (who frees it) and resets sb. Never NULL. */
char *strbuf_detach(strbuf *sb);
const char *strbuf_cstr(const strbuf *sb); /* "" when empty */

/* A NULL-terminated list of owned strings. */
typedef struct strlist {
    char **items;
    size_t count;
    size_t cap;
} strlist;

#define STRLIST_INIT {NULL, 0, 0}
void strlist_push(strlist *l, const char *s);      /* copies s */
void strlist_push_owned(strlist *l, char *s);      /* takes s */
bool strlist_contains(const strlist *l, const char *s);
void strlist_free(strlist *l);
/* Split on sep, trimming blanks around items, dropping empty items. */
void strlist_split(strlist *out, const char *s, char sep);

bool str_eq(const char *a, const char *b);          /* NULL-safe */
bool str_case_eq(const char *a, const char *b);     /* NULL-safe, ASCII */
bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);
/* The value of hex digit c (either case), -1 when c is none. Inline: bytea decoders call it per digit. */
static inline int hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
char *str_trim(char *s);                            /* in place */
char *str_to_lower(const char *s);                  /* new string */
/*
 * The text of a quoted name or literal, *p just past its opening quote: appended to out up to
 * the closing quote (a doubled quote inside stands for one), *p moved past it. False when the
 * closing quote is missing (*p then unchanged).
 */
bool str_take_quoted(const char **p, const char *end, char quote, strbuf *out);

/* Parse a boolean as the command line accepts it: true/false/yes/no/1/0 (any case). */
bool parse_bool(const char *s, bool *out);
/* Parse a whole decimal integer in [min, max]; false on junk or out of range. */
bool parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Random version-4 UUID into out (37 bytes). */
bool uuid_v4(char out[37]);

/* Monotonic clock in milliseconds / wall clock in milliseconds. */
int64_t now_monotonic_ms(void);
int64_t now_wall_ms(void);

#endif
