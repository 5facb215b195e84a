/* http: the metrics and health HTTP listener (libmicrohttpd, its own thread). */
#ifndef ENRICHD_DAEMON_HTTP_H
#define ENRICHD_DAEMON_HTTP_H

#include "stages/errbuf.h"

struct http_server;

/*
 * Starts serving on listen, "HOST:PORT" with HOST an IPv4 address or a bracketed IPv6
 * address ("127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464"); PORT 0 picks a free port. The
 * listener runs in libmicrohttpd's own thread and answers only:
 *   GET|HEAD /metrics  200, the standard registry (metrics_default()) in text format 0.0.4
 *   GET|HEAD /healthz  200 "ok" while the process lives
 *   GET|HEAD /readyz   200 "ready" when metrics_ready(), else 503 "not ready"
 *   other paths 404, other methods 405 (with Allow: GET, HEAD).
 * listen is borrowed. Returns a new server (stop with http_server_stop) or NULL with the
 * reason in err ("metrics listen: ...").
 */
struct http_server *http_server_start(const char *listen, struct errbuf *err);

/* The bound TCP port (useful after asking for port 0), or 0 when unknown. */
unsigned http_server_port(const struct http_server *srv);

/* Stops the listener thread, closes the socket and frees srv. Accepts NULL. */
void http_server_stop(struct http_server *srv);

#endif
