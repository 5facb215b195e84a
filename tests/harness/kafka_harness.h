/* kafka_harness: what the daemon tests share: child processes, an in-process mock cluster,
 * config files, a keyed producer and a reader that checks the daemon's output for loss, order
 * and duplicates. Failures are Criterion assertions. */
#ifndef ENRICHD_TESTS_HARNESS_KAFKA_HARNESS_H
#define ENRICHD_TESTS_HARNESS_KAFKA_HARNESS_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stddef.h>
#include <sys/types.h>

#define HARNESS_N_KEYS 50

/* Monotonic seconds. */
double harness_now(void);

/* Sleeps ms milliseconds. */
void harness_sleep_ms(long ms);

/* Waits for pid to exit within timeout seconds; returns its wait status, or -1 on timeout. */
int harness_wait_exit(pid_t pid, double timeout);

/* Sets k = v on c or fails the test. */
void harness_conf_set(rd_kafka_conf_t *c, const char *k, const char *v);

/* librdkafka's mock cluster, run by a producer handle of the test process itself, so the
 * test can inject faults while the daemon (a child process) talks to it over TCP. */
struct harness_mock {
    rd_kafka_t *rk;              /* owns the cluster */
    rd_kafka_mock_cluster_t *mc; /* borrowed from rk */
    char bootstrap[512];
    int n_partitions;
};

/* Starts a cluster of n_brokers with topics in, out and dlq of n_partitions each (replicated
 * on up to 3 brokers). */
void harness_mock_start(struct harness_mock *m, int n_brokers, int n_partitions);
void harness_mock_stop(struct harness_mock *m);

/* Writes a daemon config to a new temporary file and returns its path (new, free; the caller
 * unlinks it). consumer and producer are extra lines of [kafka.consumer] and [kafka.producer]
 * (may be ""); no stages run, so the tests measure the daemon, not the models. */
char *harness_write_conf(const char *group, const char *consumer, const char *producer);

/* harness_write_conf with kafka appended to the [kafka] section (may be ""). */
char *harness_write_conf_kafka(const char *group, const char *kafka, const char *consumer,
                               const char *producer);

/* Starts `enrichd run -c conf --brokers bootstrap`; its stderr is appended to log (when not
 * NULL) or goes to the test's stderr. */
pid_t harness_daemon_start(const char *conf, const char *bootstrap, const char *log);

/* Kills (SIGKILL) and reaps every daemon started by harness_daemon_start that is still
 * running: the .fini of a test suite, so a failed assertion leaves no process behind. */
void harness_reap_daemons(void);

/* An idempotent producer of test input. */
rd_kafka_t *harness_producer_new(const char *bootstrap);

/* Produces input seq to topic "in": key k<seq % HARNESS_N_KEYS>; an article whose JSON carries
 * seq, or, when harness_is_bad(seq), a value that is not JSON ("bad <seq>") for the dead-letter
 * topic. Serves delivery reports; waits while the queue is full. */
void harness_produce_seq(rd_kafka_t *rk, int seq);

/* Whether input seq is a bad message (one in 97). */
int harness_is_bad(int seq);

/* Flushes (up to 60 s, or fails) and destroys. */
void harness_producer_close(rd_kafka_t *rk);

/* What the reader saw of inputs 0..n-1 in topics out and dlq. */
struct harness_flow {
    int n;
    int *out_count;               /* deliveries of seq to out */
    int *dlq_count;               /* deliveries of seq to dlq */
    int last_seq[HARNESS_N_KEYS]; /* highest seq of a first delivery per key, -1 at start */
    int order_violations;         /* first deliveries below the key's last_seq */
    int misrouted;                /* good input in dlq, bad input in out, foreign values */
    int total, duplicates, distinct;
    rd_kafka_t *reader; /* assigned to out and dlq from the beginning */
};

/* Starts a reader of inputs 0..n-1 on the cluster. */
void harness_flow_init(struct harness_flow *f, const char *bootstrap, int n_partitions, int n);

/* Reads what arrives within ms milliseconds. Returns the number of messages read. */
int harness_flow_poll(struct harness_flow *f, int ms);

/* Reads until all n inputs are seen or timeout seconds pass, then on for settle seconds to
 * catch duplicates. */
void harness_flow_wait(struct harness_flow *f, double timeout, double settle);

/* Inputs not seen in either topic. */
int harness_flow_missing(const struct harness_flow *f);

/* Prints the counts with label to stderr and asserts 0 missing, no order violation, nothing
 * misrouted. */
void harness_flow_assert(const struct harness_flow *f, const char *label);

void harness_flow_fini(struct harness_flow *f);

#endif
