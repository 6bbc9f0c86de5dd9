/* The export directory: checks and layout. */
#ifndef VOYAGER_CORE_EXPORTDIR_H
#define VOYAGER_CORE_EXPORTDIR_H

#include <stdbool.h>

/* Subdirectories created on first use, mode 0700. */
extern const char *const exportdir_subdirs[];

/*
 * Check that dir exists, is a directory and is writable, then create the
 * layout. Returns the absolute path (caller frees), or NULL after one error
 * line naming the directory and the fix.
 */
char *exportdir_prepare(const char *dir);

#endif
