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
