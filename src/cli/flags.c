/* Flag groups shared by several commands. Command-specific groups live in commands.c. */
#include "cli/cli.h"

#define SSL_MODES "disable|allow|prefer|require|verify-ca|verify-full"

const flag_def flags_common[] = {
    {"export-dir", 'e', FLAG_STRING, NULL, NULL, FLAGF_REQUIRED, NULL,
     "path to the export directory shared by all commands of one migration"},
    {"log-level", 'l', FLAG_STRING, "info", "trace|debug|info|warn|error", 0, NULL,
     "log level of the command's log file"},
    {"send-diagnostics", 0, FLAG_BOOL, "true", NULL, 0, NULL,
     "accepted for compatibility, no effect: voyager-c sends nothing"},
    {"yes", 'y', FLAG_BOOL, "false", NULL, 0, NULL, "assume yes to every prompt"},
    {"config-file", 'c', FLAG_STRING, NULL, NULL, 0, NULL,
     "YAML file giving any flag (the command line wins)"},
    FLAG_GROUP_END,
};

#define CONN_FLAGS(P, ENVPW, HOSTDEF, NAMEDEF, SCHEMADEF, SCHEMAHELP, WHO)                                \
    {P "-db-host", 0, FLAG_STRING, HOSTDEF, NULL, 0, NULL, "host of the " WHO " database"},      \
    {P "-db-port", 0, FLAG_INT, NULL, NULL, 0, NULL,                                            \
     "port of the " WHO " database (default by database type)"},                               \
    {P "-db-user", 0, FLAG_STRING, NULL, NULL, 0, NULL, "user to connect to the " WHO " database"}, \
    {P "-db-password", 0, FLAG_STRING, NULL, NULL, FLAGF_SECRET, ENVPW,                         \
     "password; better the environment variable, as other local users can see a flag in ps "   \
     "while the command starts (prompted on a TTY when missing)"},             \
    {P "-db-name", 0, FLAG_STRING, NAMEDEF, NULL, 0, NULL, "name of the " WHO " database"},      \
    {P "-db-schema", 0, FLAG_STRING, SCHEMADEF, NULL, 0, NULL, SCHEMAHELP},                       \
    {P "-ssl-mode", 0, FLAG_STRING, "prefer", SSL_MODES, 0, NULL,                                \
     "SSL mode, as libpq's sslmode (MySQL: allow acts as prefer; verify-ca needs the root cert)"}, \
    {P "-ssl-cert", 0, FLAG_STRING, NULL, NULL, 0, NULL, "client SSL certificate file"},         \
    {P "-ssl-key", 0, FLAG_STRING, NULL, NULL, 0, NULL, "client SSL key file"},                  \
    {P "-ssl-root-cert", 0, FLAG_STRING, NULL, NULL, 0, NULL, "root CA certificate file"},       \
    {P "-ssl-crl", 0, FLAG_STRING, NULL, NULL, 0, NULL, "SSL certificate revocation list file"}

const flag_def flags_source_conn[] = {
    {"source-db-type", 0, FLAG_STRING, NULL, "postgresql|oracle|mysql", 0, NULL,
     "type of the source database: postgresql; mysql (MySQL/MariaDB), offline or live "
     "(snapshot-and-changes), fall-back and fall-forward into MySQL included; oracle answers "
     "\"not built yet\" (exit 6)"},
    CONN_FLAGS("source", "SOURCE_DB_PASSWORD", "localhost", NULL, NULL,
               "schema(s) of the source database (comma list)", "source"),
    {"oracle-db-sid", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "Oracle SID (instead of --source-db-name); refused for PostgreSQL and MySQL sources"},
    {"oracle-tns-alias", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "Oracle TNS alias; refused for PostgreSQL and MySQL sources"},
    {"oracle-home", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "ORACLE_HOME of the Oracle client; refused for PostgreSQL and MySQL sources"},
    FLAG_GROUP_END,
};

const flag_def flags_target_conn[] = {
    CONN_FLAGS("target", "TARGET_DB_PASSWORD", "127.0.0.1", "yugabyte", "public",
               "Oracle and MySQL sources: schema to import into; refused for a PostgreSQL source "
               "(its tables keep their schemas)",
               "target"),
    FLAG_GROUP_END,
};

const flag_def flags_source_replica_conn[] = {
    CONN_FLAGS("source-replica", "SOURCE_REPLICA_DB_PASSWORD", "127.0.0.1", NULL, NULL,
               "Oracle sources: schema of the source-replica; refused for PostgreSQL and MySQL sources",
               "source-replica"),
    {"source-replica-db-sid", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "Oracle SID of the source-replica; refused for PostgreSQL and MySQL sources"},
    FLAG_GROUP_END,
};

const flag_def flags_table_filter[] = {
    {"table-list", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "comma list of tables to include (schema.table, \"Quoted\", * and ? wildcards)"},
    {"exclude-table-list", 0, FLAG_STRING, NULL, NULL, 0, NULL, "comma list of tables to exclude"},
    {"table-list-file-path", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "file with one table name a line to include"},
    {"exclude-table-list-file-path", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "file with one table name a line to exclude"},
    FLAG_GROUP_END,
};
