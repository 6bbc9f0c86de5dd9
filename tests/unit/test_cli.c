/* Flag parsing: forms, types, every error path, precedence with env and config file. */
#include "testlib.h"

#include "cli/cli.h"
#include "cli/cmd_connect.h"
#include "cli/snapshot_flags.h"
#include "core/exitcodes.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"
#include "db/dbconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parse a NULL-terminated word list as argv (argv[0] added). */
static void parse_words(cli_parse_result *res, const char *const *words)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = "yb-voyager";
    for (; *words; words++)
        argv[argc++] = (char *)*words;
    argv[argc] = NULL;
    /* Errors go to stderr; keep the test output readable. */
    fflush(stderr);
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    cli_parse(argc, argv, res);
    fclose(stderr);
    stderr = saved;
}

#define PARSE(res, ...) parse_words(res, (const char *const[]){__VA_ARGS__, NULL})

TEST(cli_selects_nested_command_and_alias)
{
    cli_parse_result r;
    PARSE(&r, "export", "data", "from", "source", "-e", "/tmp");
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK_STR_EQ(r.path, "export data from source");
    CHECK_STR_EQ(opts_get(r.opts, "export-dir"), "/tmp");
    cli_parse_result_free(&r);

    PARSE(&r, "export", "data", "--export-dir", "/x");
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK_STR_EQ(r.path, "export data");
    CHECK(r.cmd->run != NULL);
    cli_parse_result_free(&r);

    PARSE(&r, "initiate", "cutover", "to", "source-replica", "--export-dir=/y");
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK_STR_EQ(r.path, "initiate cutover to source-replica");
    cli_parse_result_free(&r);
}

TEST(cli_flag_forms_and_types)
{
    cli_parse_result r;
    PARSE(&r, "import", "data", "to", "target", "--export-dir=/e", "--batch-size", "500",
          "--parallel-jobs=3", "--start-clean", "--disable-pb", "false", "--enable-upsert=no",
          "--target-ssl-mode", "VERIFY-FULL");
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK_INT_EQ(opts_get_int(r.opts, "batch-size"), 500);
    CHECK_INT_EQ(opts_get_int(r.opts, "parallel-jobs"), 3);
    CHECK(opts_get_bool(r.opts, "start-clean"));
    CHECK(!opts_get_bool(r.opts, "disable-pb"));
    CHECK(!opts_get_bool(r.opts, "enable-upsert"));
    CHECK_STR_EQ(opts_get(r.opts, "target-ssl-mode"), "verify-full"); /* canonical case */
    CHECK(opts_source(r.opts, "batch-size") == OPT_FLAG);
    /* defaults */
    CHECK_STR_EQ(opts_get(r.opts, "target-db-name"), "yugabyte");
    CHECK(opts_source(r.opts, "target-db-name") == OPT_DEFAULT);
    CHECK(!opts_is_set(r.opts, "target-db-name"));
    CHECK(!opts_has_flag(r.opts, "source-db-host"));
    cli_parse_result_free(&r);
}

TEST(cli_booleans_accept_all_spellings)
{
    static const char *const yes[] = {"true", "yes", "1", "TRUE", "Yes"};
    static const char *const no[] = {"false", "no", "0", "False", "NO"};
    for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
        cli_parse_result r;
        char *arg = xasprintf("--start-clean=%s", yes[i]);
        PARSE(&r, "export", "schema", "-e", "/x", arg);
        free(arg);
        CHECK_INT_EQ(r.exit_code, 0);
        CHECK(opts_get_bool(r.opts, "start-clean"));
        cli_parse_result_free(&r);
        PARSE(&r, "export", "schema", "-e", "/x", "--start-clean", no[i]);
        CHECK_INT_EQ(r.exit_code, 0);
        CHECK(!opts_get_bool(r.opts, "start-clean"));
        cli_parse_result_free(&r);
    }
}

TEST(cli_errors_exit_2)
{
    cli_parse_result r;
    PARSE(&r, "export", "schema", "-e", "/x", "--no-such-flag", "1");
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    PARSE(&r, "export", "schema", "-e");                       /* missing value */
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    PARSE(&r, "export", "schema");                             /* missing required */
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    PARSE(&r, "import", "data", "-e", "/x", "--batch-size", "lots");
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    PARSE(&r, "import", "data", "-e", "/x", "--batch-size", "-5");
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    PARSE(&r, "export", "schema", "-e", "/x", "--source-db-type", "db2");
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    PARSE(&r, "export", "schema", "-e", "/x", "--start-clean=maybe");
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    PARSE(&r, "export", "schemas");                            /* unknown command */
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    PARSE(&r, "export", "schema", "-e", "/x", "stray");        /* positional */
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    PARSE(&r, "end", "migration", "-e", "/x", "--backup-schema-files", "true");
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);                  /* other backup flags required */
    cli_parse_result_free(&r);
}

TEST(cli_help_and_version_need_no_required_flags)
{
    cli_parse_result r;
    PARSE(&r, "import", "data", "to", "target", "--help");
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK(r.help);
    CHECK(!r.help_all);
    cli_parse_result_free(&r);
    PARSE(&r, "initiate", "cutover", "to", "target", "--help-all");
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK(r.help && r.help_all); /* the hidden flags too (test_flags.sh walks them) */
    cli_parse_result_free(&r);
    PARSE(&r, "--version");
    CHECK(r.version);
    cli_parse_result_free(&r);
}

TEST(cli_env_twin_beats_default_flag_beats_env)
{
    setenv("TARGET_DB_PASSWORD", "from-env", 1);
    cli_parse_result r;
    PARSE(&r, "import", "schema", "-e", "/x");
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK_STR_EQ(opts_get(r.opts, "target-db-password"), "from-env");
    CHECK(opts_source(r.opts, "target-db-password") == OPT_ENV);
    cli_parse_result_free(&r);
    PARSE(&r, "import", "schema", "-e", "/x", "--target-db-password", "from-flag");
    CHECK_STR_EQ(opts_get(r.opts, "target-db-password"), "from-flag");
    cli_parse_result_free(&r);
    unsetenv("TARGET_DB_PASSWORD");
}

static char *write_config(const char *text)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/config.yaml", dir);
    free(dir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

TEST(config_file_sections_and_precedence)
{
    char *cfg = write_config("export-dir: /from-config\n"
                             "log-level: debug\n"
                             "source:\n"
                             "  db-type: postgresql\n"
                             "  db-host: cfg-host\n"
                             "  db-port: 6543\n"
                             "  db-password: cfg-secret\n"
                             "target:\n"
                             "  db-host: tgt-host\n"
                             "export-data:\n"
                             "  parallel-jobs: 7\n"
                             "  table-list: [a, \"B\", c]\n"
                             "  source-db-host: section-host\n"
                             "import-data:\n"
                             "  batch-size: 5\n");
    setenv("SOURCE_DB_PASSWORD", "env-secret", 1);
    cli_parse_result r;
    PARSE(&r, "export", "data", "--config-file", cfg, "--source-db-port", "7777");
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK_STR_EQ(opts_get(r.opts, "export-dir"), "/from-config");
    CHECK_STR_EQ(opts_get(r.opts, "log-level"), "debug");
    CHECK_STR_EQ(opts_get(r.opts, "source-db-type"), "postgresql");
    /* the command's section beats the shared source: section */
    CHECK_STR_EQ(opts_get(r.opts, "source-db-host"), "section-host");
    CHECK_INT_EQ(opts_get_int(r.opts, "source-db-port"), 7777);        /* flag wins */
    CHECK_INT_EQ(opts_get_int(r.opts, "parallel-jobs"), 7);
    CHECK_STR_EQ(opts_get(r.opts, "table-list"), "a,B,c");
    CHECK_STR_EQ(opts_get(r.opts, "source-db-password"), "env-secret"); /* env beats config */
    CHECK(opts_source(r.opts, "parallel-jobs") == OPT_CONFIG);
    cli_parse_result_free(&r);
    unsetenv("SOURCE_DB_PASSWORD");

    /* the same file serves import data: its own section, other sections ignored */
    PARSE(&r, "import", "data", "-c", cfg);
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK_INT_EQ(opts_get_int(r.opts, "batch-size"), 5);
    CHECK_STR_EQ(opts_get(r.opts, "target-db-host"), "tgt-host");
    cli_parse_result_free(&r);
    free(cfg);
}

TEST(config_file_errors)
{
    cli_parse_result r;
    PARSE(&r, "export", "schema", "--config-file", "/nonexistent/config.yaml");
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);

    char *bad = write_config("export-dir: [unclosed\n");
    PARSE(&r, "export", "schema", "--config-file", bad);
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    free(bad);

    char *typo = write_config("export-dir: /x\nexport-schema:\n  start-cleen: true\n");
    PARSE(&r, "export", "schema", "--config-file", typo);
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    free(typo);

    char *badval = write_config("export-dir: /x\nimport-data:\n  batch-size: many\n");
    PARSE(&r, "import", "data", "--config-file", badval);
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    free(badval);

    /* required flag satisfied by the config file */
    char *ok = write_config("export-dir: /x\n");
    PARSE(&r, "export", "schema", "--config-file", ok);
    CHECK_INT_EQ(r.exit_code, 0);
    cli_parse_result_free(&r);
    free(ok);
}

/* Issue 11 defect 9: a key no command takes is an error wherever it is, never skipped. */
TEST(config_file_unknown_keys_are_errors)
{
    static const char *const bad[] = {
        "export-dir: /x\nsource:\n  sslmode: verify-full\n",       /* misspelt security setting */
        "export-dir: /x\ntarget:\n  db-pasword: secret\n",          /* misspelt password */
        "export-dir: /x\ndb-pasword: secret\n",                     /* top level */
        "export-dir: /x\nimport-data:\n  batch-sise: 5\n",          /* another command's section */
        "export-dir: /x\nexport-dat:\n  parallel-jobs: 2\n",        /* no such section */
        "export-dir: /x\nconfig-file: /other.yaml\n",               /* files are not nested */
        "export-dir: /x\nexport-schema:\n  config-file: /o.yaml\n", /* this command's section */
        "export-dir: /x\nimport-data:\n  config-file: /o.yaml\n",   /* another command's */
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        char *cfg = write_config(bad[i]);
        cli_parse_result r;
        PARSE(&r, "export", "schema", "--config-file", cfg);
        CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
        cli_parse_result_free(&r);
        free(cfg);
    }
    /* One file for every command: keys of other commands are fine, and applied where they belong. */
    char *cfg = write_config("export-dir: /x\nbatch-size: 9\nsource:\n  db-type: postgresql\n"
                             "  ssl-mode: verify-full\ntarget:\n  ssl-mode: require\n"
                             "source-replica:\n  db-host: r\nimport-data:\n  batch-size: 7\n"
                             "export-data:\n  export-type: snapshot-and-changes\n");
    cli_parse_result r;
    PARSE(&r, "export", "schema", "--config-file", cfg);
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK_STR_EQ(opts_get(r.opts, "source-ssl-mode"), "verify-full");
    cli_parse_result_free(&r);
    PARSE(&r, "import", "data", "--config-file", cfg);
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK_STR_EQ(opts_get(r.opts, "target-ssl-mode"), "require");
    CHECK_INT_EQ(opts_get_int(r.opts, "batch-size"), 7);
    cli_parse_result_free(&r);
    free(cfg);
}

/* Values that used to be replaced by a default later are refused where they are given. */
TEST(cli_int_ranges_refused_not_defaulted)
{
    static const char *const bad[][2] = {
        {"--target-db-port", "0"}, {"--target-db-port", "65536"}, {"--batch-size", "0"},
    };
    cli_parse_result r;
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        PARSE(&r, "import", "data", "-e", "/x", bad[i][0], bad[i][1]);
        CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
        cli_parse_result_free(&r);
    }
    PARSE(&r, "export", "schema", "-e", "/x", "--source-db-port", "0");
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    char *cfg = write_config("export-dir: /x\ntarget:\n  db-port: 70000\n");
    PARSE(&r, "import", "data", "--config-file", cfg);
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    free(cfg);
    PARSE(&r, "import", "data", "-e", "/x", "--target-db-port", "65535", "--batch-size", "1");
    CHECK_INT_EQ(r.exit_code, 0);
    cli_parse_result_free(&r);
}

/*
 * Every connection flag of every role reaches the connection configuration
 * (flag coverage, tests/integration/test_flags.sh, points here for the SSL
 * flags and passwords): none is parsed and dropped.
 */
TEST(cli_every_connection_flag_reaches_db_conf)
{
    static const struct {
        db_role role;
        const char *const words[40];
    } cases[] = {
        {DB_SOURCE, {"export", "schema", "-e", "/x", "--source-db-type", "postgresql",
                     "--source-db-host", "h", "--source-db-port", "6001", "--source-db-user", "u",
                     "--source-db-password", "p", "--source-db-name", "n", "--source-db-schema", "s",
                     "--source-ssl-mode", "verify-full", "--source-ssl-cert", "c",
                     "--source-ssl-key", "k", "--source-ssl-root-cert", "r", "--source-ssl-crl", "l",
                     NULL}},
        {DB_TARGET, {"import", "schema", "-e", "/x", "--target-db-host", "h", "--target-db-port",
                     "6001", "--target-db-user", "u", "--target-db-password", "p",
                     "--target-db-name", "n", "--target-db-schema", "s", "--target-ssl-mode",
                     "verify-full", "--target-ssl-cert", "c", "--target-ssl-key", "k",
                     "--target-ssl-root-cert", "r", "--target-ssl-crl", "l", NULL}},
        {DB_SOURCE_REPLICA,
         {"import", "data", "to", "source-replica", "-e", "/x", "--source-replica-db-host", "h",
          "--source-replica-db-port", "6001", "--source-replica-db-user", "u",
          "--source-replica-db-password", "p", "--source-replica-db-name", "n",
          "--source-replica-db-schema", "s", "--source-replica-ssl-mode", "verify-full",
          "--source-replica-ssl-cert", "c", "--source-replica-ssl-key", "k",
          "--source-replica-ssl-root-cert", "r", "--source-replica-ssl-crl", "l", NULL}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        cli_parse_result r;
        parse_words(&r, cases[i].words);
        CHECK_INT_EQ(r.exit_code, 0);
        db_conf c;
        db_conf_from_opts(&c, r.opts, cases[i].role);
        CHECK_STR_EQ(c.host, "h");
        CHECK_INT_EQ(c.port, 6001);
        CHECK_STR_EQ(c.user, "u");
        CHECK_STR_EQ(c.password, "p");
        CHECK_STR_EQ(c.name, "n");
        CHECK_STR_EQ(c.schema, "s");
        CHECK_STR_EQ(c.ssl_mode, "verify-full");
        CHECK_STR_EQ(c.ssl_cert, "c");
        CHECK_STR_EQ(c.ssl_key, "k");
        CHECK_STR_EQ(c.ssl_root_cert, "r");
        CHECK_STR_EQ(c.ssl_crl, "l");
        /* and on to child processes (pg_dump) */
        strlist env = STRLIST_INIT;
        db_conf_child_env(&c, &env);
        bool crl = false, root = false;
        for (size_t k = 0; k < env.count; k++) {
            crl = crl || strcmp(env.items[k], "PGSSLCRL=l") == 0;
            root = root || strcmp(env.items[k], "PGSSLROOTCERT=r") == 0;
        }
        CHECK(crl && root);
        strlist_free(&env);
        db_conf_free(&c);
        cli_parse_result_free(&r);
    }
}

/* A port left out: 5432 for a PostgreSQL source and source-replica (as upstream), 5433 for the target. */
TEST(cli_default_ports_by_role_and_type)
{
    static const struct {
        db_role role;
        int port;
        const char *const words[12];
    } cases[] = {
        {DB_SOURCE, 5432, {"export", "schema", "-e", "/x", "--source-db-user", "u", NULL}},
        {DB_SOURCE, 3306, {"export", "schema", "-e", "/x", "--source-db-type", "mysql", "--source-db-user", "u", NULL}},
        {DB_TARGET, 5433, {"import", "schema", "-e", "/x", "--target-db-user", "u", NULL}},
        {DB_SOURCE_REPLICA, 5432,
         {"import", "data", "to", "source-replica", "-e", "/x", "--source-replica-db-user", "u", NULL}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        cli_parse_result r;
        parse_words(&r, cases[i].words);
        CHECK_INT_EQ(r.exit_code, 0);
        db_conf c;
        db_conf_from_opts(&c, r.opts, cases[i].role);
        CHECK_INT_EQ(c.port, cases[i].port);
        db_conf_free(&c);
        cli_parse_result_free(&r);
    }
    CHECK_INT_EQ(db_default_port("mysql", DB_SOURCE_REPLICA), 3306);
    CHECK_INT_EQ(db_default_port("postgresql", DB_SOURCE_REPLICA), 5432);
    CHECK_INT_EQ(db_default_port("yugabytedb", DB_TARGET), 5433);
}

/* --parallel-jobs above a cap: lowered, and a value given says so as a warning (stderr), naming the value used. */
TEST(cli_parallel_jobs_lowered_with_a_warning)
{
    test_log_begin(LOG_INFO);
    static const struct {
        const char *jobs;
        int cap;
        int want;
    } cases[] = {{"300", 256, 256}, {"17", MYSQL_MAX_PARALLEL_JOBS, 16}, {"5", 16, 5}, {"64", 64, 64}};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        cli_parse_result r;
        PARSE(&r, "export", "data", "-e", "/x", "--parallel-jobs", cases[i].jobs);
        CHECK_INT_EQ(r.exit_code, 0);
        cmd_ctx ctx = {.opts = r.opts};
        CHECK_INT_EQ(cli_parallel_jobs(&ctx, cases[i].cap, "the reason"), cases[i].want);
        cli_parse_result_free(&r);
    }
    char *txt = test_log_end();
    CHECK(txt && strstr(txt, "warn: --parallel-jobs 300 lowered to 256: the reason\n"));
    CHECK(txt && strstr(txt, "warn: --parallel-jobs 17 lowered to 16: the reason\n"));
    CHECK(txt && !strstr(txt, "--parallel-jobs 5") && !strstr(txt, "--parallel-jobs 64"));
    free(txt);
}

/* Walk every runnable command's declared flags (the table test_flags.sh checks against --help). */
static void check_declared_flags(const command *cmd, int *n)
{
    static const char *const oracle_only[] = {"oracle-db-sid", "oracle-tns-alias", "oracle-home",
                                              "source-replica-db-sid", "source-replica-db-schema"};
    for (const flag_def *const *g = cmd->flag_groups; cmd->run && g && *g; g++)
        for (const flag_def *f = *g; f->name; f++) {
            (*n)++;
            CHECK(f->help && *f->help);
            for (size_t i = 0; i < ARRAY_LEN(oracle_only); i++)
                if (strcmp(f->name, oracle_only[i]) == 0)
                    CHECK(strstr(f->help, "refused for PostgreSQL and MySQL sources") != NULL);
            if (strcmp(f->name, "target-db-schema") == 0) /* Oracle and MySQL */
                CHECK(strstr(f->help, "refused for a PostgreSQL source") != NULL);
            /* flags with no possible effect here are not declared at all */
            if (strcmp(cmd->name, "source-replica") == 0)
                CHECK(strstr(f->help, "YugabyteDB") == NULL);
        }
    for (const command *const *c = cmd->children; c && *c; c++)
        check_declared_flags(*c, n);
}

TEST(cli_declared_flags_have_help_and_say_where_they_apply)
{
    int n = 0;
    check_declared_flags(&cli_root_command, &n);
    CHECK(n > 200);
    CHECK(strstr(cli_root_command.description, "Oracle and MySQL databases") == NULL);
}
