/*
 * Where import connections go. YugabyteDB: the nodes from --target-endpoints,
 * else from yb_servers() (public addresses with --use-public-ip), and the
 * connections are spread over them round-robin. PostgreSQL: the one server
 * given; those flags are accepted and ignored (logged).
 */
#ifndef VOYAGER_DB_YB_NODES_H
#define VOYAGER_DB_YB_NODES_H

#include "db/pgconn.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct yb_node {
    char *host;
    int port;
} yb_node;

typedef struct yb_nodes {
    yb_node *items;
    size_t count; /* 0: use the connection flags as they are */
} yb_nodes;

/* Logs and returns false on a malformed --target-endpoints. */
bool yb_nodes_discover(pgconn *c, const char *endpoints, bool use_public_ip, yb_nodes *out);
/* Parse "host:port,host:port" (port defaults to default_port). */
bool yb_nodes_parse(const char *endpoints, int default_port, yb_nodes *out);
/*
 * Connection idx's node (idx modulo the count) first, then the next ones: a
 * node that went away must not hold up work the rest of the cluster can take.
 * No nodes: as opt says. opt's host, port and quiet are overwritten. NULL
 * (the last failure logged unless opt->quiet) when no node answers.
 */
pgconn *yb_nodes_connect(const yb_nodes *n, size_t idx, db_conf *conf, pgconn_options *opt);
void yb_nodes_free(yb_nodes *n);

#endif
