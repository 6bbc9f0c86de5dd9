/*
 * --config-file: a YAML mapping.
 *   top-level scalars        -> flags of the same name (export-dir, log-level, ...)
 *   source: / target: / source-replica:  keys without the prefix (db-host, ssl-mode)
 *   <command-section>:       keys = flag names of that command (export-data: parallel-jobs)
 * Sequences are joined with commas (table-list: [a, b]).
 * Unknown keys in the sections that apply to this command are errors, so a typo
 * does not silently fall back to a default.
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

static bool apply_pair(opts *o, const char *path, const char *section, const char *key,
                       const char *flag_name, yaml_document_t *doc, yaml_node_t *val,
                       bool strict)
{
    char *where = section ? xasprintf("config file %s: key '%s' in section '%s'", path, key, section)
                          : xasprintf("config file %s: key '%s'", path, key);
    bool ok = true;
    char *s = node_to_string(doc, val);
    if (!s) {
        fprintf(stderr, "error: %s must be a single value or a list of values\n", where);
        ok = false;
    } else if (!opts_has_flag(o, flag_name)) {
        if (strict) {
            fprintf(stderr, "error: %s is not a flag of this command; remove it or fix the name\n",
                    where);
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
        fprintf(stderr, "error: cannot open config file %s: %s (check --config-file)\n", path,
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
                /* Top-level keys are shared by all commands: unknown ones are ignored. */
                if (pass == 0)
                    ok = apply_pair(o, path, NULL, key, key, &doc, v, false);
                continue;
            }
            bool conn = is_known_section(key);
            bool mine = cmd->config_section && strcmp(key, cmd->config_section) == 0;
            if ((pass == 0 && !conn) || (pass == 1 && !mine))
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
                    /* A connection key this command does not take is fine (shared file). */
                    ok = apply_pair(o, path, key, key2, flag, &doc, v2, false);
                    free(flag);
                } else {
                    ok = apply_pair(o, path, key, key2, key2, &doc, v2, true);
                }
            }
        }
    }
done:
    yaml_document_delete(&doc);
    return ok;
}
