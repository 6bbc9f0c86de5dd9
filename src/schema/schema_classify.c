#include "schema/schema_classify.h"

#include "db/pgconn.h"
#include "schema/schema_sql.h"

#include <stdlib.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k)
{
    return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static const char *get_str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool get_true(const cJSON *o, const char *k)
{
    return cJSON_IsTrue(get(o, k));
}

/* "schema\x1fname" of a RangeVar (schema "" when unqualified). Caller frees. */
static char *rel_key(const cJSON *rangevar)
{
    const char *s = get_str(rangevar, "schemaname");
    const char *n = get_str(rangevar, "relname");
    return n ? xasprintf("%s\x1f%s", s ? s : "", n) : NULL;
}

static bool rel_in(const strlist *l, const cJSON *rangevar)
{
    char *k = rel_key(rangevar);
    bool in = k && strlist_contains(l, k);
    free(k);
    return in;
}

static void rel_add(strlist *l, const cJSON *rangevar)
{
    char *k = rel_key(rangevar);
    if (k && !strlist_contains(l, k))
        strlist_push(l, k);
    free(k);
}

void schema_ctx_free(schema_ctx *ctx)
{
    strlist_free(&ctx->partition_children);
    strlist_free(&ctx->partition_trees);
    strlist_free(&ctx->plain_indexes);
}

/* The first command of an ALTER TABLE (pg_dump emits one command per statement). */
static const cJSON *first_cmd(const cJSON *alter)
{
    const cJSON *cmds = get(alter, "cmds");
    return get(cJSON_GetArrayItem(cmds, 0), "AlterTableCmd");
}

void schema_ctx_observe(schema_ctx *ctx, const cJSON *node)
{
    const char *type = schema_node_type(node);
    const cJSON *b = schema_node_body(node);
    if (strcmp(type, "CreateStmt") == 0) {
        const cJSON *rel = get(b, "relation");
        if (get(b, "partbound")) {
            rel_add(&ctx->partition_children, rel);
            rel_add(&ctx->partition_trees, rel);
            const cJSON *parent = get(cJSON_GetArrayItem(get(b, "inhRelations"), 0), "RangeVar");
            if (parent)
                rel_add(&ctx->partition_trees, parent);
        }
        if (get(b, "partspec"))
            rel_add(&ctx->partition_trees, rel);
    } else if (strcmp(type, "AlterTableStmt") == 0 &&
               str_eq(get_str(b, "objtype"), "OBJECT_TABLE")) {
        const cJSON *cmd = first_cmd(b);
        if (str_eq(get_str(cmd, "subtype"), "AT_AttachPartition")) {
            const cJSON *child = get(get(get(cmd, "def"), "PartitionCmd"), "name");
            rel_add(&ctx->partition_trees, get(b, "relation"));
            if (child) {
                rel_add(&ctx->partition_children, child);
                rel_add(&ctx->partition_trees, child);
            }
        }
    } else if (strcmp(type, "IndexStmt") == 0) {
        const char *idx = get_str(b, "idxname");
        const char *schema = get_str(get(b, "relation"), "schemaname");
        if (idx) {
            char *k = xasprintf("%s\x1f%s", schema ? schema : "", idx);
            if (!strlist_contains(&ctx->plain_indexes, k))
                strlist_push(&ctx->plain_indexes, k);
            free(k);
        }
    }
}

static bool is_set_config_call(const cJSON *select)
{
    const cJSON *targets = get(select, "targetList");
    if (cJSON_GetArraySize(targets) != 1 || get(select, "fromClause"))
        return false;
    const cJSON *call = get(get(get(cJSON_GetArrayItem(targets, 0), "ResTarget"), "val"), "FuncCall");
    const cJSON *names = get(call, "funcname");
    const cJSON *last = cJSON_GetArrayItem(names, cJSON_GetArraySize(names) - 1);
    return str_eq(get_str(get(last, "String"), "sval"), "set_config");
}

static bool is_setval_call(const cJSON *select)
{
    const cJSON *targets = get(select, "targetList");
    const cJSON *call = get(get(get(cJSON_GetArrayItem(targets, 0), "ResTarget"), "val"), "FuncCall");
    const cJSON *names = get(call, "funcname");
    const cJSON *last = cJSON_GetArrayItem(names, cJSON_GetArraySize(names) - 1);
    return str_eq(get_str(get(last, "String"), "sval"), "setval") && !get(select, "fromClause");
}

static schema_obj classify_alter_table(const cJSON *b, const schema_ctx *ctx)
{
    const char *objtype = get_str(b, "objtype");
    const cJSON *rel = get(b, "relation");
    const cJSON *cmd = first_cmd(b);
    const char *sub = get_str(cmd, "subtype");
    if (str_eq(objtype, "OBJECT_INDEX")) {
        /* ALTER INDEX parent ATTACH PARTITION child: follows whoever made the parent index */
        if (rel_in(&ctx->plain_indexes, rel))
            return OBJ_INDEX;
        return str_eq(sub, "AT_AttachPartition") ? OBJ_PARTITION : OBJ_INDEX;
    }
    if (str_eq(objtype, "OBJECT_FOREIGN_TABLE"))
        return OBJ_FOREIGN_TABLE;
    if (str_eq(objtype, "OBJECT_VIEW"))
        return OBJ_VIEW;
    if (str_eq(objtype, "OBJECT_MATVIEW"))
        return OBJ_MVIEW;
    if (str_eq(objtype, "OBJECT_TYPE"))
        return OBJ_TYPE;
    if (str_eq(objtype, "OBJECT_SEQUENCE"))
        return OBJ_SEQUENCE;
    if (str_eq(sub, "AT_EnableRowSecurity") || str_eq(sub, "AT_DisableRowSecurity") ||
        str_eq(sub, "AT_ForceRowSecurity") || str_eq(sub, "AT_NoForceRowSecurity"))
        return OBJ_POLICY;
    if (sub && strncmp(sub, "AT_EnableTrig", 13) == 0)
        return OBJ_TRIGGER;
    if (sub && (strncmp(sub, "AT_DisableTrig", 14) == 0 || strncmp(sub, "AT_EnableAlwaysTrig", 19) == 0 ||
                strncmp(sub, "AT_EnableReplicaTrig", 20) == 0))
        return OBJ_TRIGGER;
    if (sub && (strncmp(sub, "AT_EnableRule", 13) == 0 || strncmp(sub, "AT_DisableRule", 14) == 0 ||
                strncmp(sub, "AT_EnableAlwaysRule", 19) == 0 || strncmp(sub, "AT_EnableReplicaRule", 20) == 0))
        return OBJ_RULE;
    if (str_eq(sub, "AT_ClusterOn") || str_eq(sub, "AT_AddIndexConstraint"))
        return OBJ_INDEX;
    if (str_eq(sub, "AT_ReplicaIdentity") &&
        str_eq(get_str(get(get(cmd, "def"), "ReplicaIdentityStmt"), "identity_type"), "i"))
        return OBJ_INDEX;
    if (str_eq(sub, "AT_AttachPartition"))
        return OBJ_PARTITION;
    if (str_eq(sub, "AT_AddConstraint")) {
        const char *contype = get_str(get(get(cmd, "def"), "Constraint"), "contype");
        if (str_eq(contype, "CONSTR_FOREIGN"))
            return OBJ_TABLE; /* applied after every table by import schema */
        /* a partition tree's keys come after its partitions are attached */
        return rel_in(&ctx->partition_trees, rel) ? OBJ_PARTITION : OBJ_TABLE;
    }
    return rel_in(&ctx->partition_children, rel) ? OBJ_PARTITION : OBJ_TABLE;
}

static schema_obj classify_define(const cJSON *b)
{
    const char *kind = get_str(b, "kind");
    if (str_eq(kind, "OBJECT_COLLATION"))
        return OBJ_COLLATION;
    if (str_eq(kind, "OBJECT_AGGREGATE"))
        return OBJ_FUNCTION;
    if (str_eq(kind, "OBJECT_TYPE"))
        return OBJ_TYPE;
    return OBJ_UNCATEGORIZED;
}

static schema_obj classify_alter_seq(const cJSON *b, const schema_ctx *ctx)
{
    const cJSON *opt;
    cJSON_ArrayForEach(opt, get(b, "options"))
    {
        const cJSON *d = get(opt, "DefElem");
        if (!str_eq(get_str(d, "defname"), "owned_by"))
            continue;
        /* OWNED BY schema.table.column: needs the table, so it goes with it */
        const cJSON *items = get(get(get(d, "arg"), "List"), "items");
        int n = cJSON_GetArraySize(items);
        if (n >= 2) {
            const char *tbl = get_str(get(cJSON_GetArrayItem(items, n - 2), "String"), "sval");
            const char *sch = n >= 3 ? get_str(get(cJSON_GetArrayItem(items, n - 3), "String"), "sval") : "";
            char *k = xasprintf("%s\x1f%s", sch ? sch : "", tbl ? tbl : "");
            bool child = strlist_contains(&ctx->partition_children, k);
            free(k);
            return child ? OBJ_PARTITION : OBJ_TABLE;
        }
    }
    return OBJ_SEQUENCE;
}

schema_class schema_classify(const cJSON *node, const schema_ctx *ctx)
{
    schema_class c = {OBJ_UNCATEGORIZED, false};
    const char *t = schema_node_type(node);
    const cJSON *b = schema_node_body(node);
    if (strcmp(t, "VariableSetStmt") == 0) {
        c.session = true;
    } else if (strcmp(t, "SelectStmt") == 0) {
        if (is_set_config_call(b))
            c.session = true;
        else if (is_setval_call(b))
            c.obj = OBJ_SEQUENCE;
    } else if (strcmp(t, "CreateSchemaStmt") == 0) {
        c.obj = OBJ_SCHEMA;
    } else if (strcmp(t, "CreateExtensionStmt") == 0 || strcmp(t, "AlterExtensionStmt") == 0) {
        c.obj = OBJ_EXTENSION;
    } else if (strcmp(t, "DefineStmt") == 0) {
        c.obj = classify_define(b);
    } else if (strcmp(t, "CompositeTypeStmt") == 0 || strcmp(t, "CreateEnumStmt") == 0 ||
               strcmp(t, "CreateRangeStmt") == 0 || strcmp(t, "AlterEnumStmt") == 0) {
        c.obj = OBJ_TYPE;
    } else if (strcmp(t, "CreateDomainStmt") == 0 || strcmp(t, "AlterDomainStmt") == 0) {
        c.obj = OBJ_DOMAIN;
    } else if (strcmp(t, "CreateSeqStmt") == 0) {
        c.obj = OBJ_SEQUENCE;
    } else if (strcmp(t, "AlterSeqStmt") == 0) {
        c.obj = classify_alter_seq(b, ctx);
    } else if (strcmp(t, "CreateStmt") == 0) {
        c.obj = get(b, "partbound") || rel_in(&ctx->partition_children, get(b, "relation")) ? OBJ_PARTITION
                                                                                            : OBJ_TABLE;
    } else if (strcmp(t, "AlterTableStmt") == 0) {
        c.obj = classify_alter_table(b, ctx);
    } else if (strcmp(t, "CreateForeignTableStmt") == 0 || strcmp(t, "CreateForeignServerStmt") == 0 ||
               strcmp(t, "CreateFdwStmt") == 0 || strcmp(t, "CreateUserMappingStmt") == 0 ||
               strcmp(t, "ImportForeignSchemaStmt") == 0) {
        c.obj = OBJ_FOREIGN_TABLE;
    } else if (strcmp(t, "CreateFunctionStmt") == 0) {
        c.obj = get_true(b, "is_procedure") ? OBJ_PROCEDURE : OBJ_FUNCTION;
    } else if (strcmp(t, "ViewStmt") == 0) {
        c.obj = OBJ_VIEW;
    } else if (strcmp(t, "CreateTableAsStmt") == 0) {
        c.obj = str_eq(get_str(b, "objtype"), "OBJECT_MATVIEW") ? OBJ_MVIEW : OBJ_TABLE;
    } else if (strcmp(t, "RuleStmt") == 0) {
        c.obj = OBJ_RULE;
    } else if (strcmp(t, "CommentStmt") == 0) {
        c.obj = OBJ_COMMENT;
    } else if (strcmp(t, "CreatePolicyStmt") == 0 || strcmp(t, "AlterPolicyStmt") == 0) {
        c.obj = OBJ_POLICY;
    } else if (strcmp(t, "IndexStmt") == 0) {
        c.obj = OBJ_INDEX;
    } else if (strcmp(t, "CreateTrigStmt") == 0 || strcmp(t, "CreateEventTrigStmt") == 0 ||
               strcmp(t, "AlterEventTrigStmt") == 0) {
        /* an event trigger made earlier would fire on the rest of the import */
        c.obj = OBJ_TRIGGER;
    }
    return c;
}

bool schema_stmt_is_fk(const cJSON *node)
{
    if (strcmp(schema_node_type(node), "AlterTableStmt") != 0)
        return false;
    const cJSON *cmd = first_cmd(schema_node_body(node));
    return str_eq(get_str(cmd, "subtype"), "AT_AddConstraint") &&
           str_eq(get_str(get(get(cmd, "def"), "Constraint"), "contype"), "CONSTR_FOREIGN");
}

const char *schema_stmt_exists_state(const cJSON *node)
{
    const char *t = schema_node_type(node);
    const cJSON *b = schema_node_body(node);
    if (strcmp(t, "AlterTableStmt") == 0 && str_eq(get_str(b, "objtype"), "OBJECT_TABLE")) {
        const cJSON *cmd = first_cmd(b);
        const char *sub = get_str(cmd, "subtype");
        if (str_eq(sub, "AT_AddConstraint") &&
            str_eq(get_str(get(get(cmd, "def"), "Constraint"), "contype"), "CONSTR_PRIMARY"))
            return "42P16"; /* multiple primary keys for table */
        if (str_eq(sub, "AT_AttachPartition"))
            return "42809"; /* "is already a partition" (of any table: import checks which) */
    }
    /* the catalogue's unique indexes report these as unique violations, not 42710 */
    if (strcmp(t, "DefineStmt") == 0 && str_eq(get_str(b, "kind"), "OBJECT_TSCONFIGURATION"))
        return "23505"; /* pg_ts_config_cfgname_index */
    if (strcmp(t, "AlterTSConfigurationStmt") == 0 && str_eq(get_str(b, "kind"), "ALTER_TSCONFIG_ADD_MAPPING"))
        return "23505"; /* pg_ts_config_map_index */
    return NULL;
}

static char *rel_quoted(const cJSON *rangevar)
{
    const char *s = get_str(rangevar, "schemaname");
    const char *n = get_str(rangevar, "relname");
    if (!n)
        return NULL;
    return s ? pg_quote_qualified(s, n) : pg_quote_ident(n);
}

bool schema_stmt_attach_names(const cJSON *node, char **parent, char **child)
{
    *parent = *child = NULL;
    if (strcmp(schema_node_type(node), "AlterTableStmt") != 0)
        return false;
    const cJSON *b = schema_node_body(node);
    const cJSON *cmd = first_cmd(b);
    if (!str_eq(get_str(b, "objtype"), "OBJECT_TABLE") || !str_eq(get_str(cmd, "subtype"), "AT_AttachPartition"))
        return false;
    *parent = rel_quoted(get(b, "relation"));
    *child = rel_quoted(get(get(get(cmd, "def"), "PartitionCmd"), "name"));
    if (*parent && *child)
        return true;
    free(*parent);
    free(*child);
    *parent = *child = NULL;
    return false;
}

bool schema_stmt_after_data(const cJSON *node)
{
    const char *t = schema_node_type(node);
    const cJSON *b = schema_node_body(node);
    if (strcmp(t, "AlterDomainStmt") == 0)
        return str_eq(get_str(b, "subtype"), "C") && get_true(get(get(b, "def"), "Constraint"), "skip_validation");
    if (strcmp(t, "AlterTableStmt") != 0)
        return false;
    const cJSON *cmd = first_cmd(b);
    const char *sub = get_str(cmd, "subtype");
    if (str_eq(sub, "AT_ForceRowSecurity"))
        return true;
    return str_eq(sub, "AT_AddConstraint") && get_true(get(get(cmd, "def"), "Constraint"), "skip_validation");
}

bool schema_stmt_on_post_data(const cJSON *node)
{
    const char *t = schema_node_type(node);
    const cJSON *b = schema_node_body(node);
    const char *objtype = get_str(b, "objtype");
    if (strcmp(t, "CommentStmt") == 0)
        return str_eq(objtype, "OBJECT_INDEX") || str_eq(objtype, "OBJECT_TRIGGER") ||
               str_eq(objtype, "OBJECT_EVENT_TRIGGER") || str_eq(objtype, "OBJECT_TABCONSTRAINT") ||
               str_eq(objtype, "OBJECT_DOMCONSTRAINT");
    if (strcmp(t, "AlterTableStmt") != 0)
        return false;
    if (str_eq(objtype, "OBJECT_INDEX"))
        return true;
    const cJSON *cmd = first_cmd(b);
    const char *sub = get_str(cmd, "subtype");
    static const char *const naming[] = {"AT_ClusterOn",       "AT_AddIndexConstraint", "AT_ValidateConstraint",
                                         "AT_AlterConstraint", "AT_DropConstraint",     "AT_EnableTrig",
                                         "AT_EnableAlwaysTrig", "AT_EnableReplicaTrig", "AT_DisableTrig"};
    for (size_t i = 0; i < ARRAY_LEN(naming); i++)
        if (sub && str_starts_with(sub, naming[i])) /* AT_EnableTrig covers AT_EnableTrigAll, ... */
            return true;
    return str_eq(sub, "AT_ReplicaIdentity") &&
           str_eq(get_str(get(get(cmd, "def"), "ReplicaIdentityStmt"), "identity_type"), "i");
}

bool schema_stmt_is_create_schema(const cJSON *node)
{
    return strcmp(schema_node_type(node), "CreateSchemaStmt") == 0;
}

char *schema_stmt_mview_name(const cJSON *node)
{
    if (strcmp(schema_node_type(node), "CreateTableAsStmt") != 0)
        return NULL;
    const cJSON *b = schema_node_body(node);
    if (!str_eq(get_str(b, "objtype"), "OBJECT_MATVIEW"))
        return NULL;
    const cJSON *rel = get(get(b, "into"), "rel");
    const char *s = get_str(rel, "schemaname");
    const char *n = get_str(rel, "relname");
    if (!n)
        return NULL;
    return s ? pg_quote_qualified(s, n) : pg_quote_ident(n);
}
