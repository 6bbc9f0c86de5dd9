/*
 * Command-line framework: commands are data (a tree of `command`), flags are
 * data (`flag_def` groups), and parsed values live in `opts`.
 *
 * Precedence for every flag: command line > environment twin (flag_def.env) >
 * config file (--config-file, YAML) > default.
 */
#ifndef VOYAGER_CLI_CLI_H
#define VOYAGER_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum flag_type { FLAG_STRING, FLAG_INT, FLAG_BOOL } flag_type;

enum {
    FLAGF_REQUIRED = 1 << 0, /* must be set by flag, env or config */
    FLAGF_SECRET = 1 << 1,   /* never logged, never shown */
    FLAGF_HIDDEN = 1 << 2,   /* accepted but not listed in --help */
};

typedef struct flag_def {
    const char *name;          /* long name without dashes: "source-db-host" */
    char short_name;           /* 'e' for -e, or 0 */
    flag_type type;
    const char *default_value; /* NULL: no default */
    const char *choices;       /* "a|b|c" validated case-insensitively, or NULL */
    unsigned flags;            /* FLAGF_* */
    const char *env;           /* environment twin, or NULL */
    const char *help;
} flag_def;

/* A flag group ends with an entry whose name is NULL. */
#define FLAG_GROUP_END {NULL, 0, FLAG_STRING, NULL, NULL, 0, NULL, NULL}

typedef enum opt_source { OPT_UNSET = 0, OPT_DEFAULT, OPT_CONFIG, OPT_ENV, OPT_FLAG } opt_source;

typedef struct opts opts;
struct cmd_ctx;
typedef int (*command_run_fn)(struct cmd_ctx *ctx);

enum {
    CMDF_NO_LOCK = 1 << 0,        /* read-only command: runs beside others */
    CMDF_NO_EXPORT_DIR = 1 << 1,  /* does not use the export dir (none so far) */
    CMDF_NEEDS_MIGRATION = 1 << 2, /* reads a migration: refuses a dir without one, creates nothing */
};

typedef struct command {
    const char *name;
    const char *summary;                 /* one line for the parent's list */
    const char *description;             /* paragraph for --help, or NULL */
    const char *config_section;          /* YAML section: "export-data", or NULL */
    const flag_def *const *flag_groups;  /* NULL-terminated list of groups */
    command_run_fn run;                  /* NULL: needs a subcommand */
    const struct command *const *children; /* NULL-terminated, or NULL */
    unsigned flags;                      /* CMDF_* */
} command;

/*
 * Older command names (the docs of earlier releases: `cutover initiate`,
 * `fall-back setup`, ...): parsing one selects today's command, with its
 * flags, lock and log. Hidden from the command lists; each command's help
 * names its older names. The table ends with {NULL, NULL}.
 */
typedef struct command_alias {
    const char *old_path;   /* "fall-back setup" */
    const command *target;  /* import data to source */
} command_alias;
extern const command_alias cli_command_aliases[];

/* The root of the command tree (cli/commands.c). */
extern const command cli_root_command;

/*
 * Parsed options for one command. Created by cli_parse(); owned by the caller,
 * freed with opts_free().
 */
const char *opts_get(const opts *o, const char *name);   /* value, default, or NULL */
bool opts_is_set(const opts *o, const char *name);       /* given by flag/env/config */
bool opts_get_bool(const opts *o, const char *name);     /* false when unset */
int64_t opts_get_int(const opts *o, const char *name);   /* 0 when unset */
opt_source opts_source(const opts *o, const char *name);
bool opts_has_flag(const opts *o, const char *name);     /* the command accepts it */
/* Set a value (copied) as if it came from src. */
void opts_set(opts *o, const char *name, const char *value, opt_source src);
void opts_free(opts *o);

/* Result of parsing argv. */
typedef struct cli_parse_result {
    const command *cmd;      /* the command selected */
    char *path;              /* "export data from source": owned */
    opts *opts;              /* owned */
    bool help;               /* -h/--help was given: print help, exit 0 */
    bool help_all;           /* --help-all: the help lists the hidden flags too */
    bool version;            /* --version */
    int exit_code;           /* when != 0: parsing failed, message already printed */
    char *alias_path;        /* the older name typed ("fall-back setup"), or NULL: owned */
} cli_parse_result;

/*
 * Parse argv (argv[0] is the program). On error prints one line to stderr
 * naming the flag and the fix, and sets exit_code = EXIT_BAD_ARGS.
 */
void cli_parse(int argc, char **argv, cli_parse_result *res);
void cli_parse_result_free(cli_parse_result *res);

/* Apply a YAML config file to opts for cmd (only unset values). */
bool cli_apply_config_file(const command *cmd, opts *o, const char *path);

/* show_hidden: list the FLAGF_HIDDEN flags too, marked (--help-all). */
void cli_print_help(const command *cmd, const char *path, bool show_hidden);

/* The full path of cmd in the tree ("import data to source"), or NULL. Caller frees. */
char *cli_command_path(const command *cmd);

/* Shared flag groups (cli/flags.c). */
extern const flag_def flags_common[];
extern const flag_def flags_source_conn[];
extern const flag_def flags_target_conn[];
extern const flag_def flags_source_replica_conn[];
extern const flag_def flags_table_filter[];

#endif
