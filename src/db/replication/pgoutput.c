/* pgoutput protocol version 1 decoder (PostgreSQL docs: "Logical Replication Message Formats"). */
#include "db/replication/pgoutput.h"

#include "core/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct rd {
    const unsigned char *p;
    const unsigned char *end;
    const char *err;
} rd;

static bool need(rd *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        if (!r->err)
            r->err = "message truncated";
        return false;
    }
    return true;
}

static uint8_t get8(rd *r)
{
    if (!need(r, 1))
        return 0;
    return *r->p++;
}

static uint16_t get16(rd *r)
{
    if (!need(r, 2))
        return 0;
    uint16_t v = (uint16_t)(r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return v;
}

static uint32_t get32(rd *r)
{
    if (!need(r, 4))
        return 0;
    uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    return v;
}

static uint64_t get64(rd *r)
{
    uint64_t hi = get32(r);
    return hi << 32 | get32(r);
}

/* A NUL-terminated string inside the buffer. */
static const char *getstr(rd *r)
{
    const unsigned char *nul = r->p < r->end ? memchr(r->p, 0, (size_t)(r->end - r->p)) : NULL;
    if (!nul) {
        if (!r->err)
            r->err = "unterminated string";
        r->p = r->end;
        return "";
    }
    const char *s = (const char *)r->p;
    r->p = nul + 1;
    return s;
}

static bool get_tuple(rd *r, pgo_tuple *t)
{
    t->natts = get16(r);
    if (r->err)
        return false;
    t->values = xcalloc(t->natts ? t->natts : 1, sizeof *t->values);
    for (uint16_t i = 0; i < t->natts; i++) {
        pgo_value *v = &t->values[i];
        v->kind = (char)get8(r);
        switch (v->kind) {
        case 'n':
        case 'u':
            break;
        case 't':
        case 'b': {
            v->len = get32(r);
            if (!need(r, v->len))
                return false;
            v->data = (const char *)r->p;
            r->p += v->len;
            break;
        }
        default:
            if (!r->err)
                r->err = "unknown tuple column kind";
            return false;
        }
        if (r->err)
            return false;
    }
    return true;
}

bool pgo_decode(const char *buf, size_t len, pgo_msg *out, const char **err)
{
    memset(out, 0, sizeof *out);
    rd r = {(const unsigned char *)buf, (const unsigned char *)buf + len, NULL};
    out->kind = (pgo_kind)get8(&r);
    switch (out->kind) {
    case PGO_BEGIN:
        out->lsn = get64(&r);
        out->timestamp = (int64_t)get64(&r);
        out->xid = get32(&r);
        break;
    case PGO_COMMIT:
        (void)get8(&r); /* flags, unused */
        out->lsn = get64(&r);
        out->end_lsn = get64(&r);
        out->timestamp = (int64_t)get64(&r);
        break;
    case PGO_ORIGIN:
        out->lsn = get64(&r);
        out->name = getstr(&r);
        break;
    case PGO_TYPE:
        (void)get32(&r);
        (void)getstr(&r);
        out->name = getstr(&r);
        break;
    case PGO_RELATION: {
        pgo_relation *rel = &out->relation;
        rel->relid = get32(&r);
        rel->nspname = xstrdup(getstr(&r));
        rel->relname = xstrdup(getstr(&r));
        rel->replident = (char)get8(&r);
        rel->natts = get16(&r);
        if (r.err)
            break;
        rel->columns = xcalloc(rel->natts ? rel->natts : 1, sizeof *rel->columns);
        for (uint16_t i = 0; i < rel->natts && !r.err; i++) {
            rel->columns[i].is_key = (get8(&r) & 1) != 0;
            rel->columns[i].name = xstrdup(getstr(&r));
            rel->columns[i].type_oid = get32(&r);
            rel->columns[i].typmod = (int32_t)get32(&r);
        }
        break;
    }
    case PGO_INSERT:
        out->relid = get32(&r);
        if (get8(&r) != 'N' && !r.err)
            r.err = "insert without new tuple";
        if (!r.err)
            get_tuple(&r, &out->new_tuple);
        break;
    case PGO_UPDATE: {
        out->relid = get32(&r);
        char c = (char)get8(&r);
        if (c == 'K' || c == 'O') {
            out->old_kind = c;
            if (get_tuple(&r, &out->old_tuple))
                c = (char)get8(&r);
        }
        if (c != 'N' && !r.err)
            r.err = "update without new tuple";
        if (!r.err)
            get_tuple(&r, &out->new_tuple);
        break;
    }
    case PGO_DELETE: {
        out->relid = get32(&r);
        char c = (char)get8(&r);
        if (c != 'K' && c != 'O' && !r.err)
            r.err = "delete without old tuple";
        out->old_kind = c;
        if (!r.err)
            get_tuple(&r, &out->old_tuple);
        break;
    }
    case PGO_TRUNCATE:
        out->ntruncate = get32(&r);
        out->truncate_flags = get8(&r);
        if (r.err)
            break;
        if ((size_t)(r.end - r.p) / 4 < out->ntruncate) {
            r.err = "truncate relation list truncated";
            break;
        }
        out->truncate_relids = xcalloc(out->ntruncate ? out->ntruncate : 1, sizeof(uint32_t));
        for (uint32_t i = 0; i < out->ntruncate; i++)
            out->truncate_relids[i] = get32(&r);
        break;
    case PGO_MESSAGE:
        (void)get8(&r);
        out->lsn = get64(&r);
        out->name = getstr(&r);
        break;
    default:
        r.err = "unknown pgoutput message type";
        break;
    }
    if (r.err) {
        *err = r.err;
        pgo_msg_clear(out);
        return false;
    }
    return true;
}

void pgo_relation_clear(pgo_relation *r)
{
    free(r->nspname);
    free(r->relname);
    for (uint16_t i = 0; r->columns && i < r->natts; i++)
        free(r->columns[i].name);
    free(r->columns);
    memset(r, 0, sizeof *r);
}

void pgo_msg_clear(pgo_msg *m)
{
    free(m->old_tuple.values);
    free(m->new_tuple.values);
    free(m->truncate_relids);
    pgo_relation_clear(&m->relation);
    m->old_tuple.values = m->new_tuple.values = NULL;
    m->truncate_relids = NULL;
}
