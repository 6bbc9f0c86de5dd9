/* Older command names (the fall-back page of earlier releases) select today's commands. */
#include "testlib.h"

#include "cli/cli.h"
#include "core/exitcodes.h"

#include <stdio.h>

static void parse_quiet(cli_parse_result *res, int argc, char **argv)
{
    fflush(stderr);
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    cli_parse(argc, argv, res);
    fclose(stderr);
    stderr = saved;
}

TEST(cli_older_names_run_todays_commands)
{
    static const struct {
        const char *words[3];
        const char *path;
    } cases[] = {
        {{"cutover", "initiate", NULL}, "initiate cutover to target"},
        {{"fall-back", "setup", NULL}, "import data to source"},
        {{"fall-back", "synchronize", NULL}, "export data from target"},
        {{"fall-back", "switchover", NULL}, "initiate cutover to source"},
        {{"fall-back", "status", NULL}, "cutover status"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {"yb-voyager", (char *)cases[i].words[0], (char *)cases[i].words[1],
                        "--export-dir", "/e", NULL};
        cli_parse_result r;
        parse_quiet(&r, 5, argv);
        CHECK_INT_EQ(r.exit_code, 0);
        CHECK_STR_EQ(r.path, cases[i].path);
        CHECK(r.cmd && r.cmd->run != NULL);
        CHECK(r.alias_path != NULL);
        cli_parse_result_free(&r);
    }
    /* flags map one to one: the new command's flags */
    char *argv[] = {"yb-voyager", "cutover", "initiate", "-e", "/e", "--prepare-for-fall-back",
                    "true", NULL};
    cli_parse_result r;
    parse_quiet(&r, 7, argv);
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK(opts_get_bool(r.opts, "prepare-for-fall-back"));
    cli_parse_result_free(&r);
    /* the old group alone is refused, with today's names on stderr */
    char *grp[] = {"yb-voyager", "fall-back", "--export-dir", "/e", NULL};
    parse_quiet(&r, 4, grp);
    CHECK_INT_EQ(r.exit_code, EXIT_BAD_ARGS);
    cli_parse_result_free(&r);
    /* today's names are unchanged */
    char *now[] = {"yb-voyager", "cutover", "status", "-e", "/e", NULL};
    parse_quiet(&r, 5, now);
    CHECK_INT_EQ(r.exit_code, 0);
    CHECK(r.alias_path == NULL);
    cli_parse_result_free(&r);
}
