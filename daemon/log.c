/* log: leveled one-line logging to stderr. */
#include "daemon/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Atomic enum log_level log_max_level = LOG_LEVEL_INFO;
static int log_journal;

static const char *const log_names[] = {"emerg",   "alert",  "crit", "err",
                                        "warning", "notice", "info", "debug"};

/* JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected to journald. It is
 * inherited by children whose stderr may go elsewhere (a pipe, a file), so it counts only
 * when it names our stderr, as sd_journal_stream_fd(3) advises. */
static int log_stderr_is_journal(const char *stream)
{
    unsigned long long dev, ino;
    struct stat st;
    char end;

    if (stream == NULL || sscanf(stream, "%llu:%llu%c", &dev, &ino, &end) != 2)
        return 0;
    if (fstat(STDERR_FILENO, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Sets the level named name; unknown names leave it as it is. */
static void log_set_named(const char *name)
{
    for (int i = LOG_LEVEL_ERR; i <= LOG_LEVEL_DEBUG; i++)
        if (strcasecmp(name, log_names[i]) == 0)
            log_max_level = (enum log_level)i;
}

void log_init(void)
{
    const char *lvl = getenv("ENRICHD_LOG_LEVEL");

    log_journal = log_stderr_is_journal(getenv("JOURNAL_STREAM"));
    if (lvl != NULL)
        log_set_named(lvl);
}

enum log_level log_set_conf_level(const char *name)
{
    if (getenv("ENRICHD_LOG_LEVEL") == NULL && name != NULL)
        log_set_named(name);
    return log_max_level;
}

const char *log_level_name(enum log_level level)
{
    return level >= LOG_LEVEL_ERR && level <= LOG_LEVEL_DEBUG ? log_names[level] : "?";
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
        n += (size_t)snprintf(line + n, sizeof(line) - n,
                              ".%03ldZ enrichd %s: ", ts.tv_nsec / 1000000, log_names[level]);
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

int log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ms)
{
    if (rl->n_in_window > 0 && now_ms - rl->window_start_ms < rl->window_ms) {
        if (rl->n_in_window >= rl->burst) {
            rl->suppressed++;
            return 0;
        }
        rl->n_in_window++;
        return 1;
    }
    if (rl->suppressed > 0)
        log_write(LOG_LEVEL_WARNING, "%lu similar message(s) suppressed in the last %llu ms",
                  rl->suppressed, (unsigned long long)(now_ms - rl->window_start_ms));
    rl->window_start_ms = now_ms;
    rl->n_in_window = 1;
    rl->suppressed = 0;
    return 1;
}
