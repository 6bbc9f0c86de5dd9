/* File-system helpers with crash-safe semantics. errno is preserved on failure. */
#ifndef VOYAGER_CORE_FSUTIL_H
#define VOYAGER_CORE_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

bool fs_is_dir(const char *path);
bool fs_exists(const char *path);
/* mkdir -p with the given mode for created directories. */
bool fs_mkdir_p(const char *path, mode_t mode);
/* Write data to path crash-safely: path.tmp-<pid>, fsync, rename, fsync dir. */
bool fs_write_atomic(const char *path, const void *data, size_t len);
/* fsync the directory that contains path. */
bool fs_fsync_parent(const char *path);
/*
 * Start writing back [off, off + len) of fd now, without waiting: a hint that
 * makes the fsync at the end of a large file cheap (measured: the export's
 * fsyncs cost ~5% of its time, this brings back most of it). Errors ignored:
 * the fsync stays the durability point.
 */
void fs_start_writeback(int fd, int64_t off, int64_t len);
/* Read a whole file; caller frees *out. NUL-terminated. */
bool fs_read_all(const char *path, char **out, size_t *len);
/* rm -rf of the contents of dir (not dir itself). */
bool fs_remove_contents(const char *dir);
/* rm -rf path */
bool fs_remove_tree(const char *path);
/*
 * Copy a file or a directory tree (regular files and directories; other kinds
 * are skipped) to dst, creating dst's parents. Files are fsynced.
 */
bool fs_copy_tree(const char *src, const char *dst);
/*
 * Rename from to to, unless to exists: then false with errno EEXIST, from left
 * as it is. Never replaces a file, and no other writer of to can slip in
 * between a check and the rename: renameat2(RENAME_NOREPLACE), or link() then
 * unlink(from) on a file system without it.
 */
bool fs_rename_noreplace(const char *from, const char *to);
/* Do a and b hold the same bytes? *same is set; false (errno set) when either cannot be read. */
bool fs_same_bytes(const char *a, const char *b, bool *same);
/* Is the directory empty (or missing)? */
bool fs_dir_is_empty(const char *path);

#endif
