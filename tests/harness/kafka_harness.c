/* kafka_harness: child processes, an in-process mock cluster, config files, a keyed producer
 * and an output reader for the daemon tests. */
#include "tests/harness/kafka_harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double harness_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void harness_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int harness_wait_exit(pid_t pid, double timeout)
{
    double deadline = harness_now() + timeout;
    int status;

    while (harness_now() < deadline) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        cr_assert(r == 0, "waitpid: %s", strerror(errno));
        harness_sleep_ms(20);
    }
    return -1;
}

void harness_conf_set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char errstr[256];

    cr_assert_eq(rd_kafka_conf_set(c, k, v, errstr, sizeof(errstr)), RD_KAFKA_CONF_OK, "%s: %s", k,
                 errstr);
}

/* ---- mock cluster ---- */

void harness_mock_start(struct harness_mock *m, int n_brokers, int n_partitions)
{
    static const char *const topics[] = {"in", "out", "dlq"};
    char errstr[256], num[16];
    rd_kafka_conf_t *c = rd_kafka_conf_new();

    snprintf(num, sizeof(num), "%d", n_brokers);
    harness_conf_set(c, "test.mock.num.brokers", num);
    harness_conf_set(c, "log_level", "2");
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof(errstr));
    cr_assert(m->rk != NULL, "%s", errstr);
    m->mc = rd_kafka_handle_mock_cluster(m->rk);
    cr_assert(m->mc != NULL, "librdkafka has no mock cluster");
    m->n_partitions = n_partitions;
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
        cr_assert_eq(rd_kafka_mock_topic_create(m->mc, topics[i], n_partitions,
                                                n_brokers < 3 ? n_brokers : 3),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    snprintf(m->bootstrap, sizeof(m->bootstrap), "%s", rd_kafka_mock_cluster_bootstraps(m->mc));
}

void harness_mock_stop(struct harness_mock *m)
{
    rd_kafka_destroy(m->rk);
    m->rk = NULL;
    m->mc = NULL;
}

/* ---- the daemon ---- */

char *harness_write_conf(const char *group, const char *consumer, const char *producer)
{
    return harness_write_conf_kafka(group, "", consumer, producer);
}

char *harness_write_conf_kafka(const char *group, const char *kafka, const char *consumer,
                               const char *producer)
{
    char *path = strdup("/tmp/test_daemon_XXXXXX");
    int fd;
    FILE *f;

    cr_assert(path != NULL && (fd = mkstemp(path)) >= 0);
    cr_assert((f = fdopen(fd, "w")) != NULL);
    /* Metrics on a free port: tests (and other users of the machine) run side by side. */
    fprintf(f,
            "[kafka]\ninput_topics = in\noutput_topic = out\ndlq_topic = dlq\ngroup_id = %s\n%s"
            "[kafka.consumer]\nauto.offset.reset = earliest\nfetch.wait.max.ms = 10\n"
            "auto.commit.interval.ms = 200\n%s"
            "[kafka.producer]\nlinger.ms = 2\n%s"
            "[pipeline]\nstages =\nmax_message_bytes = 16k\nmax_inflight_messages = 2000\n"
            "drain_timeout_ms = 10000\nworkers = 2\n"
            "[metrics]\nlisten = 127.0.0.1:0\n",
            group, kafka, consumer, producer);
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* Daemons started and not yet seen to exit, killed by harness_reap_daemons. */
#define HARNESS_MAX_DAEMONS 8
static pid_t harness_daemons[HARNESS_MAX_DAEMONS];

void harness_reap_daemons(void)
{
    for (int i = 0; i < HARNESS_MAX_DAEMONS; i++) {
        if (harness_daemons[i] > 0 && waitpid(harness_daemons[i], NULL, WNOHANG) == 0) {
            kill(harness_daemons[i], SIGKILL);
            waitpid(harness_daemons[i], NULL, 0);
        }
        harness_daemons[i] = 0;
    }
}

pid_t harness_daemon_start(const char *conf, const char *bootstrap, const char *log)
{
    pid_t pid = fork();

    cr_assert(pid >= 0);
    if (pid > 0) {
        int slot = 0;
        /* Reuse the slot of a daemon that has exited (and been reaped by a wait). */
        while (slot < HARNESS_MAX_DAEMONS && harness_daemons[slot] > 0 &&
               kill(harness_daemons[slot], 0) == 0)
            slot++;
        if (slot < HARNESS_MAX_DAEMONS)
            harness_daemons[slot] = pid;
        return pid;
    }
    /* Only async-signal-safe calls: the test process runs librdkafka threads. */
    if (log != NULL) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
    }
    execl(ENRICHD_BIN, "enrichd", "run", "-c", conf, "--brokers", bootstrap, (char *)NULL);
    _exit(127);
}

/* ---- input ---- */

rd_kafka_t *harness_producer_new(const char *bootstrap)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_t *rk;

    harness_conf_set(c, "bootstrap.servers", bootstrap);
    harness_conf_set(c, "enable.idempotence", "true");
    harness_conf_set(c, "linger.ms", "5");
    harness_conf_set(c, "log_level", "2");
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof(errstr));
    cr_assert(rk != NULL, "%s", errstr);
    return rk;
}

int harness_is_bad(int seq)
{
    return seq % 97 == 13;
}

void harness_produce_seq(rd_kafka_t *rk, int seq)
{
    char key[16], value[256];
    int len;
    rd_kafka_resp_err_t err;

    snprintf(key, sizeof(key), "k%02d", seq % HARNESS_N_KEYS);
    if (harness_is_bad(seq))
        len = snprintf(value, sizeof(value), "bad %d", seq);
    else
        len = snprintf(value, sizeof(value),
                       "{\"id\":\"a%06d\",\"seq\":%d,\"text\":\"Berlin meldet %d Einwohner.\"}",
                       seq, seq, seq);
    while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("in"), RD_KAFKA_V_KEY(key, strlen(key)),
                                    RD_KAFKA_V_VALUE(value, (size_t)len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 10);
    cr_assert_eq(err, RD_KAFKA_RESP_ERR_NO_ERROR, "%s", rd_kafka_err2str(err));
    rd_kafka_poll(rk, 0);
}

void harness_producer_close(rd_kafka_t *rk)
{
    cr_assert_eq(rd_kafka_flush(rk, 60000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
}

/* ---- output ---- */

void harness_flow_init(struct harness_flow *f, const char *bootstrap, int n_partitions, int n)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(2 * n_partitions);

    memset(f, 0, sizeof(*f));
    f->n = n;
    f->out_count = calloc((size_t)n, sizeof(int));
    f->dlq_count = calloc((size_t)n, sizeof(int));
    cr_assert(f->out_count != NULL && f->dlq_count != NULL);
    for (int k = 0; k < HARNESS_N_KEYS; k++)
        f->last_seq[k] = -1;
    harness_conf_set(c, "bootstrap.servers", bootstrap);
    harness_conf_set(c, "group.id", "test-reader");
    harness_conf_set(c, "enable.auto.commit", "false");
    harness_conf_set(c, "fetch.wait.max.ms", "10");
    harness_conf_set(c, "log_level", "2");
    f->reader = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof(errstr));
    cr_assert(f->reader != NULL, "%s", errstr);
    rd_kafka_poll_set_consumer(f->reader);
    for (int p = 0; p < n_partitions; p++) {
        rd_kafka_topic_partition_list_add(parts, "out", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_topic_partition_list_add(parts, "dlq", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    cr_assert_eq(rd_kafka_assign(f->reader, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
}

/* The seq of an output or dead letter, -1 if the value is none of the test's. */
static int flow_seq(const rd_kafka_message_t *m, int dead_letter)
{
    json_error_t jerr;
    json_t *root;
    int seq = -1;

    if (dead_letter && m->len > 4 && memcmp(m->payload, "bad ", 4) == 0)
        return atoi((const char *)m->payload + 4);
    if ((root = json_loadb(m->payload, m->len, 0, &jerr)) == NULL)
        return -1;
    if (json_is_integer(json_object_get(root, "seq")) &&
        (dead_letter || json_is_object(json_object_get(root, "enrichment"))))
        seq = (int)json_integer_value(json_object_get(root, "seq"));
    json_decref(root);
    return seq;
}

static void flow_take(struct harness_flow *f, const rd_kafka_message_t *m)
{
    int dead_letter = strcmp(rd_kafka_topic_name(m->rkt), "dlq") == 0;
    int seq = flow_seq(m, dead_letter);

    f->total++;
    if (seq < 0 || seq >= f->n || dead_letter != harness_is_bad(seq)) {
        f->misrouted++;
        return;
    }
    if (f->out_count[seq] + f->dlq_count[seq] > 0)
        f->duplicates++;
    else
        f->distinct++;
    if (dead_letter) {
        f->dlq_count[seq]++;
        return;
    }
    int key = seq % HARNESS_N_KEYS;
    if (f->out_count[seq]++ == 0) {
        if (seq < f->last_seq[key])
            f->order_violations++;
        else
            f->last_seq[key] = seq;
    }
}

int harness_flow_poll(struct harness_flow *f, int ms)
{
    double deadline = harness_now() + ms / 1000.0;
    int n = 0;

    do {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(f->reader, 10);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            flow_take(f, m);
            n++;
        }
        rd_kafka_message_destroy(m);
    } while (harness_now() < deadline);
    return n;
}

void harness_flow_wait(struct harness_flow *f, double timeout, double settle)
{
    double deadline = harness_now() + timeout;

    while (f->distinct < f->n && harness_now() < deadline)
        harness_flow_poll(f, 100);
    harness_flow_poll(f, (int)(settle * 1000));
}

int harness_flow_missing(const struct harness_flow *f)
{
    int missing = 0;

    for (int i = 0; i < f->n; i++)
        missing += f->out_count[i] + f->dlq_count[i] == 0;
    return missing;
}

void harness_flow_assert(const struct harness_flow *f, const char *label)
{
    int missing = harness_flow_missing(f), first = -1;

    for (int i = 0; i < f->n && first < 0; i++)
        if (f->out_count[i] + f->dlq_count[i] == 0)
            first = i;
    fprintf(stderr,
            "%s: %d inputs, %d read back, %d distinct, %d duplicates, %d missing (first %d), "
            "%d order violations, %d misrouted\n",
            label, f->n, f->total, f->distinct, f->duplicates, missing, first, f->order_violations,
            f->misrouted);
    cr_assert_eq(missing, 0, "%s: %d of %d inputs missing (first: %d)", label, missing, f->n,
                 first);
    cr_assert_eq(f->order_violations, 0, "%s: per-key order violated", label);
    cr_assert_eq(f->misrouted, 0, "%s: messages in the wrong topic", label);
}

void harness_flow_fini(struct harness_flow *f)
{
    if (f->reader != NULL) {
        rd_kafka_consumer_close(f->reader);
        rd_kafka_destroy(f->reader);
    }
    free(f->out_count);
    free(f->dlq_count);
    memset(f, 0, sizeof(*f));
}
