#include "core/exportdir.h"

#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const exportdir_subdirs[] = {"schema", "data", "metainfo", "reports", "logs", "temp",
                                         NULL};

char *exportdir_prepare(const char *dir)
{
    if (!dir || !*dir) {
        log_error("--export-dir is empty; give the path of an existing directory");
        return NULL;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            log_error("export directory %s does not exist; create it first (mkdir -p %s) or fix "
                      "--export-dir",
                      dir, dir);
        else
            log_error("cannot access export directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        log_error("--export-dir %s is not a directory; give the path of a directory", dir);
        return NULL;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        log_error("export directory %s is not writable by this user; fix its permissions or "
                  "choose another --export-dir",
                  dir);
        return NULL;
    }
    char abs[PATH_MAX];
    if (!realpath(dir, abs)) {
        log_error("cannot resolve export directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    for (int i = 0; exportdir_subdirs[i]; i++) {
        char *p = xasprintf("%s/%s", abs, exportdir_subdirs[i]);
        bool ok = fs_is_dir(p) || fs_mkdir_p(p, 0700);
        if (!ok) {
            log_error("cannot create %s: %s; check the export dir's permissions", p,
                      strerror(errno));
            free(p);
            return NULL;
        }
        free(p);
    }
    return xstrdup(abs);
}
