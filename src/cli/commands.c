/* The whole command tree, declared in one place. Run functions: cli/cmd_*.c. */
#include "cli/cli.h"
#include "cli/commands.h"
#include "compare/compare.h"

#include <stddef.h>

#define G(...) ((const flag_def *const[]){__VA_ARGS__, NULL})
#define KIDS(...) ((const command *const[]){__VA_ARGS__, NULL})

static const flag_def f_start_clean[] = {
    {"start-clean", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "discard what an earlier run of this command left and start over"},
    FLAG_GROUP_END,
};

static const flag_def f_object_types[] = {
    {"object-type-list", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "comma list of object types to include (table, index, view, ...)"},
    {"exclude-object-type-list", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "comma list of object types to exclude"},
    FLAG_GROUP_END,
};

static const flag_def f_export_schema[] = {
    {"comments-on-objects", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "export COMMENT ON statements too"},
    FLAG_GROUP_END,
};

static const flag_def f_analyze_schema[] = {
    {"output-format", 0, FLAG_STRING, "html", "html|json|txt|xml", 0, NULL,
     "format of the report written to reports/"},
    {"target-db-version", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "YugabyteDB release the report names: 2 to 4 numbers separated by dots, such as 2.20 or "
     "2024.2.0.0 (every issue is listed whatever it is, with the releases that fixed it)"},
    FLAG_GROUP_END,
};

static const flag_def f_import_schema[] = {
    {"ignore-exist", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "skip statements whose object already exists"},
    {"continue-on-error", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "record failing statements in schema/failed.sql and go on"},
    {"straight-order", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "apply object types in the given --object-type-list order (refused without that list)"},
    {"post-snapshot-import", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "create indexes, triggers and other post-data objects (after import data)"},
    {"post-import-data", 0, FLAG_BOOL, "false", NULL, FLAGF_HIDDEN, NULL,
     "alias of --post-snapshot-import"},
    {"refresh-mviews", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "refresh materialized views (with --post-snapshot-import)"},
    FLAG_GROUP_END,
};

static const flag_def f_finalize_schema[] = {
    {"ignore-exist", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "skip statements whose object already exists"},
    {"continue-on-error", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "record failing statements in schema/failed.sql and go on"},
    {"refresh-mviews", 0, FLAG_BOOL, "false", NULL, 0, NULL, "refresh materialized views"},
    FLAG_GROUP_END,
};

static const flag_def f_parallel_pb[] = {
    {"parallel-jobs", 0, FLAG_INT, "0", NULL, 0, NULL,
     "number of parallel connections (0: one per CPU, at least 2; a value above what the command "
     "can use is lowered, with a warning)"},
    {"disable-pb", 0, FLAG_BOOL, "false", NULL, 0, NULL, "no progress bars; plain periodic lines"},
    FLAG_GROUP_END,
};

/* One replication stream: no --parallel-jobs to ignore. */
static const flag_def f_disable_pb[] = {
    {"disable-pb", 0, FLAG_BOOL, "false", NULL, 0, NULL, "no progress bars; plain periodic lines"},
    FLAG_GROUP_END,
};

static const flag_def f_export_data[] = {
    {"export-type", 0, FLAG_STRING, "snapshot-only", "snapshot-only|snapshot-and-changes", 0, NULL,
     "snapshot only (offline), or snapshot then change data capture (live)"},
    FLAG_GROUP_END,
};

static const flag_def f_import_data[] = {
    {"batch-size", 0, FLAG_INT, "20000", NULL, 0, NULL,
     "rows per batch (of files not planned yet: a rerun keeps the batches of files already planned)"},
    {"enable-upsert", 0, FLAG_BOOL, "true", NULL, 0, NULL,
     "YugabyteDB: load in upsert mode (faster; no effect on PostgreSQL)"},
    {"target-endpoints", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "YugabyteDB: comma list of host:port to spread connections over (refused on PostgreSQL)"},
    {"use-public-ip", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "YugabyteDB: use the nodes' public addresses from yb_servers() (refused on PostgreSQL and "
     "with --target-endpoints)"},
    {"truncate-tables", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "with --start-clean: truncate the target tables first"},
    {"skip-replication-checks", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "do not abort when the target database has replication slots, publications or "
     "subscriptions of its own"},
    FLAG_GROUP_END,
};

/* The source-replica is PostgreSQL (or Oracle): none of the YugabyteDB-only flags. */
static const flag_def f_import_data_replica[] = {
    {"batch-size", 0, FLAG_INT, "20000", NULL, 0, NULL,
     "rows per batch (of files not planned yet: a rerun keeps the batches of files already planned)"},
    {"truncate-tables", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "with --start-clean: truncate the source-replica tables first"},
    FLAG_GROUP_END,
};

static const flag_def f_status_format[] = {
    {"output-format", 0, FLAG_STRING, "table", "table|json", 0, NULL, "output format"},
    FLAG_GROUP_END,
};

static const flag_def f_cutover_target[] = {
    {"prepare-for-fall-back", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "keep a way back: after cutover, stream the target's changes to the source"},
    {"use-yb-grpc-connector", 0, FLAG_BOOL, "false", NULL, FLAGF_HIDDEN, NULL,
     "false only: the target's changes are streamed with logical replication over the "
     "PostgreSQL protocol; true (the gRPC connector) is not built and refused (exit 6)"},
    FLAG_GROUP_END,
};

static const flag_def f_archive[] = {
    {"move-to", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "directory to move applied segments to (into migration-<uuid>/queue-<id>/ under it, so "
     "migrations can share it; a file already there is never replaced)"},
    {"delete", 0, FLAG_BOOL, "false", NULL, 0, NULL,
     "delete applied segments instead of moving (with --move-to: archive, then delete from the "
     "export dir, i.e. move)"},
    {"policy", 0, FLAG_STRING, NULL, "delete|archive", 0, NULL,
     "delete applied segments (no archive directory then), or archive them to --archive-dir"},
    {"archive-dir", 0, FLAG_STRING, NULL, NULL, 0, NULL, "same as --move-to"},
    {"delete-changes-without-archiving", 0, FLAG_BOOL, "false", NULL, FLAGF_HIDDEN, NULL,
     "alias of --delete"},
    {"fs-utilization-threshold", 0, FLAG_INT, "70", NULL, 0, NULL,
     "deleting without archiving only (refused with --move-to/--archive-dir): disk use percentage "
     "of the export dir above which applied segments are deleted"},
    FLAG_GROUP_END,
};

static const flag_def f_passwords[] = {
    {"source-db-password", 0, FLAG_STRING, NULL, NULL, FLAGF_SECRET, "SOURCE_DB_PASSWORD",
     "password of the source database (better: the environment variable, not seen in ps)"},
    {"target-db-password", 0, FLAG_STRING, NULL, NULL, FLAGF_SECRET, "TARGET_DB_PASSWORD",
     "password of the target database (better: the environment variable, not seen in ps)"},
    {"source-replica-db-password", 0, FLAG_STRING, NULL, NULL, FLAGF_SECRET,
     "SOURCE_REPLICA_DB_PASSWORD", "password of the source-replica database (better: the environment variable, not seen in ps)"},
    FLAG_GROUP_END,
};

static const flag_def f_end_migration[] = {
    {"backup-schema-files", 0, FLAG_BOOL, NULL, NULL, FLAGF_REQUIRED, NULL,
     "back up the schema files to --backup-dir"},
    {"backup-data-files", 0, FLAG_BOOL, NULL, NULL, FLAGF_REQUIRED, NULL,
     "back up the snapshot data files to --backup-dir"},
    {"backup-log-files", 0, FLAG_BOOL, NULL, NULL, FLAGF_REQUIRED, NULL,
     "back up the log files to --backup-dir"},
    {"save-migration-reports", 0, FLAG_BOOL, NULL, NULL, FLAGF_REQUIRED, NULL,
     "save the analysis and data-migration reports to --backup-dir"},
    {"backup-dir", 0, FLAG_STRING, NULL, NULL, 0, NULL,
     "where the backups go (refused when every backup flag is false)"},
    FLAG_GROUP_END,
};

/* ---- schema ---- */
static const command export_schema = {
    "schema", "Export the source schema, converted to PostgreSQL, into schema/",
    "Dump the source database schema, convert it for YugabyteDB and split it into one file "
    "per object type under <export-dir>/schema/.",
    "export-schema", G(flags_common, flags_source_conn, f_start_clean, f_object_types, f_export_schema),
    cmd_export_schema, NULL, 0};

static const command analyze_schema = {
    "analyze-schema", "Report what in the exported schema needs a manual change",
    "Parse every exported schema file and report the statements YugabyteDB does not support "
    "or that need a manual change, in reports/schema_analysis_report.<format>.",
    "analyze-schema", G(flags_common, f_analyze_schema), cmd_analyze_schema, NULL, 0};

static const command import_schema = {
    "schema", "Apply the exported schema to the target database",
    "Create the exported objects in the target database. Indexes, triggers and other "
    "post-data objects wait for --post-snapshot-import true, after import data.",
    "import-schema", G(flags_common, flags_target_conn, f_start_clean, f_object_types, f_import_schema),
    cmd_import_schema, NULL, 0};

/* The name the public docs now use for import schema --post-snapshot-import true. */
static const command finalize_schema = {
    "finalize-schema-post-data-import", "Create indexes and triggers after import data",
    "Create the post-data objects (indexes, triggers) on the target database once import data "
    "is complete, and refresh materialized views with --refresh-mviews: the same as import "
    "schema --post-snapshot-import true.",
    "finalize-schema-post-data-import", G(flags_common, flags_target_conn, f_finalize_schema),
    cmd_finalize_schema_post_data_import, NULL, 0};

/* ---- export data ---- */
static const command export_data_from_source = {
    "source", "Export data from the source database (snapshot, and changes when live)", NULL,
    "export-data",
    G(flags_common, flags_source_conn, flags_table_filter, f_parallel_pb, f_export_data, f_start_clean),
    cmd_export_data_from_source, NULL, 0};

static const command export_data_from_target = {
    "target", "Stream the target's changes after cutover (fall-back / fall-forward)", NULL,
    "export-data-from-target", G(flags_common, flags_target_conn, f_disable_pb),
    cmd_export_data_from_target, NULL, 0};

static const command export_data_from = {
    "from", "Export data from the source or, after cutover, from the target", NULL, NULL, NULL,
    NULL, KIDS(&export_data_from_source, &export_data_from_target), 0};

static const command export_data_status = {
    "status", "Show the export state of each table", NULL, "export-data-status",
    G(flags_common, f_status_format), cmd_export_data_status, NULL,
    CMDF_NO_LOCK | CMDF_NEEDS_MIGRATION};

static const command export_data = {
    "data", "Export data from the source database (same as 'export data from source')", NULL,
    "export-data",
    G(flags_common, flags_source_conn, flags_table_filter, f_parallel_pb, f_export_data, f_start_clean),
    cmd_export_data_from_source, KIDS(&export_data_from, &export_data_status), 0};

static const command export_cmd = {
    "export", "Export schema or data from the source database", NULL, NULL, NULL, NULL,
    KIDS(&export_schema, &export_data), 0};

/* ---- import data ---- */
static const command import_data_to_target = {
    "target", "Import the snapshot, then the changes, into the target database", NULL,
    "import-data",
    G(flags_common, flags_target_conn, flags_table_filter, f_parallel_pb, f_import_data, f_start_clean),
    cmd_import_data_to_target, NULL, 0};

static const command import_data_to_source = {
    "source", "Fall-back: apply the target's changes to the source database", NULL,
    "import-data-to-source", G(flags_common, flags_source_conn, f_parallel_pb, f_start_clean),
    cmd_import_data_to_source, NULL, 0};

static const command import_data_to_source_replica = {
    "source-replica", "Fall-forward: import snapshot and changes into the source-replica", NULL,
    "import-data-to-source-replica",
    G(flags_common, flags_source_replica_conn, flags_table_filter, f_parallel_pb,
      f_import_data_replica, f_start_clean),
    cmd_import_data_to_source_replica, NULL, 0};

static const command import_data_to = {
    "to", "Import data to the target, the source (fall-back) or the source-replica", NULL, NULL,
    NULL, NULL, KIDS(&import_data_to_target, &import_data_to_source, &import_data_to_source_replica),
    0};

static const command import_data_status = {
    "status", "Show the import state of each table", NULL, "import-data-status",
    G(flags_common, f_status_format), cmd_import_data_status, NULL,
    CMDF_NO_LOCK | CMDF_NEEDS_MIGRATION};

static const command import_data = {
    "data", "Import data into the target database (same as 'import data to target')", NULL,
    "import-data",
    G(flags_common, flags_target_conn, flags_table_filter, f_parallel_pb, f_import_data, f_start_clean),
    cmd_import_data_to_target, KIDS(&import_data_to, &import_data_status), 0};

static const command import_cmd = {
    "import", "Import schema or data into a database", NULL, NULL, NULL, NULL,
    KIDS(&import_schema, &import_data), 0};

/* ---- cutover ---- */
static const command cutover_to_target = {
    "target", "Request cutover from the source to the target", NULL, "initiate-cutover-to-target",
    G(flags_common, f_cutover_target), cmd_initiate_cutover_to_target, NULL,
    CMDF_NO_LOCK | CMDF_NEEDS_MIGRATION};

static const command cutover_to_source = {
    "source", "Request cutover back to the source (fall-back)", NULL, "initiate-cutover-to-source",
    G(flags_common), cmd_initiate_cutover_to_source, NULL, CMDF_NO_LOCK | CMDF_NEEDS_MIGRATION};

static const command cutover_to_source_replica = {
    "source-replica", "Request cutover to the source-replica (fall-forward)", NULL,
    "initiate-cutover-to-source-replica", G(flags_common), cmd_initiate_cutover_to_source_replica,
    NULL, CMDF_NO_LOCK | CMDF_NEEDS_MIGRATION};

static const command cutover_to = {
    "to", "Request a cutover", NULL, NULL, NULL, NULL,
    KIDS(&cutover_to_target, &cutover_to_source, &cutover_to_source_replica), 0};

static const command cutover_cmd = {
    "cutover", "Request a cutover", NULL, NULL, NULL, NULL, KIDS(&cutover_to), 0};

static const command initiate_cmd = {
    "initiate", "Initiate a cutover", NULL, NULL, NULL, NULL, KIDS(&cutover_cmd), 0};

static const command cutover_status = {
    "status", "Show the state of each cutover", NULL, "cutover-status", G(flags_common),
    cmd_cutover_status, NULL, CMDF_NO_LOCK | CMDF_NEEDS_MIGRATION};

static const command cutover_root = {
    "cutover", "Cutover status", NULL, NULL, NULL, NULL, KIDS(&cutover_status), 0};

/* ---- the rest ---- */
static const command archive_changes = {
    "changes", "Move or delete queue segments that every importer has applied", NULL,
    "archive-changes", G(flags_common, f_archive), cmd_archive_changes, NULL, 0};

static const command archive_cmd = {
    "archive", "Archive applied changes", NULL, NULL, NULL, NULL, KIDS(&archive_changes), 0};

static const command data_migration_report = {
    "data-migration-report", "Per-table progress of the data migration across all databases",
    NULL, "get-data-migration-report", G(flags_common, f_passwords, f_status_format),
    cmd_get_data_migration_report, NULL, CMDF_NO_LOCK | CMDF_NEEDS_MIGRATION};

static const command get_cmd = {
    "get", "Get a report", NULL, NULL, NULL, NULL, KIDS(&data_migration_report), 0};

static const command end_migration = {
    "migration", "Back up what was asked, clean up every database, remove the export dir", NULL,
    "end-migration", G(flags_common, f_passwords, f_end_migration), cmd_end_migration, NULL, 0};

static const command end_cmd = {
    "end", "End the migration", NULL, NULL, NULL, NULL, KIDS(&end_migration), 0};

/* ---- compare data (added last: others edit the table above) ---- */
static const flag_def f_compare_data[] = {
    {"level", 0, FLAG_STRING, "checksum", "count|checksum|rows", 0, NULL,
     "count: row counts; checksum: counts and a content checksum per key range; rows: on a "
     "mismatch also list the differing primary keys"},
    {"max-diff-rows", 0, FLAG_INT, "100", NULL, 0, NULL,
     "with --level rows (refused without it): differing keys listed per table"},
    {"output-format", 0, FLAG_STRING, "table", "table|json", 0, NULL,
     "output format (the JSON form is always saved to reports/compare-data-report.json)"},
    {"statement-timeout", 0, FLAG_INT, "3600", NULL, 0, NULL,
     "seconds one query may run on a database (0: no limit)"},
    FLAG_GROUP_END,
};

static const command compare_data = {
    "data", "Compare the source with the target (and source-replica), table by table",
    "Compare every migrated table of the source with the target, and with the source-replica "
    "when fall-forward is used: row counts, and a content checksum computed in the databases "
    "per primary-key range (--parallel-jobs ranges at once); --level rows lists the differing "
    "keys. Reads only, in REPEATABLE READ READ ONLY transactions with a statement timeout. "
    "During a live migration the running export data and import data give a consistent point "
    "(the importers hold for seconds at the source snapshot's changes); without them it is "
    "refused. Normalised before hashing so that both sides' text forms "
    "agree: " COMPARE_NORMALISED ". A MySQL/MariaDB source (--source-db-type mysql) is compared "
    "with the target at every level, offline, during a live migration (MariaDB) or after cutover: "
    "its rows are read in one snapshot (RELOAD privilege) as export data converts them and "
    "hashed by the target (--level count: counted by the source). "
    "Exit 0 when every table is equal, 7 when a table differs.",
    "compare-data",
    G(flags_common, flags_source_conn, flags_target_conn, flags_source_replica_conn, f_parallel_pb,
      f_compare_data),
    cmd_compare_data, NULL, CMDF_NO_LOCK};

static const command compare_cmd = {
    "compare", "Compare the databases of the migration", NULL, NULL, NULL, NULL,
    KIDS(&compare_data), 0};

const command cli_root_command = {
    "yb-voyager",
    "Migrate a database to YugabyteDB while the application keeps running",
    "yb-voyager (voyager-c) migrates PostgreSQL databases to YugabyteDB: schema, a consistent\n"
    "snapshot, then live changes, cutover, and a way back. MySQL/MariaDB sources\n"
    "(--source-db-type mysql) migrate the same way, offline or live, the way back included\n"
    "(fall-back into the MySQL source, fall-forward into a MySQL/MariaDB source-replica).\n"
    "Oracle sources are not built yet (--source-db-type oracle answers \"not built yet\", exit 6).",
    NULL, NULL, NULL,
    KIDS(&export_cmd, &analyze_schema, &import_cmd, &finalize_schema, &initiate_cmd, &cutover_root,
         &archive_cmd, &get_cmd, &end_cmd, &compare_cmd),
    0};

/* Older names, from the docs of earlier releases (the fall-back page's). */
const command_alias cli_command_aliases[] = {
    {"cutover initiate", &cutover_to_target},
    {"fall-back setup", &import_data_to_source},
    {"fall-back synchronize", &export_data_from_target},
    {"fall-back switchover", &cutover_to_source},
    {"fall-back status", &cutover_status},
    {NULL, NULL},
};
