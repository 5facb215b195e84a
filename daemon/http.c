/* http: /metrics, /healthz and /readyz on libmicrohttpd's internal polling thread. */
#include "daemon/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/metrics.h"

#define HTTP_CONNECTION_LIMIT 32
#define HTTP_CONNECTION_TIMEOUT 10 /* seconds */

struct http_server {
    struct MHD_Daemon *mhd;
    unsigned port;
};

/* Parses "HOST:PORT" into addr; 0 or -EINVAL. */
static int parse_listen(const char *listen, struct sockaddr_storage *addr, bool *ipv6,
                        struct errbuf *err)
{
    char host[128];
    const char *colon, *hstart, *hend;
    char *end;
    unsigned long port;

    memset(addr, 0, sizeof(*addr));
    if (listen == NULL || listen[0] == '\0')
        return errbuf_set(err, -EINVAL, "metrics listen: must not be empty");
    if (listen[0] == '[') {
        hstart = listen + 1;
        hend = strchr(listen, ']');
        if (hend == NULL || hend[1] != ':')
            return errbuf_set(err, -EINVAL, "metrics listen: '%s': expected [IPV6]:PORT",
                              listen);
        colon = hend + 1;
        *ipv6 = true;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL)
            return errbuf_set(err, -EINVAL, "metrics listen: '%s': expected HOST:PORT",
                              listen);
        hstart = listen;
        hend = colon;
        *ipv6 = false;
    }
    if ((size_t)(hend - hstart) >= sizeof(host))
        return errbuf_set(err, -EINVAL, "metrics listen: '%s': host too long", listen);
    memcpy(host, hstart, (size_t)(hend - hstart));
    host[hend - hstart] = '\0';
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port > 65535)
        return errbuf_set(err, -EINVAL, "metrics listen: '%s': bad port", listen);
    if (*ipv6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return errbuf_set(err, -EINVAL, "metrics listen: '%s': bad IPv6 address", host);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return errbuf_set(err, -EINVAL,
                              "metrics listen: '%s': not an IPv4 address (names are not "
                              "resolved)",
                              host);
    }
    return 0;
}

/* Queues a response that owns body (freed by MHD), or copies a static one. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, size_t len, bool owned)
{
    struct MHD_Response *resp;
    enum MHD_Result rc;

    resp = MHD_create_response_from_buffer(len, body,
                                           owned ? MHD_RESPMEM_MUST_FREE
                                                 : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    return reply(conn, status, "text/plain; charset=utf-8", (char *)text, strlen(text), false);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    bool known;

    (void)cls;
    (void)version;
    (void)upload_data;
    /* Nothing here reads a body: answer as soon as the headers are in; MHD closes the
     * connection when a client still sends one. */
    *upload_data_size = 0;
    *con_cls = NULL;
    known = strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0 ||
            strcmp(url, "/readyz") == 0;
    if (!known)
        return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (strcmp(url, "/healthz") == 0)
        return reply_text(conn, MHD_HTTP_OK, "ok\n");
    if (strcmp(url, "/readyz") == 0)
        return metrics_ready() ? reply_text(conn, MHD_HTTP_OK, "ready\n")
                               : reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
    {
        struct metrics_registry *reg = metrics_default();
        char *text;
        size_t len;

        if (reg == NULL || metrics_render(reg, &text, &len) != 0)
            return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
        return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len,
                     true);
    }
}

struct http_server *http_server_start(const char *listen, struct errbuf *err)
{
    struct sockaddr_storage addr;
    struct http_server *srv;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
    bool ipv6 = false;

    if (parse_listen(listen, &addr, &ipv6, err) != 0)
        return NULL;
    if (ipv6)
        flags |= MHD_USE_IPv6;
    if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES)
        flags |= MHD_USE_POLL;
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        errbuf_set(err, -ENOMEM, "metrics listen: out of memory");
        return NULL;
    }
    /* The port argument is ignored when MHD_OPTION_SOCK_ADDR gives the whole address. */
    srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR,
                                (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
                                (unsigned)HTTP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
                                (unsigned)HTTP_CONNECTION_TIMEOUT, MHD_OPTION_END);
    if (srv->mhd == NULL) {
        errbuf_set(err, -EADDRNOTAVAIL,
                   "metrics listen: cannot listen on '%s' (address in use or not local?)",
                   listen);
        free(srv);
        return NULL;
    }
    info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info != NULL ? info->port : 0;
    return srv;
}

unsigned http_server_port(const struct http_server *srv)
{
    return srv != NULL ? srv->port : 0;
}

void http_server_stop(struct http_server *srv)
{
    if (srv == NULL)
        return;
    MHD_stop_daemon(srv->mhd);
    free(srv);
}
