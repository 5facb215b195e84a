/* notify: sd_notify's datagram protocol (see sd_notify(3), "NOTIFY_SOCKET"), no libsystemd. */
#include "daemon/notify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define NOTIFY_STATUS_MAX 1024

int notify_send(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un addr;
    socklen_t addrlen;
    size_t plen, mlen = strlen(msg);
    ssize_t n;
    int fd, rc = 0;

    if (path == NULL || path[0] == '\0')
        return 0;
    plen = strlen(path);
    /* Only unix sockets: a path or an abstract name ('@' stands for the leading NUL). */
    if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(addr.sun_path))
        return -EINVAL;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, plen);
    if (path[0] == '@')
        addr.sun_path[0] = '\0';
    /* An abstract name's length is exact (no terminating NUL); a path may include it. */
    addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '@' ? 0 : 1));

    /* Non-blocking: the daemon calls this from its loop, which must not wait on a reader
     * that has fallen behind (a full queue drops this message with -EAGAIN instead). */
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    n = sendto(fd, msg, mlen, MSG_NOSIGNAL, (const struct sockaddr *)&addr, addrlen);
    if (n < 0)
        rc = -errno;
    else if ((size_t)n != mlen)
        rc = -EMSGSIZE;
    close(fd);
    return rc;
}

int notify_ready(void)
{
    return notify_send("READY=1");
}

int notify_stopping(void)
{
    return notify_send("STOPPING=1");
}

int notify_reloading(void)
{
    struct timespec ts;
    char msg[64];

    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
             (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
    return notify_send(msg);
}

int notify_status(const char *fmt, ...)
{
    char msg[sizeof("STATUS=") + NOTIFY_STATUS_MAX];
    va_list ap;
    size_t off = strlen("STATUS=");

    if (getenv("NOTIFY_SOCKET") == NULL)
        return 0;
    memcpy(msg, "STATUS=", off);
    va_start(ap, fmt);
    vsnprintf(msg + off, sizeof(msg) - off, fmt, ap);
    va_end(ap);
    /* One assignment per line in the protocol: a newline would start a new variable. */
    for (char *p = msg + off; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return notify_send(msg);
}

int notify_watchdog(void)
{
    return notify_send("WATCHDOG=1");
}

/* Parses a whole decimal unsigned number; 0 on success. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

uint64_t notify_watchdog_usec(void)
{
    const char *pid = getenv("WATCHDOG_PID");
    uint64_t usec, p;

    if (parse_u64(getenv("WATCHDOG_USEC"), &usec) != 0)
        return 0;
    /* WATCHDOG_PID names the process the watchdog is meant for: not us, not ours. */
    if (pid != NULL && (parse_u64(pid, &p) != 0 || p != (uint64_t)getpid()))
        return 0;
    return usec;
}

bool notify_health_check(struct notify_health *h, uint64_t now_ms, bool fatal, uint64_t delivered,
                         int64_t lag)
{
    if (h->progress_ms == 0 || delivered != h->delivered || lag <= 0) {
        h->delivered = delivered;
        h->progress_ms = now_ms;
    }
    if (fatal)
        return false;
    return now_ms - h->progress_ms <= h->stall_ms;
}

int notify_watchdog_if_healthy(struct notify_health *h, uint64_t now_ms, bool fatal,
                               uint64_t delivered, int64_t lag)
{
    int rc;

    if (!notify_health_check(h, now_ms, fatal, delivered, lag))
        return 0;
    if (getenv("NOTIFY_SOCKET") == NULL)
        return 0;
    rc = notify_watchdog();
    return rc < 0 ? rc : 1;
}
