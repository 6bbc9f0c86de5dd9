/*
 * analyze-schema: analyze the exported schema files and write
 * reports/schema_analysis_report.<format>. Reads only the export dir (no
 * database): the files are what import schema will apply, including the
 * operator's edits, so every run analyzes them afresh.
 */
#ifndef VOYAGER_SCHEMA_ANALYZE_ANALYZE_SCHEMA_H
#define VOYAGER_SCHEMA_ANALYZE_ANALYZE_SCHEMA_H

#include "core/engine.h"

typedef struct schema_analyze_spec {
    const char *target_db_version; /* the YugabyteDB release the report speaks for */
    const char *format;            /* lower case: html, json, txt or xml (another is refused) */
} schema_analyze_spec;

/* Analyze schema/, write the report, record AnalyzeSchemaDone. */
engine_status schema_analyze_run(const engine_ctx *eng, const schema_analyze_spec *spec);

#endif
