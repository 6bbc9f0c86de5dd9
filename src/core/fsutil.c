#include "core/fsutil.h"

#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

bool fs_mkdir_p(const char *path, mode_t mode)
{
    char *p = xstrdup(path);
    bool ok = true;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, mode) != 0 && errno != EEXIST) {
                ok = false;
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    if (ok && !fs_is_dir(path)) {
        errno = ENOTDIR;
        ok = false;
    }
    int saved = errno;
    free(p);
    errno = saved;
    return ok;
}

bool fs_fsync_parent(const char *path)
{
    char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return false;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc == 0;
}

bool fs_write_atomic(const char *path, const void *data, size_t len)
{
    char *tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        free(tmp);
        return false;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto fail;
    free(tmp);
    return fs_fsync_parent(path);
fail:;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    errno = saved;
    return false;
}

bool fs_read_all(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rbe");
    if (!f)
        return false;
    strbuf sb = STRBUF_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        strbuf_append_len(&sb, buf, n);
    bool err = ferror(f);
    int saved = errno;
    fclose(f);
    if (err) {
        strbuf_free(&sb);
        errno = saved;
        return false;
    }
    if (len)
        *len = sb.len;
    *out = strbuf_detach(&sb);
    return true;
}

static bool remove_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT;
    bool ok = true;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name);
        if (!fs_remove_tree(p))
            ok = false;
        free(p);
    }
    closedir(d);
    return ok;
}

bool fs_remove_contents(const char *dir)
{
    return remove_entries(dir);
}

bool fs_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT;
    if (S_ISDIR(st.st_mode)) {
        if (!remove_entries(path))
            return false;
        return rmdir(path) == 0;
    }
    return unlink(path) == 0;
}

bool fs_rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return true;
    /* EINVAL: this file system cannot do it (NFS, older kernels); link() fails on EEXIST too */
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return false;
    if (link(from, to) != 0)
        return false;
    unlink(from);
    return true;
}

/* Read up to len bytes (fewer only at the end of the file); -1 on error. */
static ssize_t read_full(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

bool fs_same_bytes(const char *a, const char *b, bool *same)
{
    *same = false;
    int fa = open(a, O_RDONLY | O_CLOEXEC);
    if (fa < 0)
        return false;
    int fb = open(b, O_RDONLY | O_CLOEXEC);
    if (fb < 0) {
        int saved = errno;
        close(fa);
        errno = saved;
        return false;
    }
    struct stat sa, sb;
    bool ok = fstat(fa, &sa) == 0 && fstat(fb, &sb) == 0;
    if (ok && sa.st_size == sb.st_size) {
        /* two buffers of 64 KiB: a segment is up to 1 GiB, never read whole */
        char *ba = xmalloc(1 << 16), *bb = xmalloc(1 << 16);
        for (;;) {
            ssize_t na = read_full(fa, ba, 1 << 16), nb = read_full(fb, bb, 1 << 16);
            if (na < 0 || nb < 0) {
                ok = false;
                break;
            }
            if (na != nb || memcmp(ba, bb, (size_t)na) != 0)
                break;
            if (na == 0) {
                *same = true;
                break;
            }
        }
        free(ba);
        free(bb);
    }
    int saved = errno;
    close(fa);
    close(fb);
    errno = saved;
    return ok;
}

bool fs_dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return true;
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = false;
            break;
        }
    }
    closedir(d);
    return empty;
}

static bool copy_file(const char *src, const char *dst, mode_t mode)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return false;
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 0777);
    if (out < 0) {
        int saved = errno;
        close(in);
        errno = saved;
        return false;
    }
    char buf[1 << 16];
    bool ok = true;
    ssize_t n;
    while (ok && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ok = false;
            break;
        }
        for (ssize_t off = 0; ok && off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR)
                ok = false;
            else if (w > 0)
                off += w;
        }
    }
    int saved = errno;
    if (ok && fsync(out) != 0)
        ok = false;
    close(in);
    if (close(out) != 0)
        ok = false;
    errno = saved;
    return ok;
}

bool fs_copy_tree(const char *src, const char *dst)
{
    struct stat st;
    if (lstat(src, &st) != 0)
        return false;
    if (S_ISREG(st.st_mode)) {
        char *parent = xstrdup(dst);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent)
            *slash = '\0';
        bool ok = (slash == NULL || fs_is_dir(parent) || fs_mkdir_p(parent, 0700)) &&
                  copy_file(src, dst, st.st_mode);
        free(parent);
        return ok;
    }
    if (!S_ISDIR(st.st_mode))
        return true;
    if (!fs_is_dir(dst) && !fs_mkdir_p(dst, 0700))
        return false;
    DIR *d = opendir(src);
    if (!d)
        return false;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *s2 = xasprintf("%s/%s", src, e->d_name);
        char *d2 = xasprintf("%s/%s", dst, e->d_name);
        ok = fs_copy_tree(s2, d2);
        free(s2);
        free(d2);
    }
    closedir(d);
    return ok;
}

void fs_start_writeback(int fd, int64_t off, int64_t len)
{
#ifdef SYNC_FILE_RANGE_WRITE
    (void)sync_file_range(fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    (void)off;
    (void)len;
#endif
}
