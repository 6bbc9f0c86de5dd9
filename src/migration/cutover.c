#include "migration/cutover.h"

#include <stddef.h>

static const cutover_process to_target[] = {
    {"CutoverProcessedBySourceExporter", "export data from source", "export-data-from-source"},
    {"CutoverProcessedByTargetImporter", "import data to target", "import-data-to-target"},
    {NULL, NULL, NULL},
};
/*
 * With a way back prepared, cutover to target completes only once export data
 * from target has its replication slot: from then on every write the
 * application makes on the target is captured. Before that, a write would be
 * lost for the way back, so the operator must not switch yet.
 */
static const cutover_process to_target_way_back[] = {
    {"CutoverProcessedBySourceExporter", "export data from source", "export-data-from-source"},
    {"CutoverProcessedByTargetImporter", "import data to target", "import-data-to-target"},
    {"ExportFromTargetStarted", "export data from target", "export-data-from-target"},
    {NULL, NULL, NULL},
};
static const cutover_process to_source[] = {
    {"CutoverProcessedByTargetExporter", "export data from target", "export-data-from-target"},
    {"CutoverProcessedBySourceImporter", "import data to source", "import-data-to-source"},
    {NULL, NULL, NULL},
};
static const cutover_process to_source_replica[] = {
    {"CutoverProcessedByTargetExporter", "export data from target", "export-data-from-target"},
    {"CutoverProcessedBySourceReplicaImporter", "import data to source-replica",
     "import-data-to-source-replica"},
    {NULL, NULL, NULL},
};

const char *cutover_state_name(cutover_state s)
{
    switch (s) {
    case CUTOVER_NOT_INITIATED:
        return "NOT INITIATED";
    case CUTOVER_INITIATED:
        return "INITIATED";
    case CUTOVER_COMPLETED:
        return "COMPLETED";
    }
    return "?";
}

const char *cutover_kind_name(cutover_kind k)
{
    switch (k) {
    case CUTOVER_TO_TARGET:
        return "target";
    case CUTOVER_TO_SOURCE:
        return "source";
    case CUTOVER_TO_SOURCE_REPLICA:
        return "source-replica";
    }
    return "?";
}

const char *cutover_request_key(cutover_kind k)
{
    switch (k) {
    case CUTOVER_TO_TARGET:
        return "CutoverToTargetRequested";
    case CUTOVER_TO_SOURCE:
        return "CutoverToSourceRequested";
    case CUTOVER_TO_SOURCE_REPLICA:
        return "CutoverToSourceReplicaRequested";
    }
    return "?";
}

static bool flag(const cJSON *rec, const char *key);

const cutover_process *cutover_processes(const cJSON *rec, cutover_kind k)
{
    switch (k) {
    case CUTOVER_TO_TARGET:
        return flag(rec, "FallbackEnabled") || flag(rec, "FallForwardEnabled") ? to_target_way_back
                                                                               : to_target;
    case CUTOVER_TO_SOURCE:
        return to_source;
    case CUTOVER_TO_SOURCE_REPLICA:
        return to_source_replica;
    }
    return to_target;
}

static bool flag(const cJSON *rec, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, key));
}

cutover_state cutover_state_of(const cJSON *rec, cutover_kind k)
{
    if (!flag(rec, cutover_request_key(k)))
        return CUTOVER_NOT_INITIATED;
    for (const cutover_process *p = cutover_processes(rec, k); p->command; p++)
        if (!flag(rec, p->done_key))
            return CUTOVER_INITIATED;
    return CUTOVER_COMPLETED;
}

bool cutover_applies(const cJSON *rec, cutover_kind k)
{
    switch (k) {
    case CUTOVER_TO_TARGET:
        return true;
    case CUTOVER_TO_SOURCE:
        return flag(rec, "FallbackEnabled");
    case CUTOVER_TO_SOURCE_REPLICA:
        return flag(rec, "FallForwardEnabled");
    }
    return false;
}
