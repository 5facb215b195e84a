/* errbuf: a caller-supplied buffer for human-readable error detail (like librdkafka's errstr). */
#ifndef ENRICHD_STAGES_ERRBUF_H
#define ENRICHD_STAGES_ERRBUF_H

#include <stddef.h>

#define ERRBUF_SIZE 512

struct errbuf {
    char msg[ERRBUF_SIZE]; /* NUL-terminated; lower case, no trailing period */
};

/* Formats into err (may be NULL: then nothing happens). Always returns -EINVAL-style
 * convenience value `rc` so callers can write `return errbuf_set(err, -EINVAL, "...")`. */
int errbuf_set(struct errbuf *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Empties err (may be NULL). */
void errbuf_clear(struct errbuf *err);

#endif
