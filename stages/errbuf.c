/* errbuf: formatting helpers for caller-supplied error buffers. */
#include "stages/errbuf.h"

#include <stdarg.h>
#include <stdio.h>

int errbuf_set(struct errbuf *err, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return rc;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return rc;
}

void errbuf_clear(struct errbuf *err)
{
    if (err != NULL)
        err->msg[0] = '\0';
}
