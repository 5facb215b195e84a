/* log: one line per event on stderr, with journald priority prefixes under systemd. */
#ifndef ENRICHD_DAEMON_LOG_H
#define ENRICHD_DAEMON_LOG_H

/* syslog priorities, as journald reads them from `<N>` prefixes */
enum log_level {
    LOG_LEVEL_ERR = 3,
    LOG_LEVEL_WARNING = 4,
    LOG_LEVEL_NOTICE = 5,
    LOG_LEVEL_INFO = 6,
    LOG_LEVEL_DEBUG = 7
};

/* Messages above this level are dropped before their arguments are evaluated. */
extern enum log_level log_max_level;

/* Reads JOURNAL_STREAM (prefixes, no timestamps) and ENRICHD_LOG_LEVEL (err, warning, notice,
 * info, debug). Call once at start. */
void log_init(void);

/* Writes one line: "<N>" prefix under journald, else a UTC timestamp and the level name.
 * Thread-safe (one write(2) per line). */
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

#endif
