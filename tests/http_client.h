/* http_client: a bare HTTP/1.1 client for the listener tests; failures are Criterion
 * assertions. */
#ifndef ENRICHD_TESTS_HTTP_CLIENT_H
#define ENRICHD_TESTS_HTTP_CLIENT_H

/* Sends one request to 127.0.0.1:port and returns the whole response, status line and
 * headers included (a static buffer, overwritten by the next call). */
const char *http_request(unsigned port, const char *method, const char *path);

/* The body of a response returned by http_request. */
const char *body_of(const char *resp);

#endif
