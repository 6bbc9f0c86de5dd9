/*
 * Plain-text tables for the operator: a header line, a rule of dashes under
 * it, one line per row, each column as wide as its widest cell. The status
 * commands and the data-migration report differ only in the style.
 */
#ifndef VOYAGER_CORE_TEXT_TABLE_H
#define VOYAGER_CORE_TEXT_TABLE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct text_table_style {
    const char *sep;      /* between two cells: "  " or " | " */
    const char *rule_sep; /* between two runs of dashes in the rule: "  " or "-+-" */
    bool pad_last;        /* pad the last column too, so every line has the same width */
    size_t right_from;    /* columns from this one on are right-aligned (numbers); SIZE_MAX: none */
} text_table_style;

/*
 * The table of nrows rows of ncols cells (cells[r * ncols + c]) under
 * headers, every line ending in '\n'. Returns a string the caller frees.
 */
char *text_table_render(const text_table_style *style, const char *const *headers, size_t ncols,
                        const char *const *cells, size_t nrows);

#endif
