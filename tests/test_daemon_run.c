/* Integration tests of `enrichd run` against `enrichd broker` (librdkafka's mock cluster): every
 * good article once and in order, bad input in the dead-letter topic, restarts lose nothing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stages/stage.h"

#define N_PARTITIONS 4
#define N_KEYS 50
#define MAX_MSGS 8192

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Short pause inside a deadline-bounded wait for a child process or a file. */
static void nap(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};

    nanosleep(&ts, NULL);
}

/* ---- processes ---- */

struct broker {
    pid_t pid;
    char bootstrap[512];
};

static void broker_start(struct broker *b)
{
    int fds[2];
    FILE *f;
    char line[512];

    cr_assert_eq(pipe(fds), 0);
    b->pid = fork();
    cr_assert(b->pid >= 0);
    if (b->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(ENRICHD_BIN, "enrichd", "broker", "--partitions", "4", "--topic", "in", "--topic",
              "out", "--topic", "dlq", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    cr_assert(f != NULL);
    cr_assert(fgets(line, sizeof(line), f) != NULL, "broker printed nothing");
    fclose(f);
    cr_assert(strncmp(line, "bootstrap.servers=", 18) == 0, "%s", line);
    line[strcspn(line, "\n")] = '\0';
    snprintf(b->bootstrap, sizeof(b->bootstrap), "%s", line + 18);
}

/* Waits for pid to exit within timeout seconds; returns its wait status, or -1 on timeout. */
static int wait_exit(pid_t pid, double timeout)
{
    double deadline = now_s() + timeout;
    int status;

    while (now_s() < deadline) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        cr_assert(r == 0, "waitpid: %s", strerror(errno));
        nap();
    }
    return -1;
}

static void broker_stop(struct broker *b)
{
    kill(b->pid, SIGTERM);
    int st = wait_exit(b->pid, 10);
    if (st == -1) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, NULL, 0);
    }
}

static char conf_file[64];

static void write_conf_full(const char *group, long max_inflight, const char *producer,
                            const char *stages)
{
    int fd;
    FILE *f;

    strcpy(conf_file, "/tmp/test_daemon_XXXXXX");
    cr_assert((fd = mkstemp(conf_file)) >= 0);
    cr_assert((f = fdopen(fd, "w")) != NULL);
    fprintf(f,
            "[kafka]\ninput_topics = in\noutput_topic = out\ndlq_topic = dlq\ngroup_id = %s\n"
            "[kafka.consumer]\nauto.offset.reset = earliest\nfetch.wait.max.ms = 10\n"
            "session.timeout.ms = 6000\nheartbeat.interval.ms = 500\n"
            "auto.commit.interval.ms = 200\n"
            "[kafka.producer]\nlinger.ms = 2\n%s"
            "[pipeline]\n%smax_message_bytes = 16k\nmax_inflight_messages = %ld\n"
            "drain_timeout_ms = 10000\nworkers = 2\n",
            group, producer, stages, max_inflight);
    fclose(f);
}

/* Kafka-only: no stages, so the tests measure the daemon, not the models. */
static void write_conf_extra(const char *group, long max_inflight, const char *producer)
{
    write_conf_full(group, max_inflight, producer, "stages =\n");
}

static void write_conf(const char *group, long max_inflight)
{
    write_conf_extra(group, max_inflight, "");
}

/* Starts `enrichd run`; its stderr goes to log (when not NULL) or the test's stderr. */
static pid_t daemon_start_log(const struct broker *b, const char *log)
{
    pid_t pid = fork();

    cr_assert(pid >= 0);
    if (pid == 0) {
        if (log != NULL) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execl(ENRICHD_BIN, "enrichd", "run", "-c", conf_file, "--brokers", b->bootstrap,
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

static pid_t daemon_start(const struct broker *b)
{
    return daemon_start_log(b, NULL);
}

/* Waits up to timeout seconds for text to appear in file; returns the line or NULL. */
static char *wait_for_line(const char *file, const char *text, double timeout, char *line,
                           size_t len)
{
    double deadline = now_s() + timeout;

    while (now_s() < deadline) {
        FILE *f = fopen(file, "r");
        while (f != NULL && fgets(line, (int)len, f) != NULL) {
            if (strstr(line, text) != NULL) {
                fclose(f);
                return line;
            }
        }
        if (f != NULL)
            fclose(f);
        nap();
    }
    return NULL;
}

/* ---- Kafka clients ---- */

static void conf_set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char errstr[256];

    cr_assert_eq(rd_kafka_conf_set(c, k, v, errstr, sizeof(errstr)), RD_KAFKA_CONF_OK, "%s: %s", k,
                 errstr);
}

static rd_kafka_t *producer_new(const struct broker *b)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_t *rk;

    conf_set(c, "bootstrap.servers", b->bootstrap);
    conf_set(c, "enable.idempotence", "true");
    conf_set(c, "linger.ms", "1");
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof(errstr));
    cr_assert(rk != NULL, "%s", errstr);
    return rk;
}

static void produce(rd_kafka_t *rk, const char *key, const char *value, size_t len)
{
    rd_kafka_resp_err_t err;

    while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("in"), RD_KAFKA_V_KEY(key, strlen(key)),
                                    RD_KAFKA_V_VALUE((void *)value, len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 10);
    cr_assert_eq(err, RD_KAFKA_RESP_ERR_NO_ERROR, "%s", rd_kafka_err2str(err));
}

static void producer_close(rd_kafka_t *rk)
{
    cr_assert_eq(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
}

/* One test's input: n_good articles "a00000".. with key k(i % 50), and bad values. */
struct bad_input {
    char *value;
    size_t len;
    const char *reason;
};

#define N_BAD_KINDS 6

static struct bad_input bad_kind(int i)
{
    struct bad_input b = {NULL, 0, NULL};
    char *s;

    switch (i % N_BAD_KINDS) {
    case 0:
        b.value = strdup("this is not json");
        b.reason = "not_json";
        break;
    case 1:
        b.value = strdup("{\"id\":\"x\",\"text\":\"caf\xc3\x28\"}");
        b.reason = "invalid_utf8";
        break;
    case 2:
        b.value = strdup("{\"id\":\"nobody\",\"url\":\"http://example.com/\"}");
        b.reason = "missing_text";
        break;
    case 3:
        s = malloc(20000);
        memcpy(s, "{\"text\":\"", 9);
        memset(s + 9, 'x', 20000 - 12);
        memcpy(s + 20000 - 3, "\"}", 3);
        b.value = s;
        b.reason = "oversized";
        break;
    case 4:
        s = malloc(2100 * 5 + 1);
        s[0] = '\0';
        for (int d = 0; d < 2100; d++)
            strcat(s + (size_t)d * 5, "{\"a\":");
        b.value = s;
        b.reason = "too_deep";
        break;
    default:
        b.value = strdup("[\"an\", \"array\"]");
        b.reason = "not_object";
        break;
    }
    b.len = strlen(b.value);
    return b;
}

/* Produces good articles [from, to) and, every 100th, one bad message "bad<i>". */
static void produce_range(rd_kafka_t *rk, int from, int to, int *n_bad)
{
    char key[32], value[512];

    for (int i = from; i < to; i++) {
        snprintf(key, sizeof(key), "k%02d", i % N_KEYS);
        int len = snprintf(value, sizeof(value),
                           "{\"id\":\"a%05d\",\"seq\":%d,\"title\":\"Article %d\","
                           "\"text\":\"Die Stadt Berlin meldet %d neue Einwohner.\"}",
                           i, i, i, i);
        produce(rk, key, value, (size_t)len);
        if (n_bad != NULL && i % 100 == 50) {
            struct bad_input b = bad_kind(*n_bad);
            snprintf(key, sizeof(key), "bad%d", (*n_bad)++);
            produce(rk, key, b.value, b.len);
            free(b.value);
        }
    }
}

/* What was read back from the output and dead-letter topics. */
struct seen {
    int count[MAX_MSGS];     /* occurrences of article seq i in the output */
    int last_seq[N_KEYS];    /* last seq seen per key, -1 initially */
    int order_violations;
    int total, duplicates;
    char *dlq_reason[64];    /* reason header of "bad<i>" */
    int dlq_total;
    int missing_headers;
};

static void seen_init(struct seen *s)
{
    memset(s, 0, sizeof(*s));
    for (int k = 0; k < N_KEYS; k++)
        s->last_seq[k] = -1;
}

static void seen_free(struct seen *s)
{
    for (int i = 0; i < 64; i++)
        free(s->dlq_reason[i]);
}

static const char *header(const rd_kafka_message_t *m, const char *name, char *buf, size_t len)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t vlen;

    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, name, &v, &vlen) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return NULL;
    snprintf(buf, len, "%.*s", (int)vlen, (const char *)v);
    return buf;
}

static void seen_output(struct seen *s, const rd_kafka_message_t *m)
{
    json_error_t jerr;
    char hb[64];
    json_t *root = json_loadb(m->payload, m->len, 0, &jerr);

    cr_assert(root != NULL, "output is not JSON: %s", jerr.text);
    int seq = (int)json_integer_value(json_object_get(root, "seq"));
    cr_assert(seq >= 0 && seq < MAX_MSGS);
    cr_assert(json_is_object(json_object_get(root, "enrichment")));
    char want_key[16];
    snprintf(want_key, sizeof(want_key), "k%02d", seq % N_KEYS);
    cr_assert(m->key_len == strlen(want_key) && memcmp(m->key, want_key, m->key_len) == 0,
              "output key of seq %d is not the input key", seq);
    if (header(m, "enrichd-schema-version", hb, sizeof(hb)) == NULL || strcmp(hb, "1") != 0 ||
        header(m, "enrichd-source-offset", hb, sizeof(hb)) == NULL)
        s->missing_headers++;
    if (s->count[seq]++ > 0)
        s->duplicates++;
    else if (seq < s->last_seq[seq % N_KEYS])
        s->order_violations++;
    if (seq > s->last_seq[seq % N_KEYS])
        s->last_seq[seq % N_KEYS] = seq;
    s->total++;
    json_decref(root);
}

static void seen_dlq(struct seen *s, const rd_kafka_message_t *m)
{
    char hb[64];
    int idx;

    cr_assert(m->key_len > 3 && m->key_len < 8 && memcmp(m->key, "bad", 3) == 0);
    char key[8];
    snprintf(key, sizeof(key), "%.*s", (int)m->key_len, (const char *)m->key);
    idx = atoi(key + 3);
    cr_assert(idx >= 0 && idx < 64);
    struct bad_input b = bad_kind(idx);
    cr_assert(m->len == b.len && memcmp(m->payload, b.value, b.len) == 0,
              "dead letter %s does not keep the input bytes", key);
    free(b.value);
    cr_assert(header(m, "enrichd-source-topic", hb, sizeof(hb)) != NULL && strcmp(hb, "in") == 0);
    if (s->dlq_reason[idx] == NULL)
        s->dlq_reason[idx] = strdup(header(m, "enrichd-reason", hb, sizeof(hb)) ? hb : "(none)");
    s->dlq_total++;
}

/* Reads out and dlq from the beginning until want_good distinct articles and want_bad dead
 * letters are seen, or timeout seconds pass; then reads on for settle seconds to catch
 * duplicates. */
static void read_back(const struct broker *b, struct seen *s, int want_good, int want_bad,
                      double timeout, double settle)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(8);
    double deadline = now_s() + timeout, settle_until = 0;
    int good = 0;

    conf_set(c, "bootstrap.servers", b->bootstrap);
    conf_set(c, "group.id", "test-reader");
    conf_set(c, "enable.auto.commit", "false");
    conf_set(c, "fetch.wait.max.ms", "10");
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof(errstr));
    cr_assert(rk != NULL, "%s", errstr);
    rd_kafka_poll_set_consumer(rk);
    for (int p = 0; p < N_PARTITIONS; p++) {
        rd_kafka_topic_partition_list_add(parts, "out", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_topic_partition_list_add(parts, "dlq", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    cr_assert_eq(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    for (;;) {
        double t = now_s();
        if (settle_until > 0 ? t >= settle_until : t >= deadline)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (strcmp(rd_kafka_topic_name(m->rkt), "out") == 0) {
                seen_output(s, m);
                good = 0;
                for (int i = 0; i < want_good; i++)
                    good += s->count[i] > 0;
            } else {
                seen_dlq(s, m);
            }
        }
        rd_kafka_message_destroy(m);
        int bad = 0;
        for (int i = 0; i < 64; i++)
            bad += s->dlq_reason[i] != NULL;
        if (settle_until == 0 && good >= want_good && bad >= want_bad)
            settle_until = now_s() + settle;
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static void assert_complete(const struct seen *s, int n_good, int n_bad)
{
    int missing = 0;

    for (int i = 0; i < n_good; i++)
        missing += s->count[i] == 0;
    cr_assert_eq(missing, 0, "%d of %d articles missing from the output", missing, n_good);
    cr_assert_eq(s->order_violations, 0, "%d per-key order violations", s->order_violations);
    cr_assert_eq(s->missing_headers, 0);
    for (int i = 0; i < n_bad; i++) {
        struct bad_input b = bad_kind(i);
        cr_assert(s->dlq_reason[i] != NULL, "bad%d missing from the dead-letter topic", i);
        cr_assert_str_eq(s->dlq_reason[i], b.reason, "bad%d", i);
        free(b.value);
    }
}

static void assert_clean_exit(pid_t pid, double timeout)
{
    int st = wait_exit(pid, timeout);

    cr_assert(st != -1, "enrichd run did not stop within %.0f s", timeout);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "enrichd run exited with status 0x%x", st);
}

Test(daemon_run, delivers_every_good_article_once_in_order_and_bad_ones_to_the_dlq,
     .timeout = 120)
{
    struct broker b;
    struct seen *s = malloc(sizeof(*s));
    int n_bad = 0;

    seen_init(s);
    broker_start(&b);
    rd_kafka_t *prod = producer_new(&b);
    produce_range(prod, 0, 2000, &n_bad);
    producer_close(prod);
    cr_assert_eq(n_bad, 20);
    write_conf("g-once", 10000);
    pid_t d = daemon_start(&b);
    read_back(&b, s, 2000, n_bad, 60, 1.0);
    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    unlink(conf_file);
    broker_stop(&b);
    fprintf(stderr, "once: %d outputs, %d duplicates, %d dead letters\n", s->total,
            s->duplicates, s->dlq_total);
    assert_complete(s, 2000, n_bad);
    cr_assert_eq(s->duplicates, 0);
    cr_assert_eq(s->total, 2000);
    cr_assert_eq(s->dlq_total, n_bad);
    seen_free(s);
    free(s);
}

/* Stops the daemon with sig while input is still being produced, restarts it, and returns
 * what came out. */
static void restart_scenario(struct seen *s, int sig, long max_inflight, const char *group)
{
    struct broker b;
    int n_bad = 0;

    seen_init(s);
    broker_start(&b);
    write_conf(group, max_inflight);
    pid_t d = daemon_start(&b);
    rd_kafka_t *prod = producer_new(&b);
    produce_range(prod, 0, 1000, &n_bad);
    cr_assert_eq(rd_kafka_flush(prod, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    /* Let the daemon get going on the first half before the signal. */
    struct seen *first = malloc(sizeof(*first));
    seen_init(first);
    read_back(&b, first, 300, 0, 60, 0);
    seen_free(first);
    free(first);
    kill(d, sig);
    produce_range(prod, 1000, 2000, &n_bad);
    producer_close(prod);
    if (sig == SIGTERM) {
        assert_clean_exit(d, 30);
    } else {
        int st = wait_exit(d, 30);
        cr_assert(st != -1 && WIFSIGNALED(st));
    }
    d = daemon_start(&b);
    read_back(&b, s, 2000, n_bad, 60, 1.0);
    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    unlink(conf_file);
    broker_stop(&b);
    assert_complete(s, 2000, n_bad);
}

Test(daemon_run, loses_and_repeats_nothing_across_sigterm_and_restart, .timeout = 150)
{
    struct seen *s = malloc(sizeof(*s));

    restart_scenario(s, SIGTERM, 10000, "g-term");
    fprintf(stderr, "sigterm: %d outputs, %d duplicates\n", s->total, s->duplicates);
    cr_assert_eq(s->duplicates, 0);
    seen_free(s);
    free(s);
}

Test(daemon_run, loses_nothing_across_sigkill_and_restart, .timeout = 150)
{
    struct seen *s = malloc(sizeof(*s));

    restart_scenario(s, SIGKILL, 10000, "g-kill");
    /* At least once: a kill may repeat what was delivered but not yet committed. */
    fprintf(stderr, "sigkill: %d outputs, %d duplicates\n", s->total, s->duplicates);
    seen_free(s);
    free(s);
}

Test(daemon_run, keeps_order_under_a_small_in_flight_cap, .timeout = 120)
{
    struct broker b;
    struct seen *s = malloc(sizeof(*s));
    int n_bad = 0;

    seen_init(s);
    broker_start(&b);
    rd_kafka_t *prod = producer_new(&b);
    produce_range(prod, 0, 2000, &n_bad);
    producer_close(prod);
    write_conf("g-small", 100);
    pid_t d = daemon_start(&b);
    read_back(&b, s, 2000, n_bad, 60, 0.5);
    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    unlink(conf_file);
    broker_stop(&b);
    assert_complete(s, 2000, n_bad);
    cr_assert_eq(s->duplicates, 0);
    seen_free(s);
    free(s);
}

Test(daemon_run, check_reports_a_config_error_with_status_78)
{
    int fd;
    FILE *f;
    char path[] = "/tmp/test_daemon_XXXXXX", cmd[512];

    cr_assert((fd = mkstemp(path)) >= 0);
    cr_assert((f = fdopen(fd, "w")) != NULL);
    fputs("[pipeline]\nstages =\n[kafka.consumer]\nsession.timeout.ms = soon\n", f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s check -c %s 2>/dev/null", ENRICHD_BIN, path);
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 78, "status 0x%x", st);
    f = fopen(path, "w");
    fputs("[pipeline]\nstages =\n", f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s check -c %s", ENRICHD_BIN, path);
    FILE *out = popen(cmd, "r");
    char line[128] = "";
    cr_assert(fgets(line, sizeof(line), out) != NULL);
    st = pclose(out);
    cr_assert_str_eq(line, "configuration OK\n");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    unlink(path);
}

Test(daemon_run, stops_with_status_1_on_an_undeliverable_message_and_loses_nothing,
     .timeout = 120)
{
    struct broker b;
    struct seen *s = malloc(sizeof(*s));
    char key[16], value[4096];

    seen_init(s);
    broker_start(&b);
    rd_kafka_t *prod = producer_new(&b);
    /* Article 100's enriched output is larger than the producer's message.max.bytes. */
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%02d", i % N_KEYS);
        int len = snprintf(value, sizeof(value), "{\"id\":\"a%05d\",\"seq\":%d,\"text\":\"%s%d\"}",
                           i, i, i == 100 ? "" : "short ", i);
        if (i == 100) {
            len = snprintf(value, sizeof(value), "{\"id\":\"a%05d\",\"seq\":%d,\"text\":\"", i, i);
            memset(value + len, 'x', 3000);
            len += 3000;
            len += snprintf(value + len, sizeof(value) - (size_t)len, "\"}");
        }
        produce(prod, key, value, (size_t)len);
    }
    producer_close(prod);
    write_conf_extra("g-fail", 10000, "message.max.bytes = 3000\n");
    pid_t d = daemon_start(&b);
    int st = wait_exit(d, 60);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1, "status 0x%x", st);
    unlink(conf_file);
    /* The restart, able to deliver it, finds everything from the delivered prefix on. */
    write_conf("g-fail", 10000);
    d = daemon_start(&b);
    read_back(&b, s, 200, 0, 60, 0.5);
    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    unlink(conf_file);
    broker_stop(&b);
    fprintf(stderr, "fail-stop: %d outputs, %d duplicates\n", s->total, s->duplicates);
    assert_complete(s, 200, 0);
    seen_free(s);
    free(s);
}

Test(daemon_run, shares_the_input_with_a_second_daemon_in_the_group, .timeout = 150)
{
    struct broker b;
    struct seen *s = malloc(sizeof(*s));
    int n_bad = 0;

    seen_init(s);
    broker_start(&b);
    write_conf("g-two", 10000);
    pid_t d1 = daemon_start(&b);
    rd_kafka_t *prod = producer_new(&b);
    produce_range(prod, 0, 1000, &n_bad);
    cr_assert_eq(rd_kafka_flush(prod, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    struct seen *first = malloc(sizeof(*first));
    seen_init(first);
    read_back(&b, first, 300, 0, 60, 0);
    seen_free(first);
    free(first);
    char log2[] = "/tmp/test_daemon_log_XXXXXX", line[512];
    close(mkstemp(log2));
    pid_t d2 = daemon_start_log(&b, log2);
    /* The second half goes in once the group has given the newcomer its share. */
    cr_assert(wait_for_line(log2, "rebalance: assigned", 60, line, sizeof(line)) != NULL,
              "the second daemon got no partitions");
    produce_range(prod, 1000, 2000, &n_bad);
    producer_close(prod);
    read_back(&b, s, 2000, n_bad, 60, 1.0);
    kill(d1, SIGTERM);
    kill(d2, SIGTERM);
    assert_clean_exit(d1, 30);
    assert_clean_exit(d2, 30);
    cr_assert(wait_for_line(log2, "stopped: ", 1, line, sizeof(line)) != NULL);
    unsigned long consumed2 = strtoul(strstr(line, "stopped: ") + 9, NULL, 10);
    unlink(log2);
    unlink(conf_file);
    broker_stop(&b);
    fprintf(stderr, "two daemons: %d outputs, %d duplicates, second daemon consumed %lu\n",
            s->total, s->duplicates, consumed2);
    assert_complete(s, 2000, n_bad);
    cr_assert(consumed2 > 0, "the second daemon did no work");
    seen_free(s);
    free(s);
}

Test(daemon_run, interoperates_with_kcat_as_producer_and_consumer, .timeout = 120)
{
    struct broker b;
    char in_path[] = "/tmp/test_daemon_kcat_XXXXXX", cmd[1024], line[8192];
    int fd, n = 0, german = 0;
    FILE *f;

    if (system("command -v kcat >/dev/null 2>&1") != 0)
        cr_skip_test("kcat is not installed");
    broker_start(&b);
    cr_assert((fd = mkstemp(in_path)) >= 0);
    cr_assert((f = fdopen(fd, "w")) != NULL);
    for (int i = 0; i < 100; i++)
        fprintf(f,
                "k%02d\t{\"id\":\"a%05d\",\"seq\":%d,\"title\":\"Bahn baut aus\","
                "\"text\":\"Die Deutsche Bahn will die Kapazitaet der Strecke bis 2030 von 1 "
                "Million auf 5 Millionen Tonnen erhoehen, teilte das Unternehmen in Berlin mit.\"}\n",
                i % N_KEYS, i, i);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "kcat -b %s -P -t in -K '\\t' -l %s", b.bootstrap, in_path);
    cr_assert_eq(system(cmd), 0, "kcat could not produce");
    unlink(in_path);
    /* All registered stages, with the models of the source tree. */
    write_conf_full("g-kcat", 10000, "", "");
    pid_t d = daemon_start(&b);
    snprintf(cmd, sizeof(cmd), "timeout 60 kcat -b %s -C -t out -o beginning -c 100 -q -f '%%k\\t%%s\\n'",
             b.bootstrap);
    FILE *out = popen(cmd, "r");
    cr_assert(out != NULL);
    while (fgets(line, sizeof(line), out) != NULL) {
        char *tab = strchr(line, '\t');
        cr_assert(tab != NULL, "%s", line);
        json_error_t jerr;
        json_t *root = json_loads(tab + 1, 0, &jerr);
        cr_assert(root != NULL, "kcat read no JSON: %s", jerr.text);
        int seq = (int)json_integer_value(json_object_get(root, "seq"));
        char want[8];
        snprintf(want, sizeof(want), "k%02d", seq % N_KEYS);
        cr_assert(strncmp(line, want, strlen(want)) == 0 && line + strlen(want) == tab);
        json_t *lang = json_object_get(json_object_get(root, "enrichment"), "language");
        if (lang != NULL && strcmp(json_string_value(json_object_get(lang, "code")), "de") == 0)
            german++;
        json_decref(root);
        n++;
    }
    int st = pclose(out);
    kill(d, SIGTERM);
    assert_clean_exit(d, 30);
    unlink(conf_file);
    broker_stop(&b);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "kcat status 0x%x", st);
    cr_assert_eq(n, 100);
    if (stage_find("lang") != NULL)
        cr_assert_eq(german, 100, "language stage ran on %d of 100", german);
}
