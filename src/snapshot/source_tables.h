/*
 * How a source table's data files are named in the export dir (data/).
 * The tables themselves come from the source (source/source.h).
 */
#ifndef VOYAGER_SNAPSHOT_SOURCE_TABLES_H
#define VOYAGER_SNAPSHOT_SOURCE_TABLES_H

#include "core/util.h"
#include "source/source.h"

/* data/<name>_data.sql naming: schema "public" omitted, '/', '.' and '%' escaped as %XX. Caller frees. */
char *src_table_file_base(const char *schema, const char *name);

#endif
