#include "cdc/consistent_point.h"

#include "catalog/queue_meta.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POLL_MS 200

static void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

/* ---- exporter ---- */

void cp_exporter_init(cp_exporter *e)
{
    *e = (cp_exporter){0};
    e->ring = xcalloc(CP_RING, sizeof *e->ring);
}

void cp_exporter_free(cp_exporter *e)
{
    free(e->ring);
    *e = (cp_exporter){0};
}

void cp_exporter_commit(cp_exporter *e, uint32_t xid, uint64_t commit_lsn, int64_t first_vsn)
{
    e->ring[e->head] = (cp_commit){xid, commit_lsn, first_vsn};
    e->head = (e->head + 1) % CP_RING;
    if (e->n < CP_RING)
        e->n++;
}

/* txid_current_snapshot() text "xmin:xmax:xip,..." as 32-bit xids. */
static bool parse_snapshot(const char *s, uint32_t *xmax, uint32_t **xip, size_t *nxip)
{
    char *end;
    strtoull(s, &end, 10);
    if (*end != ':')
        return false;
    *xmax = (uint32_t)strtoull(end + 1, &end, 10);
    if (*end != ':')
        return false;
    *nxip = 0;
    *xip = NULL;
    const char *p = end + 1;
    while (*p) {
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p)
            return false;
        *xip = xrealloc(*xip, (*nxip + 1) * sizeof **xip);
        (*xip)[(*nxip)++] = (uint32_t)v;
        p = *end == ',' ? end + 1 : end;
    }
    return true;
}

static bool visible(uint32_t xid, uint32_t xmax, const uint32_t *xip, size_t nxip)
{
    if ((int32_t)(xid - xmax) >= 0) /* wraparound-aware "xid >= xmax" */
        return false;
    for (size_t i = 0; i < nxip; i++)
        if (xip[i] == xid)
            return false;
    return true;
}

bool cp_exporter_poll(cp_exporter *e, catalog *m, uint64_t idle_lsn, int64_t next_vsn)
{
    int64_t now = now_monotonic_ms();
    if (now - e->last_poll_ms < POLL_MS)
        return e->pending;
    e->last_poll_ms = now;
    bool asked = false;
    long long asked_lsn = 0;
    char *snap = NULL;
    if (!qm_point_asked(m, &asked, &asked_lsn, &snap)) /* unreadable now: nobody asked, as far as we know */
        return e->pending = false;
    uint64_t lsn = (uint64_t)asked_lsn;
    e->pending = asked;
    if (!asked)
        return false;
    /* The first commit at or after the LSN, newest to oldest; every earlier one must be in S. */
    int64_t first_after = -1;
    bool passed = idle_lsn >= lsn, all_visible = true;
    uint32_t xmax = 0, *xip = NULL;
    size_t nxip = 0;
    /* "": the position is exact for its snapshot (MySQL's binlog_snapshot_position): nothing to check */
    bool exact = snap[0] == '\0';
    if (!exact && !parse_snapshot(snap, &xmax, &xip, &nxip)) {
        log_warn("compare data's consistent point: bad snapshot '%s'", snap);
        all_visible = false;
    }
    for (size_t k = 0; k < e->n; k++) {
        const cp_commit *c = &e->ring[(e->head + CP_RING - 1 - k) % CP_RING];
        if (c->commit_lsn >= lsn) {
            passed = true;
            first_after = c->first_vsn;
        } else if (!exact && all_visible && !visible(c->xid, xmax, xip, nxip)) {
            all_visible = false;
        }
    }
    free(xip);
    free(snap);
    if (!passed)
        return true;
    int64_t vsn = (first_after >= 0 ? first_after : next_vsn) - 1;
    qm_point_answer(m, all_visible ? "answered" : "retry", (long long)vsn);
    log_info("compare data's consistent point at LSN %llu: %s (vsn %lld)", (unsigned long long)lsn,
             all_visible ? "answered" : "a commit before it is not in its snapshot, retry", (long long)vsn);
    e->pending = false;
    return false;
}

/* ---- importer ---- */

void cp_importer_init(cp_importer *h, const char *role)
{
    *h = (cp_importer){.role = role, .advance_to = -1};
}

static bool requester_alive(long long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Drained and holding at read_vsn: wait until released or asked to advance further. */
static bool hold_here(cp_importer *h, catalog *m, int64_t read_vsn, cp_drain_fn drain, void *arg,
                      const volatile sig_atomic_t *interrupted)
{
    if (!drain(arg))
        return false;
    qm_hold_set_held(m, h->role, (long long)read_vsn);
    log_info("holding at vsn %lld for compare data", (long long)read_vsn);
    for (;;) {
        long long pid = 0, hold_vsn = 0, held = 0;
        if (!qm_hold_get(m, h->role, &pid, &hold_vsn, &held) || (interrupted && *interrupted)) {
            h->requested = false;
            h->advance_to = -1;
            log_info("compare data released the hold");
            return true;
        }
        if (!requester_alive(pid)) {
            qm_hold_release(m, h->role);
            continue;
        }
        if (hold_vsn > read_vsn) {
            h->advance_to = hold_vsn;
            return true;
        }
        sleep_ms(50);
    }
}

bool cp_importer_check(cp_importer *h, catalog *m, int64_t next_vsn, int64_t read_vsn, cp_drain_fn drain,
                       void *arg, const volatile sig_atomic_t *interrupted)
{
    if (h->advance_to >= 0) {
        /* advancing: hold right before the first event past the point, or idle at it */
        if ((next_vsn > h->advance_to || (next_vsn == 0 && read_vsn >= h->advance_to)) &&
            read_vsn <= h->advance_to)
            return hold_here(h, m, read_vsn, drain, arg, interrupted);
        return true;
    }
    int64_t now = now_monotonic_ms();
    if (now - h->last_poll_ms < POLL_MS)
        return true;
    h->last_poll_ms = now;
    long long pid = 0, hold_vsn = 0, held = 0;
    if (!qm_hold_get(m, h->role, &pid, &hold_vsn, &held) || held >= 0)
        return true;
    if (!requester_alive(pid)) {
        qm_hold_release(m, h->role);
        return true;
    }
    return hold_here(h, m, read_vsn, drain, arg, interrupted);
}

/* ---- compare data ---- */

bool cp_pause(catalog *m, const char *role, int timeout_ms, int64_t *held)
{
    if (!qm_hold_request(m, role, (long long)getpid()))
        return false;
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        long long pid, hold_vsn, h = -1;
        if (qm_hold_get(m, role, &pid, &hold_vsn, &h) && h >= 0) {
            *held = h;
            return true;
        }
        sleep_ms(50);
    }
    cp_release(m, role);
    return false;
}

cp_answer cp_ask_exporter(catalog *m, uint64_t lsn, const char *snapshot, int timeout_ms, int64_t *vsn)
{
    if (!qm_point_ask(m, (long long)lsn, snapshot))
        return CP_NO_ANSWER;
    cp_answer a = CP_NO_ANSWER;
    for (int waited = 0; waited <= timeout_ms && a == CP_NO_ANSWER; waited += 50) {
        char *state = NULL;
        long long answered_vsn = 0;
        if (qm_point_state(m, &state, &answered_vsn) && state) {
            if (strcmp(state, "answered") == 0) {
                *vsn = answered_vsn;
                a = CP_ANSWERED;
            } else if (strcmp(state, "retry") == 0) {
                a = CP_RETRY;
            }
        }
        free(state);
        if (a == CP_NO_ANSWER)
            sleep_ms(50);
    }
    qm_point_clear(m);
    return a;
}

bool cp_advance(catalog *m, const char *role, int64_t vsn, int timeout_ms)
{
    if (!qm_hold_advance(m, role, (long long)vsn))
        return false;
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        long long pid, hold_vsn, held = -1;
        if (qm_hold_get(m, role, &pid, &hold_vsn, &held) && held == vsn)
            return true;
        sleep_ms(50);
    }
    return false;
}

void cp_release(catalog *m, const char *role)
{
    qm_hold_release(m, role);
}
