#include "catalog/compare_state.h"
#include "catalog/export_state.h"

bool compare_state_migrated_tables(catalog *m, strlist *schemas, strlist *names)
{
    export_table_rows rows;
    if (!export_state_tables(m, true, &rows))
        return false;
    for (size_t i = 0; i < rows.count; i++) {
        strlist_push(schemas, rows.items[i].schema);
        strlist_push(names, rows.items[i].table);
    }
    export_table_rows_free(&rows);
    return true;
}
