#include "schema/pgdump.h"

#include "core/fsutil.h"
#include "core/log.h"
#include "db/pgconn.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char *pgdump_find(int server_major)
{
    for (int v = server_major > 0 ? server_major : 15; v <= 30; v++) {
        char *p = xasprintf("/usr/lib/postgresql/%d/bin/pg_dump", v);
        if (access(p, X_OK) == 0)
            return p;
        free(p);
    }
    return xstrdup("pg_dump");
}

char *pgdump_exact_pattern(const char *name)
{
    /* Inside double quotes a pattern is literal (no case folding, no wildcards): an identifier's quoting. */
    return pg_quote_ident(name);
}

/* The parent's environment without the variables the child gets from conf, then conf's. */
static void child_env(const db_conf *conf, strlist *env)
{
    strlist mine = STRLIST_INIT;
    db_conf_child_env(conf, &mine);
    static const char *const ours[] = {"PGHOST=", "PGPORT=", "PGUSER=", "PGPASSWORD=", "PGDATABASE=",
                                       "PGSSLMODE=", "PGSSLCERT=", "PGSSLKEY=", "PGSSLROOTCERT=",
                                       "PGSSLCRL=", "PGOPTIONS=", "PGSERVICE="};
    for (char **e = environ; e && *e; e++) {
        bool skip = false;
        for (size_t i = 0; i < ARRAY_LEN(ours) && !skip; i++)
            skip = str_starts_with(*e, ours[i]);
        if (!skip)
            strlist_push(env, *e);
    }
    for (size_t i = 0; i < mine.count; i++)
        strlist_push(env, mine.items[i]);
    strlist_push(env, "PGAPPNAME=yb-voyager");
    strlist_free(&mine);
}

/* pg_dump's first "error:" line (its later lines are details), else its last line. */
static void log_child_error(const char *err_path, const char *what)
{
    char *text = NULL;
    size_t len = 0;
    const char *pick = NULL, *last = NULL;
    if (fs_read_all(err_path, &text, &len)) {
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            if (!*line)
                continue;
            last = line;
            const char *e = strstr(line, "error: ");
            if (!pick && e)
                pick = e + 7;
        }
    }
    log_error("%s: %s", what, pick ? pick : last ? last : "no message (see the log)");
    free(text);
}

bool pgdump_schema(const char *pg_dump, const db_conf *conf, const strlist *schemas,
                   const strlist *extensions, const char *out_path, const char *err_path)
{
    strlist argv = STRLIST_INIT;
    strlist_push(&argv, pg_dump);
    /* Owners and grants name roles the target does not have; tablespaces likewise. */
    strlist_push(&argv, "--schema-only");
    strlist_push(&argv, "--no-owner");
    strlist_push(&argv, "--no-privileges");
    strlist_push(&argv, "--no-tablespaces");
    strlist_push(&argv, "--no-publications");
    strlist_push(&argv, "--no-subscriptions");
    strlist_push(&argv, "--no-security-labels");
    strlist_push_owned(&argv, xasprintf("--file=%s", out_path));
    for (size_t i = 0; i < schemas->count; i++) {
        char *pat = pgdump_exact_pattern(schemas->items[i]);
        strlist_push_owned(&argv, xasprintf("--schema=%s", pat));
        free(pat);
    }
    for (size_t i = 0; extensions && i < extensions->count; i++) {
        char *pat = pgdump_exact_pattern(extensions->items[i]);
        strlist_push_owned(&argv, xasprintf("--extension=%s", pat));
        free(pat);
    }
    /* the database name travels in PGDATABASE, like the rest of the connection */

    strlist env = STRLIST_INIT;
    child_env(conf, &env);

    char **av = xcalloc(argv.count + 1, sizeof *av);
    memcpy(av, argv.items, argv.count * sizeof *av);
    char **ev = xcalloc(env.count + 1, sizeof *ev);
    memcpy(ev, env.items, env.count * sizeof *ev);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    log_info("running %s --schema-only for %zu schema(s)", pg_dump, schemas->count);
    int rc = strchr(pg_dump, '/') ? posix_spawn(&pid, pg_dump, &fa, NULL, av, ev)
                                  : posix_spawnp(&pid, pg_dump, &fa, NULL, av, ev);
    posix_spawn_file_actions_destroy(&fa);
    bool ok = false;
    if (rc != 0) {
        log_report(LOG_ERROR, NULL,
                   "install the PostgreSQL client (postgresql-client) matching the source's version",
                   "cannot run %s: %s", pg_dump, strerror(rc));
    } else {
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok = true;
        else
            log_child_error(err_path, "pg_dump failed");
    }
    free(av);
    free(ev);
    strlist_free(&argv);
    strlist_free(&env);
    return ok;
}
