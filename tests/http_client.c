/* http_client: a bare HTTP/1.1 client for the listener tests (one request per connection). */
#include "tests/http_client.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Sends one request to 127.0.0.1:port and returns the whole response (static buffer). */
const char *http_request(unsigned port, const char *method, const char *path)
{
    static char buf[65536];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char req[256];
    size_t off = 0;
    int fd;

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
             method, path);
    cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        cr_assert_eq(poll(&p, 1, 5000), 1, "no response within 5 s");
        n = read(fd, buf + off, sizeof(buf) - 1 - off);
        cr_assert(n >= 0);
        if (n == 0)
            break;
        off += (size_t)n;
        cr_assert(off < sizeof(buf) - 1);
    }
    close(fd);
    buf[off] = '\0';
    return buf;
}

const char *body_of(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    cr_assert_not_null(b);
    return b + 4;
}
