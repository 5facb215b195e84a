/* Integration tests of the daemon's operations surface against `enrichd broker`: /metrics,
 * /healthz and /readyz scraped while it runs, and the sd_notify messages it sends to a fake
 * NOTIFY_SOCKET. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "stages/stage.h"
#include "tests/daemon_harness.h"
#include "tests/http_client.h"

/* The value of the sample `series` (name and labels exactly as rendered) in a /metrics
 * body, or -1 when absent. */
static double sample(const char *body, const char *series)
{
    size_t n = strlen(series);

    for (const char *p = body; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

/* Scrapes /metrics until series reads want, or timeout seconds pass; returns the last value.
 * Counters move on delivery reports, which may trail what a reader already saw. */
static double wait_sample(unsigned port, const char *series, double want, double timeout)
{
    double deadline = harness_now() + timeout, v = -1;

    while (harness_now() < deadline) {
        if ((v = sample(body_of(http_request(port, "GET", "/metrics")), series)) == want)
            break;
        harness_sleep_ms(20);
    }
    return v;
}

static int status_code(const char *resp)
{
    return strncmp(resp, "HTTP/1.1 ", 9) == 0 ? atoi(resp + 9) : -1;
}

/* How many lines of file contain text. */
static int count_lines(const char *file, const char *text)
{
    char line[1024];
    int n = 0;
    FILE *f = fopen(file, "r");

    cr_assert(f != NULL);
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, text) != NULL;
    fclose(f);
    return n;
}

Test(daemon_ops, serves_metrics_health_and_readiness_while_it_runs, .timeout = 180)
{
    struct broker b;
    struct seen *s = malloc(sizeof(*s));
    char log[] = "/tmp/test_daemon_ops_XXXXXX", series[256];
    const char *resp, *body;
    int n_bad = 0;

    seen_init(s);
    close(mkstemp(log));
    broker_start(&b);
    /* Every registered stage, with the models of the source tree; statistics often enough
     * for the lag gauges to show up within the test. */
    write_conf_sections("g-metrics", 10000, "", "",
                        "[kafka.consumer]\nstatistics.interval.ms = 500\n");
    pid_t d = daemon_start_log(&b, log);
    unsigned port = daemon_http_port(log);
    cr_assert(port > 0);

    /* Ready once initialised, before any input and whether or not assigned yet. */
    resp = http_request(port, "GET", "/healthz");
    cr_assert_eq(status_code(resp), 200, "%s", resp);
    cr_assert_str_eq(body_of(resp), "ok\n");
    resp = http_request(port, "GET", "/readyz");
    cr_assert_eq(status_code(resp), 200, "%s", resp);
    cr_assert_eq(status_code(http_request(port, "GET", "/nothing")), 404);

    rd_kafka_t *prod = producer_new(&b);
    produce_range(prod, 0, 600, &n_bad);
    harness_producer_close(prod);
    cr_assert_eq(n_bad, 6);
    read_back(&b, s, 600, n_bad, 90, 0);
    assert_complete(s, 600, n_bad);

    cr_assert_eq(wait_sample(port, "enrichd_producer_messages_total", 600, 30), 600);
    body = body_of(http_request(port, "GET", "/metrics"));
    cr_assert_eq(sample(body, "enrichd_consumer_messages_total"), 606, "%s", body);
    cr_assert(sample(body, "enrichd_consumer_bytes_total") > 600 * 80);
    for (int i = 0; i < n_bad; i++) {
        struct bad_input bad = bad_kind(i);
        snprintf(series, sizeof(series), "enrichd_deadletter_messages_total{reason=\"%s\"}",
                 bad.reason);
        cr_assert_eq(wait_sample(port, series, 1, 30), 1, "%s", series);
        free(bad.value);
    }
    const char *info = strstr(body, "\nenrichd_build_info{version=\"");
    cr_assert(info != NULL && strncmp(strchr(info, '}'), "} 1\n", 4) == 0, "%s", body);
    cr_assert_eq(sample(body, "enrichd_health_ready"), 1);
    cr_assert_eq(sample(body, "enrichd_consumer_paused_partitions"), 0);
    cr_assert_eq(sample(body, "enrichd_pipeline_inflight_messages"), 0);
    cr_assert_eq(sample(body, "enrichd_pipeline_inflight_bytes"), 0);
    /* Each stage ran on every good article and on none of the rejected ones. */
    size_t n_stages = 0;
    for (size_t i = 0; stage_registry[i] != NULL; i++, n_stages++) {
        const char *name = stage_registry[i]->name;
        snprintf(series, sizeof(series),
                 "enrichd_stage_documents_total{stage=\"%s\",result=\"ok\"}", name);
        cr_assert_eq(sample(body, series), 600, "%s", series);
        snprintf(series, sizeof(series), "enrichd_stage_duration_seconds_count{stage=\"%s\"}",
                 name);
        cr_assert_eq(sample(body, series), 600, "%s", series);
        snprintf(series, sizeof(series),
                 "enrichd_stage_duration_seconds_bucket{stage=\"%s\",le=\"+Inf\"}", name);
        cr_assert_eq(sample(body, series), 600, "%s", series);
        snprintf(series, sizeof(series), "enrichd_stage_duration_seconds_sum{stage=\"%s\"}", name);
        cr_assert(sample(body, series) > 0, "%s", series);
    }
    cr_assert(n_stages > 0);
    /* Everything is delivered: once the statistics catch up, every partition lags by 0. */
    for (int p = 0; p < N_PARTITIONS; p++) {
        snprintf(series, sizeof(series),
                 "enrichd_consumer_lag_messages{topic=\"in\",partition=\"%d\"}", p);
        cr_assert_eq(wait_sample(port, series, 0, 30), 0, "%s", series);
    }

    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    /* The log speaks of offsets and reasons, never of what the articles say. */
    cr_assert(count_lines(log, "rebalance: assigned") > 0);
    cr_assert_eq(count_lines(log, "Einwohner"), 0);
    cr_assert_eq(count_lines(log, "Article 1"), 0);
    cr_assert_eq(count_lines(log, "this is not json"), 0);
    cr_assert_eq(count_lines(log, "nobody"), 0);
    unlink(log);
    unlink(conf_file);
    broker_stop(&b);
    seen_free(s);
    free(s);
}

/* ---- a fake systemd ---- */

#define FAKE_SD_MAX 4096

/* A datagram socket for NOTIFY_SOCKET and a thread that reads it at once, as systemd does,
 * keeping every message in arrival order. */
struct fake_systemd {
    int fd;
    char dir[40], path[64];
    pthread_t thread;
    pthread_mutex_t lock;
    char *msgs[FAKE_SD_MAX]; /* under lock */
    size_t n_msgs;           /* under lock */
    size_t cursor;           /* test thread only: next message fake_systemd_wait looks at */
};

static void *fake_systemd_reader(void *arg)
{
    struct fake_systemd *f = arg;
    char buf[4096];
    ssize_t n;

    while ((n = recv(f->fd, buf, sizeof(buf) - 1, 0)) >= 0) {
        buf[n] = '\0';
        if (n == 0) /* fake_systemd_close's wake-up */
            break;
        pthread_mutex_lock(&f->lock);
        if (f->n_msgs < FAKE_SD_MAX)
            f->msgs[f->n_msgs++] = strdup(buf);
        pthread_mutex_unlock(&f->lock);
    }
    return NULL;
}

static void fake_systemd_open(struct fake_systemd *f)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};

    memset(f, 0, sizeof(*f));
    strcpy(f->dir, "/tmp/test_daemon_notify_XXXXXX");
    cr_assert(mkdtemp(f->dir) != NULL);
    snprintf(f->path, sizeof(f->path), "%s/notify", f->dir);
    memcpy(addr.sun_path, f->path, strlen(f->path) + 1);
    f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    cr_assert(f->fd >= 0);
    cr_assert_eq(bind(f->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    pthread_mutex_init(&f->lock, NULL);
    cr_assert_eq(pthread_create(&f->thread, NULL, fake_systemd_reader, f), 0);
}

static void fake_systemd_close(struct fake_systemd *f)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memcpy(addr.sun_path, f->path, strlen(f->path) + 1);
    sendto(fd, "", 0, 0, (struct sockaddr *)&addr, sizeof(addr));
    close(fd);
    pthread_join(f->thread, NULL);
    close(f->fd);
    unlink(f->path);
    rmdir(f->dir);
    for (size_t i = 0; i < f->n_msgs; i++)
        free(f->msgs[i]);
    pthread_mutex_destroy(&f->lock);
}

/* Waits up to timeout seconds for a message after the cursor that starts with prefix; moves
 * the cursor past it and returns a copy in msg, or NULL. */
static char *fake_systemd_wait(struct fake_systemd *f, const char *prefix, double timeout,
                               char *msg, size_t size)
{
    double deadline = harness_now() + timeout;

    do {
        pthread_mutex_lock(&f->lock);
        for (; f->cursor < f->n_msgs; f->cursor++) {
            if (strncmp(f->msgs[f->cursor], prefix, strlen(prefix)) == 0) {
                snprintf(msg, size, "%s", f->msgs[f->cursor++]);
                pthread_mutex_unlock(&f->lock);
                return msg;
            }
        }
        pthread_mutex_unlock(&f->lock);
        harness_sleep_ms(20);
    } while (harness_now() < deadline);
    return NULL;
}

/* Removes what a notify test made, once its daemon has stopped. */
static void cleanup(struct fake_systemd *sd, const char *log, struct broker *b, struct seen *s)
{
    fake_systemd_close(sd);
    unlink(log);
    unlink(conf_file);
    broker_stop(b);
    seen_free(s);
    free(s);
}

Test(daemon_ops, tells_systemd_ready_status_watchdog_and_stopping, .timeout = 180)
{
    struct broker b;
    struct fake_systemd sd;
    struct seen *s = malloc(sizeof(*s));
    char log[] = "/tmp/test_daemon_ops_XXXXXX", msg[2048];

    seen_init(s);
    close(mkstemp(log));
    fake_systemd_open(&sd);
    broker_start(&b);
    /* librdkafka's group debugging, shown at our debug level through the loop. */
    write_conf_sections("g-notify", 10000, "", "stages =\n",
                        "[kafka.consumer]\ndebug = cgrp\n[log]\nlevel = debug\n");
    /* A 1 s watchdog: WATCHDOG=1 every 0.5 s while healthy. */
    pid_t d = daemon_start_notify(&b, log, sd.path, 1000000);

    cr_assert(fake_systemd_wait(&sd, "READY=1", 60, msg, sizeof(msg)) != NULL,
              "no READY=1 from the daemon");
    cr_assert_eq(sd.cursor, 1, "READY=1 is not the first message");
    cr_assert(fake_systemd_wait(&sd, "STATUS=consumed ", 30, msg, sizeof(msg)) != NULL);
    cr_assert(fake_systemd_wait(&sd, "WATCHDOG=1", 30, msg, sizeof(msg)) != NULL,
              "no WATCHDOG=1 from an idle, healthy daemon");

    rd_kafka_t *prod = producer_new(&b);
    produce_range(prod, 0, 300, NULL);
    harness_producer_close(prod);
    read_back(&b, s, 300, 0, 60, 0);
    assert_complete(s, 300, 0);
    /* The status line follows the work, and the watchdog keeps coming while it moves. */
    cr_assert(fake_systemd_wait(&sd, "STATUS=consumed 300, produced 300,", 30, msg, sizeof(msg)) !=
                  NULL,
              "no STATUS= line with the delivered count");
    cr_assert(fake_systemd_wait(&sd, "WATCHDOG=1", 30, msg, sizeof(msg)) != NULL);

    kill(d, SIGTERM);
    cr_assert(fake_systemd_wait(&sd, "STOPPING=1", 30, msg, sizeof(msg)) != NULL,
              "no STOPPING=1 at shutdown");
    assert_clean_exit(d, 30);
    cr_assert(count_lines(log, " enrichd debug: librdkafka CGRP") > 0);
    cleanup(&sd, log, &b, s);
}

/* Replaces the content of conf_file in one rename, as an editor saving it would. */
static void rewrite_conf(const char *group, const char *stages, const char *extra)
{
    char path[sizeof(conf_file)];

    memcpy(path, conf_file, sizeof(path));
    write_conf_sections(group, 10000, "", stages, extra);
    cr_assert_eq(rename(conf_file, path), 0);
    memcpy(conf_file, path, sizeof(path));
}

Test(daemon_ops, reloads_on_sighup_mid_stream_without_losing_or_repeating_a_message, .timeout = 240)
{
    struct broker b;
    struct fake_systemd sd;
    struct seen *s = malloc(sizeof(*s));
    char log[] = "/tmp/test_daemon_ops_XXXXXX", msg[2048], line[1024];
    int n_bad = 0;

    seen_init(s);
    close(mkstemp(log));
    fake_systemd_open(&sd);
    broker_start(&b);
    write_conf_sections("g-reload", 10000, "", "stages = lang\n", "");
    pid_t d = daemon_start_notify(&b, log, sd.path, 0);
    cr_assert(fake_systemd_wait(&sd, "READY=1", 60, msg, sizeof(msg)) != NULL);
    rd_kafka_t *prod = producer_new(&b);
    produce_range(prod, 0, 1000, &n_bad);
    cr_assert_eq(rd_kafka_flush(prod, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    wait_for_outputs(&b, 300);

    /* Mid-stream: per-stage timings on, the log down to warnings, and a group change that
     * needs new Kafka handles. */
    rewrite_conf("g-elsewhere", "stages = lang\ntiming = true\n", "[log]\nlevel = warning\n");
    kill(d, SIGHUP);
    cr_assert(fake_systemd_wait(&sd, "RELOADING=1", 30, msg, sizeof(msg)) != NULL);
    cr_assert(fake_systemd_wait(&sd, "READY=1", 60, msg, sizeof(msg)) != NULL,
              "no READY=1 after the reload");
    cr_assert(wait_for_line(log, "reload: [kafka] group_id changed: needs restart, not applied", 5,
                            line, sizeof(line)) != NULL);
    produce_range(prod, 1000, 2000, &n_bad);
    cr_assert_eq(rd_kafka_flush(prod, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);

    /* A broken config on reload: logged, and the running one stays. */
    rewrite_conf("g-reload", "stages = lang\ntiming = false\n", "[log]\nlevel = loud\n");
    kill(d, SIGHUP);
    cr_assert(fake_systemd_wait(&sd, "RELOADING=1", 30, msg, sizeof(msg)) != NULL);
    cr_assert(fake_systemd_wait(&sd, "READY=1", 60, msg, sizeof(msg)) != NULL);
    cr_assert(wait_for_line(log, "reload failed, the running configuration stays: ", 5, line,
                            sizeof(line)) != NULL);
    cr_assert(strstr(line, "[log] level: must be err, warning") != NULL, "%s", line);
    produce_range(prod, 2000, 2500, &n_bad);
    harness_producer_close(prod);

    read_back(&b, s, 2500, n_bad, 90, 1.0);
    fprintf(stderr, "reload: %d outputs, %d duplicates\n", s->total, s->duplicates);
    assert_complete(s, 2500, n_bad);
    cr_assert_eq(s->duplicates, 0);
    cr_assert_eq(s->total, 2500);
    /* Before the reload without timings, after it with them, the broken reload changing
     * nothing. */
    for (int i = 0; i < 300; i++)
        cr_assert(!s->timed[i], "article %d came out with timings", i);
    for (int i = 1000; i < 2500; i++)
        cr_assert(s->timed[i], "article %d came out without timings", i);
    /* Never left the group: one assignment, no revocation. */
    cr_assert_eq(count_lines(log, "rebalance: assigned"), 1);
    cr_assert_eq(count_lines(log, "rebalance: revoked"), 0);

    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    /* Level warning since the reload: the info lines of the shutdown are not written. */
    cr_assert_eq(count_lines(log, "stopping (SIGTERM)"), 0);
    cr_assert_eq(count_lines(log, "SIGHUP: reloading"), 1);
    cleanup(&sd, log, &b, s);
}
