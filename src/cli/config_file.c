/*
 * --config-file: a YAML mapping.
 *   top-level scalars        -> flags of the same name (export-dir, log-level, ...)
 *   source: / target: / source-replica:  keys without the prefix (db-host, ssl-mode)
 *   <command-section>:       keys = flag names of that command (export-data: parallel-jobs)
 * Sequences are joined with commas (table-list: [a, b]).
 * One file serves every command, so a key another command takes is fine here.
 * A key that is no flag of any command (in its place) is an error: a misspelt
 * `ssl-mode` or `db-password` must not silently fall back to a default.
 * `config-file` is no key either: the file is read once, so another file named
 * inside it would be ignored.
 */
#include "cli/cli.h"

#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

bool cli_opts_set_from_config(opts *o, const char *name, const char *value, const char *where);

static const char *const conn_sections[] = {"source", "target", "source-replica"};

static bool is_known_section(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(conn_sections); i++)
        if (strcmp(name, conn_sections[i]) == 0)
            return true;
    return false;
}

/* Does any command under cmd (whose section is `section`, if given) take flag `name`? */
static bool flag_known(const command *cmd, const char *section, const char *name)
{
    if (cmd->run && (!section || (cmd->config_section && strcmp(cmd->config_section, section) == 0)))
        for (const flag_def *const *g = cmd->flag_groups; g && *g; g++)
            for (const flag_def *f = *g; f->name; f++)
                if (strcmp(f->name, name) == 0)
                    return true;
    for (const command *const *c = cmd->children; c && *c; c++)
        if (flag_known(*c, section, name))
            return true;
    return false;
}

/* Is `name` the config section of some command? */
static bool command_section_known(const command *cmd, const char *name)
{
    if (cmd->config_section && strcmp(cmd->config_section, name) == 0)
        return true;
    for (const command *const *c = cmd->children; c && *c; c++)
        if (command_section_known(*c, name))
            return true;
    return false;
}

/* A config file naming another one: files are not nested (it would be ignored). */
static bool refuse_nested(const char *path, const char *key, const char *section)
{
    if (strcmp(key, "config-file") != 0)
        return true;
    fprintf(stderr, "error: config file %s: key 'config-file'%s%s%s: a config file cannot name "
                    "another one\nhint: remove it; give --config-file on the command line\n",
            path, section ? " in section '" : "", section ? section : "", section ? "'" : "");
    return false;
}

/* Scalar or sequence-of-scalars to a string; NULL for anything else. Caller frees. */
static char *node_to_string(yaml_document_t *doc, yaml_node_t *n)
{
    if (n->type == YAML_SCALAR_NODE)
        return xstrndup((const char *)n->data.scalar.value, n->data.scalar.length);
    if (n->type == YAML_SEQUENCE_NODE) {
        strbuf sb = STRBUF_INIT;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *c = yaml_document_get_node(doc, *it);
            if (!c || c->type != YAML_SCALAR_NODE) {
                strbuf_free(&sb);
                return NULL;
            }
            if (sb.len)
                strbuf_append_char(&sb, ',');
            strbuf_append_len(&sb, (const char *)c->data.scalar.value, c->data.scalar.length);
        }
        return strbuf_detach(&sb);
    }
    return NULL;
}

/*
 * Apply one key to o when this command takes it. `known_in` is the command
 * section whose commands must know the flag (NULL: any command), checked when
 * this command does not take it.
 */
static bool apply_pair(opts *o, const char *path, const char *section, const char *key,
                       const char *flag_name, yaml_document_t *doc, yaml_node_t *val,
                       const char *known_in)
{
    if (!refuse_nested(path, flag_name, section))
        return false;
    char *where = section ? xasprintf("config file %s: key '%s' in section '%s'", path, key, section)
                          : xasprintf("config file %s: key '%s'", path, key);
    bool ok = true;
    char *s = node_to_string(doc, val);
    if (!s) {
        fprintf(stderr, "error: %s must be a single value or a list of values\n", where);
        ok = false;
    } else if (!opts_has_flag(o, flag_name)) {
        if (!flag_known(&cli_root_command, known_in, flag_name)) {
            fprintf(stderr, "error: %s is not a flag of %s\nhint: remove it or fix the name "
                            "(see --help of the command it is for)\n",
                    where, known_in ? "the commands of that section" : "any command");
            ok = false;
        }
    } else {
        ok = cli_opts_set_from_config(o, flag_name, s, where);
    }
    free(s);
    free(where);
    return ok;
}

bool cli_apply_config_file(const command *cmd, opts *o, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "error: cannot open config file %s: %s\nhint: check --config-file\n", path,
                strerror(errno));
        return false;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        fprintf(stderr, "error: config file %s is not valid YAML: %s at line %zu\n", path,
                parser.problem ? parser.problem : "parse error", parser.problem_mark.line + 1);
        yaml_parser_delete(&parser);
        fclose(f);
        return false;
    }
    yaml_parser_delete(&parser);
    fclose(f);

    bool ok = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) /* empty file */
        goto done;
    if (root->type != YAML_MAPPING_NODE) {
        fprintf(stderr, "error: config file %s: the top level must be a mapping of keys\n", path);
        ok = false;
        goto done;
    }
    /* Two passes so that command sections override the shared sections. */
    for (int pass = 0; pass < 2 && ok; pass++) {
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
             ok && p < root->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(&doc, p->key);
            yaml_node_t *v = yaml_document_get_node(&doc, p->value);
            if (!k || !v || k->type != YAML_SCALAR_NODE)
                continue;
            const char *key = (const char *)k->data.scalar.value;
            if (v->type != YAML_MAPPING_NODE) {
                /* Top-level keys are shared by all commands. */
                if (pass == 0)
                    ok = apply_pair(o, path, NULL, key, key, &doc, v, NULL);
                continue;
            }
            bool conn = is_known_section(key);
            bool mine = cmd->config_section && strcmp(key, cmd->config_section) == 0;
            if (pass == 0 && !conn && !command_section_known(&cli_root_command, key)) {
                fprintf(stderr, "error: config file %s: section '%s' is no command's section\n"
                                "detail: the sections are source, target, source-replica, and one "
                                "per command such as export-data\n"
                                "hint: remove it or fix the name\n",
                        path, key);
                ok = false;
                continue;
            }
            /* Pass 0: connection sections applied, command sections checked for typos
             * (this command's own is applied, strictly, in pass 1). */
            bool check_only = pass == 0 && !conn;
            if (pass == 1 && !mine)
                continue;
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
                 ok && q < v->data.mapping.pairs.top; q++) {
                yaml_node_t *k2 = yaml_document_get_node(&doc, q->key);
                yaml_node_t *v2 = yaml_document_get_node(&doc, q->value);
                if (!k2 || !v2 || k2->type != YAML_SCALAR_NODE)
                    continue;
                const char *key2 = (const char *)k2->data.scalar.value;
                if (conn) {
                    char *flag = xasprintf("%s-%s", key, key2);
                    ok = apply_pair(o, path, key, key2, flag, &doc, v2, NULL);
                    free(flag);
                } else if (check_only) {
                    if (!refuse_nested(path, key2, key)) {
                        ok = false;
                    } else if (!mine && !flag_known(&cli_root_command, key, key2)) {
                        fprintf(stderr, "error: config file %s: key '%s' in section '%s' is not a "
                                        "flag of that command\nhint: remove it or fix the name (see "
                                        "--help of that command)\n",
                                path, key2, key);
                        ok = false;
                    }
                } else {
                    ok = apply_pair(o, path, key, key2, key2, &doc, v2, key);
                }
            }
        }
    }
done:
    yaml_document_delete(&doc);
    return ok;
}
