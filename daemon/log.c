/* log: leveled one-line logging to stderr. */
#include "daemon/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum log_level log_max_level = LOG_LEVEL_INFO;
static int log_journal;

static const char *const log_names[] = {"emerg", "alert", "crit", "err",
                                        "warning", "notice", "info", "debug"};

void log_init(void)
{
    const char *lvl = getenv("ENRICHD_LOG_LEVEL");

    log_journal = getenv("JOURNAL_STREAM") != NULL;
    if (lvl == NULL)
        return;
    for (int i = LOG_LEVEL_ERR; i <= LOG_LEVEL_DEBUG; i++)
        if (strcasecmp(lvl, log_names[i]) == 0)
            log_max_level = (enum log_level)i;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    char line[1024];
    size_t n;
    va_list ap;

    if (log_journal) {
        n = (size_t)snprintf(line, sizeof(line), "<%d>", (int)level);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ enrichd %s: ",
                              ts.tv_nsec / 1000000, log_names[level]);
    }
    va_start(ap, fmt);
    if (n < sizeof(line))
        n += (size_t)vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}
