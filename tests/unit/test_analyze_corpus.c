/*
 * Recall and precision of analyze-schema on a broad corpus of our own
 * (tests/fixtures/analyze/corpus: sample-database schemas, pg_dump style,
 * with clean statements among the ones upstream reports), against the issues
 * written down for it in corpus.expected (kind, object type, object name).
 * bench/analyze_recall.sh runs this test and prints the figures.
 */
#include "testlib.h"

#include "core/fsutil.h"
#include "core/util.h"
#include "schema/analyze/analyze.h"

#include <stdlib.h>
#include <string.h>

#define CORPUS "tests/fixtures/analyze/corpus"

/* "kind\ttype\tname" of every expected issue, in order (a multiset). */
static bool read_expected(const char *path, strlist *out)
{
    char *data = NULL;
    size_t len;
    if (!fs_read_all(path, &data, &len))
        return false;
    strlist lines = STRLIST_INIT;
    strlist_split(&lines, data, '\n');
    for (size_t i = 0; i < lines.count; i++)
        if (lines.items[i][0] && lines.items[i][0] != '#')
            strlist_push(out, lines.items[i]);
    strlist_free(&lines);
    free(data);
    return true;
}

TEST(analyze_corpus_recall_and_precision)
{
    strlist want = STRLIST_INIT;
    if (!read_expected(CORPUS ".expected", &want)) {
        fprintf(stderr, "    run from the repository root: %s.expected not found\n", CORPUS);
        CHECK(false);
        return;
    }
    analysis *a = an_new();
    CHECK(an_add_dir(a, CORPUS "/schema", CORPUS) > 0);
    an_run(a);
    size_t n = an_issue_count(a);
    bool *used = xcalloc(want.count ? want.count : 1, sizeof(bool));
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        const an_issue *is = an_issue_at(a, i);
        char *key = xasprintf("%s\t%s\t%s", is->kind, is->object_type, is->object_name);
        /* The expected lines are trimmed: an issue upstream names no object ends with "\t". */
        for (size_t k = strlen(key); k > 0 && key[k - 1] == '\t'; k--)
            key[k - 1] = 0;
        bool found = false;
        for (size_t w = 0; w < want.count && !found; w++)
            if (!used[w] && !strcmp(want.items[w], key))
                found = used[w] = true;
        if (found)
            hits++;
        else
            fprintf(stderr, "    unexpected: %s (%s line %d)\n", key, is->file_path, is->line);
        free(key);
    }
    for (size_t w = 0; w < want.count; w++)
        if (!used[w])
            fprintf(stderr, "    missed:     %s\n", want.items[w]);
    double recall = want.count ? (double)hits / (double)want.count : 1.0;
    double precision = n ? (double)hits / (double)n : 1.0;
    fprintf(stderr, "    corpus: %zu expected, %zu reported, %zu matched: recall %.3f, precision %.3f\n", want.count,
            n, hits, recall, precision);
    free(used);
    strlist_free(&want);
    an_free(a);
    CHECK(recall >= 0.95);
    CHECK(precision >= 0.95);
}
