#include "db/yb_nodes.h"

#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

static void add(yb_nodes *n, const char *host, int port)
{
    n->items = xrealloc(n->items, (n->count + 1) * sizeof *n->items);
    n->items[n->count].host = xstrdup(host);
    n->items[n->count].port = port;
    n->count++;
}

bool yb_nodes_parse(const char *endpoints, int default_port, yb_nodes *out)
{
    memset(out, 0, sizeof *out);
    strlist l = STRLIST_INIT;
    strlist_split(&l, endpoints, ',');
    bool ok = true;
    for (size_t i = 0; ok && i < l.count; i++) {
        char *item = l.items[i];
        char *colon = strrchr(item, ':');
        int64_t port = default_port;
        if (colon) {
            *colon = '\0';
            ok = parse_int64(colon + 1, 1, 65535, &port);
        }
        ok = ok && *item;
        if (ok)
            add(out, item, (int)port);
        else
            log_report(LOG_ERROR, NULL, "use host:port,host:port", "--target-endpoints: bad endpoint '%s'",
                       l.items[i]);
    }
    strlist_free(&l);
    if (!ok)
        yb_nodes_free(out);
    return ok;
}

bool yb_nodes_discover(pgconn *c, const char *endpoints, bool use_public_ip, yb_nodes *out)
{
    memset(out, 0, sizeof *out);
    if (!c->is_yugabyte) {
        /* they would be ignored: PostgreSQL has one node */
        if (endpoints || use_public_ip) {
            log_report(LOG_ERROR, "they choose among a YugabyteDB cluster's nodes",
                       "remove them: every connection goes to --target-db-host",
                       "the target is PostgreSQL, not YugabyteDB: %s cannot be used",
                       endpoints && use_public_ip ? "--target-endpoints and --use-public-ip"
                       : endpoints               ? "--target-endpoints"
                                                 : "--use-public-ip");
            return false;
        }
        return true;
    }
    if (endpoints)
        return yb_nodes_parse(endpoints, 5433, out);
    /* quiet: recovered from below, so no "error:" line */
    PGresult *r = pgconn_query_quiet(c, "SELECT host, port, public_ip FROM yb_servers()", 0, NULL);
    if (!r) {
        log_warn("yb_servers() failed: all connections go to the given host");
        return true;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *host = use_public_ip ? PQgetvalue(r, i, 2) : PQgetvalue(r, i, 0);
        if (*host)
            add(out, host, atoi(PQgetvalue(r, i, 1)));
    }
    PQclear(r);
    log_info("YugabyteDB: spreading import connections over %zu nodes", out->count);
    return true;
}

pgconn *yb_nodes_connect(const yb_nodes *n, size_t idx, db_conf *conf, pgconn_options *opt)
{
    if (!n || n->count == 0)
        return pgconn_connect(conf, opt);
    bool quiet = opt->quiet;
    const yb_node *own = &n->items[idx % n->count];
    pgconn *c = NULL;
    for (size_t k = 0; k < n->count && !c; k++) {
        const yb_node *node = &n->items[(idx + k) % n->count];
        opt->host = node->host;
        opt->port = node->port;
        opt->quiet = quiet || k + 1 < n->count;
        c = pgconn_connect(conf, opt);
        if (c && k > 0)
            log_warn("%s database: node %s:%d unreachable: connection %zu (%s) uses node %s:%d",
                     db_role_name(conf->role), own->host, own->port, idx,
                     opt->application_name ? opt->application_name : "", node->host, node->port);
    }
    opt->quiet = quiet;
    return c;
}

void yb_nodes_free(yb_nodes *n)
{
    for (size_t i = 0; i < n->count; i++)
        free(n->items[i].host);
    free(n->items);
    memset(n, 0, sizeof *n);
}
