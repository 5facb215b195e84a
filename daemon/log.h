/* log: one line per event on stderr, with journald priority prefixes under systemd. */
#ifndef ENRICHD_DAEMON_LOG_H
#define ENRICHD_DAEMON_LOG_H

#include <stdint.h>

/* syslog priorities, as journald reads them from `<N>` prefixes */
enum log_level {
    LOG_LEVEL_ERR = 3,
    LOG_LEVEL_WARNING = 4,
    LOG_LEVEL_NOTICE = 5,
    LOG_LEVEL_INFO = 6,
    LOG_LEVEL_DEBUG = 7
};

/* Messages above this level are dropped before their arguments are evaluated. Atomic: a
 * reload changes it while other threads log. */
extern _Atomic enum log_level log_max_level;

/* Reads JOURNAL_STREAM (prefixes, no timestamps, when it names our stderr) and
 * ENRICHD_LOG_LEVEL (err, warning, notice, info, debug). Call once at start. */
void log_init(void);

/* Applies the config's [log] level (err, warning, notice, info, debug) unless
 * ENRICHD_LOG_LEVEL is set, which wins. Returns the level in force. */
enum log_level log_set_conf_level(const char *name);

/* The name of level ("info"). */
const char *log_level_name(enum log_level level);

/* Writes one line: "<N>" prefix under journald, else a UTC timestamp and the level name.
 * Thread-safe (one write(2) per line). */
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A limit for warnings that one message can cause (a bad record, a failed offset store): at
 * most burst lines per window_ms, then one line that counts what was suppressed. Not
 * thread-safe: one per thread (the daemon's live on the loop).
 */
struct log_ratelimit {
    uint64_t window_ms;
    unsigned burst;
    uint64_t window_start_ms; /* state, zero-initialise */
    unsigned n_in_window;
    unsigned long suppressed;
};
#define LOG_RATELIMIT_INIT(window_ms, burst)                                                       \
    {                                                                                              \
        (window_ms), (burst), 0, 0, 0                                                              \
    }

/* Returns 1 when a line may be written at now_ms (a monotonic clock), 0 when it is to be
 * suppressed; the first line of a new window is preceded by the count of those suppressed. */
int log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ms);

#define LOG_AT(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) <= log_max_level)                                                              \
            log_write((level), __VA_ARGS__);                                                       \
    } while (0)
#define log_err(...) LOG_AT(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) LOG_AT(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...) LOG_AT(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)
/* log_warn under the rate limit rl at now_ms. */
#define log_warn_limited(rl, now_ms, ...)                                                          \
    do {                                                                                           \
        if (LOG_LEVEL_WARNING <= log_max_level && log_ratelimit_allow((rl), (now_ms)))             \
            log_write(LOG_LEVEL_WARNING, __VA_ARGS__);                                             \
    } while (0)

#endif
