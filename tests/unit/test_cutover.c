/* The cutover state machine over the status record. */
#include "testlib.h"

#include "migration/cutover.h"

static cJSON *rec_with(const char *const *true_keys)
{
    cJSON *r = cJSON_CreateObject();
    for (; *true_keys; true_keys++)
        cJSON_AddBoolToObject(r, *true_keys, true);
    return r;
}

#define REC(...) rec_with((const char *const[]){__VA_ARGS__, NULL})

TEST(cutover_to_target_states)
{
    cJSON *r = REC("ExportDataDone");
    CHECK(cutover_state_of(r, CUTOVER_TO_TARGET) == CUTOVER_NOT_INITIATED);
    cJSON_Delete(r);
    r = REC("CutoverToTargetRequested", "CutoverProcessedBySourceExporter");
    CHECK(cutover_state_of(r, CUTOVER_TO_TARGET) == CUTOVER_INITIATED);
    cJSON_Delete(r);
    r = REC("CutoverToTargetRequested", "CutoverProcessedBySourceExporter",
            "CutoverProcessedByTargetImporter");
    CHECK(cutover_state_of(r, CUTOVER_TO_TARGET) == CUTOVER_COMPLETED);
    CHECK_STR_EQ(cutover_state_name(cutover_state_of(r, CUTOVER_TO_TARGET)), "COMPLETED");
    /* the other cutovers are not part of this migration */
    CHECK(!cutover_applies(r, CUTOVER_TO_SOURCE));
    CHECK(!cutover_applies(r, CUTOVER_TO_SOURCE_REPLICA));
    cJSON_Delete(r);
}

TEST(cutover_back_and_forward_need_their_processes)
{
    cJSON *r = REC("FallbackEnabled", "CutoverToSourceRequested", "CutoverProcessedBySourceImporter");
    CHECK(cutover_applies(r, CUTOVER_TO_SOURCE));
    CHECK(cutover_state_of(r, CUTOVER_TO_SOURCE) == CUTOVER_INITIATED); /* target exporter missing */
    cJSON_Delete(r);
    r = REC("FallForwardEnabled", "CutoverToSourceReplicaRequested",
            "CutoverProcessedByTargetExporter", "CutoverProcessedBySourceReplicaImporter");
    CHECK(cutover_state_of(r, CUTOVER_TO_SOURCE_REPLICA) == CUTOVER_COMPLETED);
    CHECK(cutover_state_of(r, CUTOVER_TO_SOURCE) == CUTOVER_NOT_INITIATED);
    cJSON_Delete(r);
    r = REC("ExportDataDone");
    const cutover_process *p = cutover_processes(r, CUTOVER_TO_TARGET);
    CHECK_STR_EQ(p[0].command, "export data from source");
    CHECK_STR_EQ(p[1].lock_name, "import-data-to-target");
    CHECK(p[2].command == NULL);
    cJSON_Delete(r);
}

TEST(cutover_to_target_with_a_way_back_waits_for_target_capture)
{
    /* Until export data from target has its slot, target writes would be lost for the way back. */
    cJSON *r = REC("FallbackEnabled", "CutoverToTargetRequested", "CutoverProcessedBySourceExporter",
                   "CutoverProcessedByTargetImporter");
    CHECK(cutover_state_of(r, CUTOVER_TO_TARGET) == CUTOVER_INITIATED);
    const cutover_process *p = cutover_processes(r, CUTOVER_TO_TARGET);
    CHECK_STR_EQ(p[2].command, "export data from target");
    CHECK_STR_EQ(p[2].done_key, "ExportFromTargetStarted");
    cJSON_AddBoolToObject(r, "ExportFromTargetStarted", true);
    CHECK(cutover_state_of(r, CUTOVER_TO_TARGET) == CUTOVER_COMPLETED);
    cJSON_Delete(r);
    r = REC("FallForwardEnabled", "CutoverToTargetRequested", "CutoverProcessedBySourceExporter",
            "CutoverProcessedByTargetImporter");
    CHECK(cutover_state_of(r, CUTOVER_TO_TARGET) == CUTOVER_INITIATED);
    cJSON_Delete(r);
}
