/*
 * The schema analysis report: one JSON document (SPEC "analyze-schema report"),
 * rendered as json, html, txt or xml from that same document.
 */
#ifndef VOYAGER_SCHEMA_ANALYZE_REPORT_H
#define VOYAGER_SCHEMA_ANALYZE_REPORT_H

#include "schema/analyze/analyze.h"

#include <cjson/cJSON.h>

typedef struct an_report_meta {
    const char *voyager_version;
    const char *target_db_version;
    const char *db_name;      /* "" when unknown */
    const char *db_version;   /* "" when unknown */
    const char *schema_names; /* comma list, "" when unknown */
} an_report_meta;

/* LOW / MEDIUM / HIGH (rule in report_json.c). */
const char *an_migration_complexity(const analysis *a);

/* The report document. Caller frees with cJSON_Delete(). */
cJSON *an_report_build(const analysis *a, const an_report_meta *meta);

/* Render the document: format is json, html, txt or xml. Caller frees; NULL for an unknown format. */
char *an_report_render(const cJSON *report, const char *format);

/* MinimumVersionsFixedIn (null or a map) as text for html/txt/xml: "2.25: 2.25.0.0, ..."; "" when null. Caller frees. */
char *an_min_fixed_text(const cJSON *mv);

/* Renderers (one file each). Caller frees. */
char *an_render_json(const cJSON *report);
char *an_render_html(const cJSON *report);
char *an_render_txt(const cJSON *report);
char *an_render_xml(const cJSON *report);

#endif
