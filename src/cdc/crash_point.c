#include "cdc/crash_point.h"

#include "core/log.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

void cdc_crash_point(const char *name)
{
    static long count;
    const char *spec = getenv("YB_VOYAGER_CDC_CRASH_AT");
    if (!spec)
        return;
    size_t n = strlen(name);
    if (strncmp(spec, name, n) != 0 || spec[n] != ':')
        return;
    if (++count == atol(spec + n + 1)) {
        log_info("crash point %s reached (YB_VOYAGER_CDC_CRASH_AT): killing this process", spec);
        raise(SIGKILL);
    }
}
