#include "cli/cli.h"

#include "core/exitcodes.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct opt_value {
    const flag_def *def;
    char *value;
    opt_source src;
} opt_value;

struct opts {
    opt_value *values;
    size_t count;
    const command *cmd;
};

static opts *opts_new(const command *cmd)
{
    opts *o = xcalloc(1, sizeof *o);
    o->cmd = cmd;
    size_t n = 0;
    for (const flag_def *const *g = cmd->flag_groups; g && *g; g++)
        for (const flag_def *f = *g; f->name; f++)
            n++;
    o->values = xcalloc(n, sizeof(opt_value));
    for (const flag_def *const *g = cmd->flag_groups; g && *g; g++)
        for (const flag_def *f = *g; f->name; f++) {
            /* A flag appearing in two groups is kept once (first wins). */
            bool dup = false;
            for (size_t i = 0; i < o->count; i++)
                if (strcmp(o->values[i].def->name, f->name) == 0)
                    dup = true;
            if (!dup)
                o->values[o->count++].def = f;
        }
    return o;
}

static opt_value *opts_find(const opts *o, const char *name)
{
    for (size_t i = 0; i < o->count; i++)
        if (strcmp(o->values[i].def->name, name) == 0)
            return &o->values[i];
    return NULL;
}

static opt_value *opts_find_short(const opts *o, char c)
{
    for (size_t i = 0; i < o->count; i++)
        if (o->values[i].def->short_name == c)
            return &o->values[i];
    return NULL;
}

bool opts_has_flag(const opts *o, const char *name)
{
    return opts_find(o, name) != NULL;
}

const char *opts_get(const opts *o, const char *name)
{
    opt_value *v = opts_find(o, name);
    if (!v)
        return NULL;
    return v->value ? v->value : v->def->default_value;
}

bool opts_is_set(const opts *o, const char *name)
{
    opt_value *v = opts_find(o, name);
    return v && v->value && v->src >= OPT_CONFIG;
}

opt_source opts_source(const opts *o, const char *name)
{
    opt_value *v = opts_find(o, name);
    if (!v)
        return OPT_UNSET;
    if (v->value)
        return v->src;
    return v->def->default_value ? OPT_DEFAULT : OPT_UNSET;
}

bool opts_get_bool(const opts *o, const char *name)
{
    bool b = false;
    const char *s = opts_get(o, name);
    return s && parse_bool(s, &b) && b;
}

int64_t opts_get_int(const opts *o, const char *name)
{
    int64_t v = 0;
    const char *s = opts_get(o, name);
    if (s && !parse_int64(s, INT64_MIN, INT64_MAX, &v))
        return 0;
    return v;
}

void opts_set(opts *o, const char *name, const char *value, opt_source src)
{
    opt_value *v = opts_find(o, name);
    if (!v)
        return;
    free(v->value);
    v->value = xstrdup(value);
    v->src = src;
}

void opts_free(opts *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->count; i++)
        free(o->values[i].value);
    free(o->values);
    free(o);
}

static bool choice_ok(const char *choices, const char *value)
{
    strlist l = STRLIST_INIT;
    strlist_split(&l, choices, '|');
    bool ok = false;
    for (size_t i = 0; i < l.count; i++)
        if (strcasecmp(l.items[i], value) == 0)
            ok = true;
    strlist_free(&l);
    return ok;
}

/*
 * Integer flags whose meaningful range is narrower than ">= 0". Checked at
 * parse time so that a value from the command line, the environment or the
 * config file is refused with its origin named, instead of being replaced by
 * a default later (a port 0 used to become 5432, a batch size 0 became 20000).
 */
static void int_flag_range(const char *name, int64_t *lo, int64_t *hi)
{
    size_t n = strlen(name);
    static const char port_suffix[] = "-db-port";
    if (n >= sizeof port_suffix - 1 && strcmp(name + n - (sizeof port_suffix - 1), port_suffix) == 0) {
        *lo = 1;
        *hi = 65535;
    } else if (strcmp(name, "batch-size") == 0) {
        *lo = 1;
    }
}

/*
 * Check one value against its flag's type. `origin` says where the value came
 * from ("--flag", "config file key 'x'", "environment variable X") so that
 * the message names the thing to fix.
 */
static bool validate_value(const flag_def *f, const char *value, const char *origin)
{
    int64_t iv;
    bool bv;
    int64_t lo = 0, hi = INT64_MAX;
    switch (f->type) {
    case FLAG_INT:
        int_flag_range(f->name, &lo, &hi);
        if (!parse_int64(value, lo, hi, &iv)) {
            if (hi == INT64_MAX)
                fprintf(stderr, "error: invalid value \"%s\" for %s: expected a whole number >= %lld\n",
                        value, origin, (long long)lo);
            else
                fprintf(stderr, "error: invalid value \"%s\" for %s: expected a whole number from "
                                "%lld to %lld\n",
                        value, origin, (long long)lo, (long long)hi);
            return false;
        }
        break;
    case FLAG_BOOL:
        if (!parse_bool(value, &bv)) {
            fprintf(stderr,
                    "error: invalid value \"%s\" for %s: expected true/false/yes/no/1/0\n",
                    value, origin);
            return false;
        }
        break;
    case FLAG_STRING:
        if (f->choices && !choice_ok(f->choices, value)) {
            fprintf(stderr, "error: invalid value \"%s\" for %s: expected one of %s\n", value,
                    origin, f->choices);
            return false;
        }
        break;
    }
    return true;
}

static bool set_checked(opts *o, opt_value *v, const char *value, opt_source src,
                        const char *origin)
{
    if (!validate_value(v->def, value, origin))
        return false;
    /* Choices are stored in canonical lower case. */
    if (v->def->choices) {
        char *lower = str_to_lower(value);
        opts_set(o, v->def->name, lower, src);
        free(lower);
    } else {
        opts_set(o, v->def->name, value, src);
    }
    return true;
}

static const command *find_child(const command *cmd, const char *name)
{
    for (const command *const *c = cmd->children; c && *c; c++)
        if (strcmp((*c)->name, name) == 0)
            return *c;
    return NULL;
}

static void usage_hint(const char *path)
{
    fprintf(stderr, "Run 'yb-voyager%s%s --help' for usage.\n", *path ? " " : "", path);
}

/* The older command name argv starts with, if any; *next: the first word after it. */
static const command_alias *match_alias(int argc, char **argv, int *next)
{
    for (const command_alias *a = cli_command_aliases; a->old_path; a++) {
        strlist words = STRLIST_INIT;
        strlist_split(&words, a->old_path, ' ');
        bool match = (size_t)argc > words.count;
        for (size_t k = 0; match && k < words.count; k++)
            match = strcmp(argv[1 + k], words.items[k]) == 0;
        if (match) {
            *next = 1 + (int)words.count;
            strlist_free(&words);
            return a;
        }
        strlist_free(&words);
    }
    return NULL;
}

/*
 * Commands of yb-voyager that this build does not have. An operator following
 * the public docs is told that, with exit 6, rather than "unknown command".
 */
static const char *const not_built_paths[] = {
    "assess-migration", "assess-migration-bulk", "import data file", "compare-performance", NULL,
};

static bool not_built_yet(const strbuf *path, const char *word)
{
    char *full = xasprintf("%s%s%s", strbuf_cstr(path), path->len ? " " : "", word);
    bool found = false;
    for (const char *const *p = not_built_paths; *p && !found; p++)
        found = strcmp(*p, full) == 0;
    if (found)
        fprintf(stderr, "error: 'yb-voyager %s' is not built yet in this version of voyager-c (%s)\n",
                full, VOYAGER_VERSION);
    free(full);
    return found;
}

/* `yb-voyager fall-back` alone or with an unknown word: name today's commands. */
static bool old_group_hint(const char *word)
{
    size_t n = strlen(word);
    bool any = false;
    for (const command_alias *a = cli_command_aliases; a->old_path; a++) {
        if (strncmp(a->old_path, word, n) != 0 || a->old_path[n] != ' ')
            continue;
        if (!any)
            fprintf(stderr, "error: \"%s\" is a command group of earlier releases; its commands "
                            "are now:\n", word);
        any = true;
        char *canon = cli_command_path(a->target);
        fprintf(stderr, "  yb-voyager %-28s -> yb-voyager %s\n", a->old_path, canon ? canon : "?");
        free(canon);
    }
    return any;
}

void cli_parse(int argc, char **argv, cli_parse_result *res)
{
    memset(res, 0, sizeof *res);
    const command *cmd = &cli_root_command;
    strbuf path = STRBUF_INIT;
    int i = 1;

    const command_alias *alias = match_alias(argc, argv, &i);
    if (alias) {
        cmd = alias->target;
        res->alias_path = xstrdup(alias->old_path);
        char *canon = cli_command_path(cmd);
        strbuf_append(&path, canon ? canon : alias->old_path);
        free(canon);
    }
    /* Walk the command words. */
    while (!alias && i < argc && argv[i][0] != '-') {
        /* upstream's `yb-voyager version`: the same as --version */
        if (cmd == &cli_root_command && strcmp(argv[i], "version") == 0) {
            res->version = true;
            strbuf_free(&path);
            return;
        }
        const command *child = find_child(cmd, argv[i]);
        if (!child) {
            if (not_built_yet(&path, argv[i])) {
                res->exit_code = EXIT_NOT_IMPLEMENTED;
                strbuf_free(&path);
                return;
            }
            if (cmd == &cli_root_command && old_group_hint(argv[i])) {
                res->exit_code = EXIT_BAD_ARGS;
                strbuf_free(&path);
                return;
            }
            if (cmd->children && !cmd->run) {
                fprintf(stderr, "error: unknown command \"%s\" for 'yb-voyager%s%s'\n", argv[i],
                        path.len ? " " : "", strbuf_cstr(&path));
                usage_hint(strbuf_cstr(&path));
                res->exit_code = EXIT_BAD_ARGS;
                strbuf_free(&path);
                return;
            }
            break;
        }
        if (path.len)
            strbuf_append_char(&path, ' ');
        strbuf_append(&path, argv[i]);
        cmd = child;
        i++;
    }
    res->cmd = cmd;
    res->path = strbuf_detach(&path);
    res->opts = opts_new(cmd);
    opts *o = res->opts;

    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "--help-all") == 0) {
            res->help = true;
            res->help_all = strcmp(arg, "--help-all") == 0;
            return;
        }
        if (strcmp(arg, "--version") == 0 || (cmd == &cli_root_command && strcmp(arg, "-v") == 0)) {
            res->version = true;
            return;
        }
        opt_value *v = NULL;
        const char *inline_val = NULL;
        char *name = NULL;
        if (arg[0] == '-' && arg[1] == '-' && arg[2]) {
            const char *eq = strchr(arg + 2, '=');
            name = eq ? xstrndup(arg + 2, (size_t)(eq - arg - 2)) : xstrdup(arg + 2);
            inline_val = eq ? eq + 1 : NULL;
            v = opts_find(o, name);
        } else if (arg[0] == '-' && arg[1] && arg[1] != '-' && arg[2] == '\0') {
            name = xasprintf("%c", arg[1]);
            v = opts_find_short(o, arg[1]);
        } else if (arg[0] == '-' && arg[1] && arg[1] != '-' && arg[2] == '=') {
            name = xasprintf("%c", arg[1]);
            v = opts_find_short(o, arg[1]);
            inline_val = arg + 3;
        } else {
            const char *sp = *res->path ? " " : "";
            if (cmd->children && !cmd->run)
                fprintf(stderr, "error: unknown command \"%s\" for 'yb-voyager%s%s'\n", arg, sp,
                        res->path);
            else
                fprintf(stderr, "error: unexpected argument \"%s\" for 'yb-voyager%s%s'\n", arg,
                        sp, res->path);
            usage_hint(res->path);
            res->exit_code = EXIT_BAD_ARGS;
            return;
        }
        if (!v) {
            fprintf(stderr, "error: unknown flag: %s%s for 'yb-voyager%s%s'\n",
                    strlen(name) == 1 ? "-" : "--", name, *res->path ? " " : "", res->path);
            usage_hint(res->path);
            free(name);
            res->exit_code = EXIT_BAD_ARGS;
            return;
        }
        free(name);
        char *origin = xasprintf("--%s", v->def->name);
        const char *value = inline_val;
        if (!value) {
            if (v->def->type == FLAG_BOOL) {
                /*
                 * `--flag` alone means true; `--flag true|false` is also accepted.
                 * No command takes positional arguments, so a following word
                 * that is not a flag is this flag's value (and validated).
                 */
                if (i + 1 < argc && argv[i + 1][0] != '-')
                    value = argv[++i];
                else
                    value = "true";
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                fprintf(stderr, "error: flag needs an argument: --%s\n", v->def->name);
                usage_hint(res->path);
                free(origin);
                res->exit_code = EXIT_BAD_ARGS;
                return;
            }
        }
        bool ok = set_checked(o, v, value, OPT_FLAG, origin);
        free(origin);
        if (!ok) {
            usage_hint(res->path);
            res->exit_code = EXIT_BAD_ARGS;
            return;
        }
    }

    if (!cmd->run) /* a command group: help is all it can do */
        return;

    /* Config file, then environment twins (env beats config, flag beats env). */
    const char *cfg = opts_get(o, "config-file");
    if (cfg && !cli_apply_config_file(cmd, o, cfg)) {
        res->exit_code = EXIT_BAD_ARGS;
        return;
    }
    for (size_t k = 0; k < o->count; k++) {
        opt_value *v = &o->values[k];
        if (!v->def->env || (v->value && v->src == OPT_FLAG))
            continue;
        const char *e = getenv(v->def->env);
        if (e && *e) {
            char *origin = xasprintf("environment variable %s", v->def->env);
            bool ok = set_checked(o, v, e, OPT_ENV, origin);
            free(origin);
            if (!ok) {
                res->exit_code = EXIT_BAD_ARGS;
                return;
            }
        }
    }
    /* Every missing required flag in one message: one round trip for the user, not four. */
    strbuf missing = STRBUF_INIT;
    int nmissing = 0;
    for (size_t k = 0; k < o->count; k++) {
        opt_value *v = &o->values[k];
        if ((v->def->flags & FLAGF_REQUIRED) && !v->value) {
            strbuf_appendf(&missing, "%s--%s", nmissing ? ", " : "", v->def->name);
            nmissing++;
        }
    }
    if (nmissing) {
        fprintf(stderr, "error: required flag%s %s not set\nhint: give %s on the command line or in "
                        "--config-file\n",
                nmissing > 1 ? "s" : "", strbuf_cstr(&missing), nmissing > 1 ? "them" : "it");
        usage_hint(res->path);
        res->exit_code = EXIT_BAD_ARGS;
    }
    strbuf_free(&missing);
}

void cli_parse_result_free(cli_parse_result *res)
{
    free(res->path);
    free(res->alias_path);
    opts_free(res->opts);
    memset(res, 0, sizeof *res);
}

/* Is this flag one of the command's? Used by the config layer. */
bool cli_opts_set_from_config(opts *o, const char *name, const char *value, const char *where);
bool cli_opts_set_from_config(opts *o, const char *name, const char *value, const char *where)
{
    opt_value *v = opts_find(o, name);
    if (!v)
        return true; /* the caller decides whether an unknown key is an error */
    if (v->value && v->src == OPT_FLAG)
        return true; /* the command line wins */
    char *origin = xasprintf("%s", where);
    bool ok = set_checked(o, v, value, OPT_CONFIG, origin);
    free(origin);
    return ok;
}

static void print_flag_line(const flag_def *f)
{
    char left[96];
    const char *kind = f->type == FLAG_INT ? " int" : f->type == FLAG_STRING ? " string" : "";
    if (f->short_name)
        snprintf(left, sizeof left, "  -%c, --%s%s", f->short_name, f->name, kind);
    else
        snprintf(left, sizeof left, "      --%s%s", f->name, kind);
    printf("%-44s %s", left, f->help ? f->help : "");
    if (f->choices)
        printf(" (%s)", f->choices);
    if (f->default_value)
        printf(" (default %s)", f->default_value);
    if (f->flags & FLAGF_REQUIRED)
        printf(" [required]");
    if (f->env)
        printf(" [env %s]", f->env);
    if (f->flags & FLAGF_HIDDEN)
        printf(" [hidden]");
    printf("\n");
}

static bool find_path(const command *node, const command *want, strbuf *path)
{
    for (const command *const *c = node->children; c && *c; c++) {
        size_t len = path->len;
        if (len)
            strbuf_append_char(path, ' ');
        strbuf_append(path, (*c)->name);
        if (*c == want || find_path(*c, want, path))
            return true;
        path->len = len;
        path->data[len] = '\0';
    }
    return false;
}

char *cli_command_path(const command *cmd)
{
    strbuf sb = STRBUF_INIT;
    if (find_path(&cli_root_command, cmd, &sb))
        return strbuf_detach(&sb);
    strbuf_free(&sb);
    return NULL;
}

/* The older names of cmd (cli_command_aliases). */
static void print_aliases(const command *cmd)
{
    bool header = false;
    for (const command_alias *a = cli_command_aliases; a->old_path; a++) {
        if (a->target != cmd)
            continue;
        if (!header)
            printf("\nOlder names (accepted, same flags):\n");
        header = true;
        printf("  yb-voyager %s\n", a->old_path);
    }
}

/* Every runnable command below cmd, with its full path: the root help lists them all. */
static void print_command_paths(const command *cmd, const char *prefix)
{
    for (const command *const *c = cmd->children; c && *c; c++) {
        char *p = *prefix ? xasprintf("%s %s", prefix, (*c)->name) : xstrdup((*c)->name);
        if ((*c)->run)
            printf("  %-36s %s\n", p, (*c)->summary);
        print_command_paths(*c, p);
        free(p);
    }
}

void cli_print_help(const command *cmd, const char *path, bool show_hidden)
{
    const char *sp = (path && *path) ? " " : "";
    if (cmd->description)
        printf("%s\n\n", cmd->description);
    else if (cmd->summary)
        printf("%s\n\n", cmd->summary);
    printf("Usage:\n");
    if (cmd->run)
        printf("  yb-voyager%s%s [flags]\n", sp, path);
    if (cmd->children)
        printf("  yb-voyager%s%s [command]\n", sp, path);
    if (cmd->children) {
        printf("\nAvailable Commands:\n");
        int width = 22;
        for (const command *const *c = cmd->children; *c; c++)
            if ((int)strlen((*c)->name) > width)
                width = (int)strlen((*c)->name);
        for (const command *const *c = cmd->children; *c; c++)
            printf("  %-*s %s\n", width, (*c)->name, (*c)->summary);
    }
    if (cmd == &cli_root_command) {
        printf("\nAll Commands:\n");
        print_command_paths(cmd, "");
    }
    print_aliases(cmd);
    printf("\nFlags:\n");
    printf("%-44s %s\n", "  -h, --help", "help for this command");
    printf("%-44s %s\n", "      --help-all", "help with the hidden flags too (older names, compatibility)");
    if (cmd == &cli_root_command)
        printf("%-44s %s\n", "  -v, --version", "print the version and exit");
    for (const flag_def *const *g = cmd->flag_groups; g && *g; g++)
        for (const flag_def *f = *g; f->name; f++)
            if (show_hidden || !(f->flags & FLAGF_HIDDEN))
                print_flag_line(f);
    if (cmd->children)
        printf("\nUse \"yb-voyager%s%s [command] --help\" for more information about a command.\n",
               sp, path);
}
