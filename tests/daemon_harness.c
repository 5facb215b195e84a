/* daemon_harness: brokers, daemons, producers and readers for the daemon integration tests. */
#include "tests/daemon_harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- processes ---- */

void broker_start(struct broker *b)
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

void broker_stop(struct broker *b)
{
    kill(b->pid, SIGTERM);
    int st = harness_wait_exit(b->pid, 10);
    if (st == -1) {
        kill(b->pid, SIGKILL);
        waitpid(b->pid, NULL, 0);
    }
}

char conf_file[64];

void write_conf_sections(const char *group, long max_inflight, const char *producer,
                         const char *stages, const char *extra)
{
    int fd;
    FILE *f;

    strcpy(conf_file, "/tmp/test_daemon_XXXXXX");
    cr_assert((fd = mkstemp(conf_file)) >= 0);
    cr_assert((f = fdopen(fd, "w")) != NULL);
    /* Port 0: the daemons of one test, and other test runs on the machine, never collide. */
    fprintf(f,
            "[kafka]\ninput_topics = in\noutput_topic = out\ndlq_topic = dlq\ngroup_id = %s\n"
            "[kafka.consumer]\nauto.offset.reset = earliest\nfetch.wait.max.ms = 10\n"
            "session.timeout.ms = 6000\nheartbeat.interval.ms = 500\n"
            "auto.commit.interval.ms = 200\n"
            "[kafka.producer]\nlinger.ms = 2\n%s"
            "[pipeline]\n%smax_message_bytes = 16k\nmax_inflight_messages = %ld\n"
            "drain_timeout_ms = 10000\nworkers = 2\n"
            "[metrics]\nlisten = 127.0.0.1:0\n%s",
            group, producer, stages, max_inflight, extra);
    fclose(f);
}

void write_conf_full(const char *group, long max_inflight, const char *producer, const char *stages)
{
    write_conf_sections(group, max_inflight, producer, stages, "");
}

/* Kafka-only: no stages, so the tests measure the daemon, not the models. */
void write_conf_extra(const char *group, long max_inflight, const char *producer)
{
    write_conf_full(group, max_inflight, producer, "stages =\n");
}

void write_conf(const char *group, long max_inflight)
{
    write_conf_extra(group, max_inflight, "");
}

/* Starts `enrichd run`; its stderr goes to log (when not NULL) or the test's stderr. */
pid_t daemon_start_notify(const struct broker *b, const char *log, const char *notify_socket,
                          unsigned long watchdog_usec)
{
    pid_t pid = fork();

    cr_assert(pid >= 0);
    if (pid == 0) {
        char num[32];
        if (log != NULL) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        if (notify_socket != NULL)
            setenv("NOTIFY_SOCKET", notify_socket, 1);
        if (watchdog_usec > 0) {
            /* As systemd sets them: the watchdog is meant for this very process. */
            snprintf(num, sizeof(num), "%lu", watchdog_usec);
            setenv("WATCHDOG_USEC", num, 1);
            snprintf(num, sizeof(num), "%ld", (long)getpid());
            setenv("WATCHDOG_PID", num, 1);
        }
        execl(ENRICHD_BIN, "enrichd", "run", "-c", conf_file, "--brokers", b->bootstrap,
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

pid_t daemon_start_log(const struct broker *b, const char *log)
{
    return daemon_start_notify(b, log, NULL, 0);
}

unsigned daemon_http_port(const char *log)
{
    char line[512];
    const char *p;

    cr_assert(wait_for_line(log, "(port ", 60, line, sizeof(line)) != NULL,
              "the daemon announced no metrics listener");
    p = strstr(line, "(port ") + 6;
    return (unsigned)strtoul(p, NULL, 10);
}

pid_t daemon_start(const struct broker *b)
{
    return daemon_start_log(b, NULL);
}

/* Waits up to timeout seconds for text to appear in file; returns the line or NULL. */
char *wait_for_line(const char *file, const char *text, double timeout, char *line, size_t len)
{
    double deadline = harness_now() + timeout;

    while (harness_now() < deadline) {
        FILE *f = fopen(file, "r");
        while (f != NULL && fgets(line, (int)len, f) != NULL) {
            if (strstr(line, text) != NULL) {
                fclose(f);
                return line;
            }
        }
        if (f != NULL)
            fclose(f);
        harness_sleep_ms(20);
    }
    return NULL;
}

/* ---- Kafka clients ---- */

rd_kafka_t *producer_new(const struct broker *b)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_t *rk;

    harness_conf_set(c, "bootstrap.servers", b->bootstrap);
    harness_conf_set(c, "enable.idempotence", "true");
    harness_conf_set(c, "linger.ms", "1");
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof(errstr));
    cr_assert(rk != NULL, "%s", errstr);
    return rk;
}

void produce(rd_kafka_t *rk, const char *key, const char *value, size_t len)
{
    rd_kafka_resp_err_t err;

    while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("in"), RD_KAFKA_V_KEY(key, strlen(key)),
                                    RD_KAFKA_V_VALUE((void *)value, len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 10);
    cr_assert_eq(err, RD_KAFKA_RESP_ERR_NO_ERROR, "%s", rd_kafka_err2str(err));
}

struct bad_input bad_kind(int i)
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
void produce_range(rd_kafka_t *rk, int from, int to, int *n_bad)
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

void seen_init(struct seen *s)
{
    memset(s, 0, sizeof(*s));
    for (int k = 0; k < N_KEYS; k++)
        s->last_seq[k] = -1;
}

void seen_free(struct seen *s)
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
    s->timed[seq] = json_object_get(json_object_get(root, "enrichment"), "timing_us") != NULL;
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
void read_back(const struct broker *b, struct seen *s, int want_good, int want_bad, double timeout,
               double settle)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(8);
    double deadline = harness_now() + timeout, settle_until = 0;
    int good = 0;

    harness_conf_set(c, "bootstrap.servers", b->bootstrap);
    harness_conf_set(c, "group.id", "test-reader");
    harness_conf_set(c, "enable.auto.commit", "false");
    harness_conf_set(c, "fetch.wait.max.ms", "10");
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
        double t = harness_now();
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
            settle_until = harness_now() + settle;
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

void wait_for_outputs(const struct broker *b, int n)
{
    struct seen *first = malloc(sizeof(*first));

    seen_init(first);
    read_back(b, first, n, 0, 60, 0);
    seen_free(first);
    free(first);
}

void assert_complete(const struct seen *s, int n_good, int n_bad)
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

void assert_clean_exit(pid_t pid, double timeout)
{
    int st = harness_wait_exit(pid, timeout);

    cr_assert(st != -1, "enrichd run did not stop within %.0f s", timeout);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "enrichd run exited with status 0x%x", st);
}