/* Tests for daemon/metrics and daemon/http: registry, text format, standard set, listener. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/http.h"
#include "daemon/metrics.h"
#include "tests/http_client.h"

static char *render(struct metrics_registry *reg)
{
    char *text;
    size_t len;

    cr_assert_eq(metrics_render(reg, &text, &len), 0);
    cr_assert_eq(strlen(text), len);
    return text;
}

/* Asserts that text contains line as a whole line. */
static void assert_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    const char *p = text;

    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return;
        p++;
    }
    cr_assert_fail("line '%s' not found in:\n%s", line, text);
}

Test(metrics, renders_counters_and_gauges_in_text_format)
{
    struct metrics_registry *reg = metrics_registry_new();
    struct metric *c = metrics_add(reg, METRIC_COUNTER, "enrichd_test_events_total", "events seen",
                                   NULL, NULL, 1, NULL, 0);
    struct metric *g = metrics_add(reg, METRIC_GAUGE, "enrichd_test_depth_messages", "depth", NULL,
                                   NULL, 1, NULL, 0);
    char *text;

    cr_assert_not_null(c);
    metrics_counter_add(c, NULL, NULL, 2);
    metrics_counter_add(c, NULL, NULL, 3);
    metrics_gauge_set(g, NULL, NULL, 10);
    metrics_gauge_add(g, NULL, NULL, -4);
    text = render(reg);
    cr_assert_str_eq(text, "# HELP enrichd_test_events_total events seen\n"
                           "# TYPE enrichd_test_events_total counter\n"
                           "enrichd_test_events_total 5\n"
                           "# HELP enrichd_test_depth_messages depth\n"
                           "# TYPE enrichd_test_depth_messages gauge\n"
                           "enrichd_test_depth_messages 6\n");
    free(text);
    metrics_registry_free(reg);
}

Test(metrics, keeps_one_series_per_label_value_and_escapes_it)
{
    struct metrics_registry *reg = metrics_registry_new();
    struct metric *c = metrics_add(reg, METRIC_COUNTER, "enrichd_test_dropped_total", "dropped",
                                   "reason", NULL, 8, NULL, 0);
    char *text;

    metrics_counter_add(c, "too_large", NULL, 1);
    metrics_counter_add(c, "invalid_json", NULL, 1);
    metrics_counter_add(c, "too_large", NULL, 1);
    metrics_counter_add(c, "a\"b\\c\nd", NULL, 1);
    cr_assert_eq(metrics_counter_get(c, "too_large", NULL), 2);
    cr_assert_eq(metrics_counter_get(c, "missing", NULL), 0);
    text = render(reg);
    assert_line(text, "enrichd_test_dropped_total{reason=\"too_large\"} 2");
    assert_line(text, "enrichd_test_dropped_total{reason=\"invalid_json\"} 1");
    assert_line(text, "enrichd_test_dropped_total{reason=\"a\\\"b\\\\c\\nd\"} 1");
    free(text);
    metrics_registry_free(reg);
}

Test(metrics, truncates_long_label_values_to_one_series)
{
    struct metrics_registry *reg = metrics_registry_new();
    struct metric *c =
        metrics_add(reg, METRIC_COUNTER, "enrichd_test_t_total", "t", "topic", NULL, 4, NULL, 0);
    char a[300], b[300];

    memset(a, 'x', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    memcpy(b, a, sizeof(b));
    b[200] = 'y'; /* differs only after the kept prefix */
    metrics_counter_add(c, a, NULL, 1);
    metrics_counter_add(c, b, NULL, 1);
    a[METRICS_LABEL_MAX - 1] = '\0';
    cr_assert_eq(metrics_counter_get(c, a, NULL), 2);
    a[10] = '\0';
    cr_assert_eq(metrics_counter_get(c, a, NULL), 0);
    metrics_registry_free(reg);
}

Test(metrics, sends_values_beyond_capacity_to_an_other_series)
{
    struct metrics_registry *reg = metrics_registry_new();
    struct metric *c = metrics_add(reg, METRIC_COUNTER, "enrichd_test_x_total", "x", "stage",
                                   "result", 2, NULL, 0);
    char *text;

    metrics_counter_add(c, "lang", "ok", 1);
    metrics_counter_add(c, "entities", "ok", 1);
    metrics_counter_add(c, "numfacts", "ok", 1);
    metrics_counter_add(c, "numfacts", "error", 4);
    text = render(reg);
    assert_line(text, "enrichd_test_x_total{stage=\"lang\",result=\"ok\"} 1");
    assert_line(text, "enrichd_test_x_total{stage=\"entities\",result=\"ok\"} 1");
    assert_line(text, "enrichd_test_x_total{stage=\"other\",result=\"other\"} 5");
    cr_assert_null(strstr(text, "numfacts"));
    free(text);
    metrics_registry_free(reg);
}

Test(metrics, renders_cumulative_histogram_buckets_sum_and_count)
{
    static const double b[] = {0.001, 0.01, 0.1};
    struct metrics_registry *reg = metrics_registry_new();
    struct metric *h = metrics_add(reg, METRIC_HISTOGRAM, "enrichd_test_duration_seconds", "d",
                                   "stage", NULL, 4, b, 3);
    char *text;

    metrics_histogram_observe(h, "lang", NULL, 0.0005);
    metrics_histogram_observe(h, "lang", NULL, 0.001); /* le is inclusive */
    metrics_histogram_observe(h, "lang", NULL, 0.05);
    metrics_histogram_observe(h, "lang", NULL, 2.0);
    text = render(reg);
    assert_line(text, "# TYPE enrichd_test_duration_seconds histogram");
    assert_line(text, "enrichd_test_duration_seconds_bucket{stage=\"lang\",le=\"0.001\"} 2");
    assert_line(text, "enrichd_test_duration_seconds_bucket{stage=\"lang\",le=\"0.01\"} 2");
    assert_line(
        text, "enrichd_test_duration_seconds_bucket{stage=\"lang\",le=\"0.10000000000000001\"} 3");
    assert_line(text, "enrichd_test_duration_seconds_bucket{stage=\"lang\",le=\"+Inf\"} 4");
    assert_line(text, "enrichd_test_duration_seconds_sum{stage=\"lang\"} 2.0514999999999999");
    assert_line(text, "enrichd_test_duration_seconds_count{stage=\"lang\"} 4");
    free(text);
    metrics_registry_free(reg);
}

Test(metrics, hides_labelled_gauges_until_set_and_after_clear)
{
    struct metrics_registry *reg = metrics_registry_new();
    struct metric *g = metrics_add(reg, METRIC_GAUGE, "enrichd_test_lag_messages", "lag", "topic",
                                   "partition", 16, NULL, 0);
    char *text;

    metrics_gauge_set(g, "news", "0", 7);
    text = render(reg);
    assert_line(text, "enrichd_test_lag_messages{topic=\"news\",partition=\"0\"} 7");
    free(text);
    metrics_gauge_clear(g);
    cr_assert_eq(metrics_gauge_get(g, "news", "0"), 0);
    text = render(reg);
    cr_assert_null(strstr(text, "partition="), "%s", text);
    free(text);
    metrics_registry_free(reg);
}

static struct metric *race_counter;

static void *count_a_lot(void *arg)
{
    const char *label = arg;
    for (int i = 0; i < 100000; i++)
        metrics_counter_add(race_counter, label, NULL, 1);
    return NULL;
}

Test(metrics, counts_exactly_under_concurrent_updates)
{
    struct metrics_registry *reg = metrics_registry_new();
    static char *labels[] = {"a", "b", "a", "b"};
    pthread_t t[4];

    race_counter =
        metrics_add(reg, METRIC_COUNTER, "enrichd_test_race_total", "r", "l", NULL, 4, NULL, 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, count_a_lot, labels[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(metrics_counter_get(race_counter, "a", NULL), 200000);
    cr_assert_eq(metrics_counter_get(race_counter, "b", NULL), 200000);
    metrics_registry_free(reg);
}

Test(metrics, standard_set_counts_what_the_daemon_reports)
{
    char *text;

    metrics_on_consume(100);
    metrics_on_consume(50);
    metrics_on_produce();
    metrics_on_deadletter("not_json");
    metrics_on_deadletter("not_json");
    metrics_on_delivery_error("_MSG_TIMED_OUT");
    metrics_transactions_start();
    metrics_on_transaction(true);
    metrics_on_transaction(false);
    metrics_on_transaction(true);
    metrics_on_stage("lang", 0.0002, false);
    metrics_on_stage("entities", 0.003, true);
    metrics_set_inflight(3, 4096);
    metrics_set_paused_partitions(2);
    text = render(metrics_default());
    {
        const char *bi = strstr(text, "\nenrichd_build_info{version=\"");
        cr_assert_not_null(bi, "%s", text);
        bi += strlen("\nenrichd_build_info{version=\"");
        cr_assert(bi[0] >= '0' && bi[0] <= '9', "%s", bi);
        cr_assert_eq(strncmp(strchr(bi, '"'), "\"} 1\n", 5), 0, "%s", bi);
    }
    assert_line(text, "enrichd_consumer_messages_total 2");
    assert_line(text, "enrichd_consumer_bytes_total 150");
    assert_line(text, "enrichd_producer_messages_total 1");
    assert_line(text, "enrichd_deadletter_messages_total{reason=\"not_json\"} 2");
    assert_line(text, "enrichd_producer_delivery_errors_total{error=\"_MSG_TIMED_OUT\"} 1");
    assert_line(text, "enrichd_producer_transactions_total{result=\"committed\"} 2");
    assert_line(text, "enrichd_producer_transactions_total{result=\"aborted\"} 1");
    assert_line(text, "enrichd_stage_documents_total{stage=\"lang\",result=\"ok\"} 1");
    assert_line(text, "enrichd_stage_documents_total{stage=\"entities\",result=\"error\"} 1");
    assert_line(
        text,
        "enrichd_stage_duration_seconds_bucket{stage=\"lang\",le=\"0.00025000000000000001\"} 1");
    assert_line(text, "enrichd_stage_duration_seconds_count{stage=\"entities\"} 1");
    assert_line(text, "enrichd_pipeline_inflight_messages 3");
    assert_line(text, "enrichd_pipeline_inflight_bytes 4096");
    assert_line(text, "enrichd_consumer_paused_partitions 2");
    assert_line(text, "enrichd_health_ready 0");
    free(text);
}

/* A trimmed librdkafka consumer statistics document (see STATISTICS.md). */
static const char stats_two_partitions[] =
    "{\"name\":\"rdkafka#consumer-1\",\"type\":\"consumer\",\"ts\":1,\"topics\":{"
    "\"news\":{\"topic\":\"news\",\"partitions\":{"
    "\"0\":{\"partition\":0,\"fetch_state\":\"active\",\"hi_offset\":120,"
    "\"committed_offset\":100,\"consumer_lag\":20,\"consumer_lag_stored\":15},"
    "\"1\":{\"partition\":1,\"fetch_state\":\"active\",\"hi_offset\":7,"
    "\"committed_offset\":7,\"consumer_lag\":0},"
    "\"2\":{\"partition\":2,\"fetch_state\":\"none\",\"consumer_lag\":-1},"
    "\"-1\":{\"partition\":-1,\"consumer_lag\":-1}}}}}";

static const char stats_one_partition[] =
    "{\"type\":\"consumer\",\"topics\":{\"news\":{\"partitions\":{"
    "\"1\":{\"partition\":1,\"consumer_lag\":3}}}}}";

Test(metrics, sets_consumer_lag_from_rdkafka_statistics)
{
    char *text;

    cr_assert_eq(metrics_update_from_rdkafka_stats(stats_two_partitions), 0);
    text = render(metrics_default());
    /* Behind the stored offset (the delivered prefix) where known, else behind the commit. */
    assert_line(text, "enrichd_consumer_lag_messages{topic=\"news\",partition=\"0\"} 15");
    assert_line(text, "enrichd_consumer_lag_messages{topic=\"news\",partition=\"1\"} 0");
    cr_assert_null(strstr(text, "partition=\"2\""));
    cr_assert_null(strstr(text, "partition=\"-1\""));
    free(text);

    /* Partition 0 was revoked: its series goes away, partition 1 moves. */
    cr_assert_eq(metrics_update_from_rdkafka_stats(stats_one_partition), 0);
    text = render(metrics_default());
    cr_assert_null(strstr(text, "partition=\"0\""), "%s", text);
    assert_line(text, "enrichd_consumer_lag_messages{topic=\"news\",partition=\"1\"} 3");
    free(text);

    cr_assert_eq(metrics_update_from_rdkafka_stats("{not json"), -EINVAL);
    text = render(metrics_default());
    assert_line(text, "enrichd_consumer_lag_messages{topic=\"news\",partition=\"1\"} 3");
    free(text);
}

Test(metrics, summarises_the_standard_set_for_a_status_line)
{
    char buf[256];

    for (int i = 0; i < 5; i++)
        metrics_on_consume(10);
    metrics_on_produce();
    metrics_on_deadletter("oversized");
    metrics_on_deadletter("not_json");
    metrics_set_inflight(3, 30);
    metrics_set_paused_partitions(1);
    cr_assert_eq(metrics_update_from_rdkafka_stats(stats_two_partitions), 0);
    cr_assert_str_eq(metrics_format_status(buf, sizeof(buf)),
                     "consumed 5, produced 1, dead-lettered 2, in flight 3 (30 bytes), "
                     "paused 1, lag 15");
    cr_assert_str_eq(metrics_format_status(buf, 12), "consumed 5,");
}

Test(http, serves_metrics_health_and_readiness_on_an_ephemeral_port)
{
    struct errbuf err = {{0}};
    struct http_server *srv = http_server_start("127.0.0.1:0", &err);
    const char *resp;
    unsigned port;

    cr_assert_not_null(srv, "%s", err.msg);
    port = http_server_port(srv);
    cr_assert_gt(port, 0);
    metrics_on_consume(42);

    resp = http_request(port, "GET", "/metrics");
    cr_assert_eq(strncmp(resp, "HTTP/1.1 200", 12), 0, "%s", resp);
    cr_assert_not_null(strstr(resp, "Content-Type: text/plain; version=0.0.4"), "%s", resp);
    assert_line(body_of(resp), "enrichd_consumer_messages_total 1");
    assert_line(body_of(resp), "enrichd_consumer_bytes_total 42");

    resp = http_request(port, "GET", "/healthz");
    cr_assert_eq(strncmp(resp, "HTTP/1.1 200", 12), 0, "%s", resp);
    cr_assert_str_eq(body_of(resp), "ok\n");

    resp = http_request(port, "GET", "/readyz");
    cr_assert_eq(strncmp(resp, "HTTP/1.1 503", 12), 0, "%s", resp);
    metrics_set_ready(true);
    resp = http_request(port, "GET", "/readyz");
    cr_assert_eq(strncmp(resp, "HTTP/1.1 200", 12), 0, "%s", resp);
    cr_assert_str_eq(body_of(resp), "ready\n");
    assert_line(body_of(http_request(port, "GET", "/metrics")), "enrichd_health_ready 1");
    metrics_set_ready(false);
    resp = http_request(port, "GET", "/readyz");
    cr_assert_eq(strncmp(resp, "HTTP/1.1 503", 12), 0, "%s", resp);

    resp = http_request(port, "GET", "/");
    cr_assert_eq(strncmp(resp, "HTTP/1.1 404", 12), 0, "%s", resp);
    resp = http_request(port, "GET", "/metrics/../etc/passwd");
    cr_assert_eq(strncmp(resp, "HTTP/1.1 404", 12), 0, "%s", resp);
    resp = http_request(port, "POST", "/metrics");
    cr_assert_eq(strncmp(resp, "HTTP/1.1 405", 12), 0, "%s", resp);
    cr_assert_not_null(strstr(resp, "Allow: GET, HEAD"), "%s", resp);
    resp = http_request(port, "HEAD", "/healthz");
    cr_assert_eq(strncmp(resp, "HTTP/1.1 200", 12), 0, "%s", resp);
    cr_assert_str_eq(body_of(resp), "");

    http_server_stop(srv);
}

Test(http, rejects_bad_listen_addresses)
{
    struct errbuf err = {{0}};

    cr_assert_null(http_server_start("localhost", &err));
    cr_assert_str_eq(err.msg, "metrics listen: 'localhost': expected HOST:PORT");
    cr_assert_null(http_server_start("127.0.0.1:99999", &err));
    cr_assert_str_eq(err.msg, "metrics listen: '127.0.0.1:99999': bad port");
    cr_assert_null(http_server_start("example.org:9464", &err));
    cr_assert_not_null(strstr(err.msg, "not an IPv4 address"), "%s", err.msg);
    cr_assert_null(http_server_start("", &err));
}

Test(http, listens_on_ipv6_loopback)
{
    struct errbuf err = {{0}};
    struct http_server *srv = http_server_start("[::1]:0", &err);

    /* Some containers have no IPv6 loopback; the address must still parse. */
    if (srv == NULL) {
        cr_assert_not_null(strstr(err.msg, "cannot listen"), "%s", err.msg);
        return;
    }
    cr_assert_gt(http_server_port(srv), 0);
    http_server_stop(srv);
}

Test(http, reports_a_port_in_use)
{
    struct errbuf err = {{0}};
    struct http_server *a = http_server_start("127.0.0.1:0", &err);
    char listen[64];

    cr_assert_not_null(a, "%s", err.msg);
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", http_server_port(a));
    cr_assert_null(http_server_start(listen, &err));
    cr_assert_not_null(strstr(err.msg, "cannot listen"), "%s", err.msg);
    http_server_stop(a);
}
