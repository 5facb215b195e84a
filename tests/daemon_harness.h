/* daemon_harness: what the daemon integration tests share: `enrichd broker` and `enrichd run`
 * as child processes, a producer of good and bad articles, and a reader of the output and
 * dead-letter topics that counts what arrived. Failures are Criterion assertions. */
#ifndef ENRICHD_TESTS_DAEMON_HARNESS_H
#define ENRICHD_TESTS_DAEMON_HARNESS_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <sys/types.h>

#include "tests/harness/kafka_harness.h"

#define N_PARTITIONS 4
#define N_KEYS 50
#define MAX_MSGS 8192
#define N_BAD_KINDS 6

struct broker {
    pid_t pid;
    char bootstrap[512];
};

/* One test's input: n_good articles "a00000".. with key k(i % 50), and bad values. */
struct bad_input {
    char *value;
    size_t len;
    const char *reason;
};

/* What was read back from the output and dead-letter topics. */
struct seen {
    int count[MAX_MSGS];  /* occurrences of article seq i in the output */
    int timed[MAX_MSGS];  /* article seq i came out with enrichment.timing_us */
    int last_seq[N_KEYS]; /* last seq seen per key, -1 initially */
    int order_violations;
    int total, duplicates;
    char *dlq_reason[64]; /* reason header of "bad<i>" */
    int dlq_total;
    int missing_headers;
};

/* The config file of the last write_conf* call. */
extern char conf_file[64];

/* Starts `enrichd broker` with 4 partitions of in, out and dlq; stop with broker_stop. */
void broker_start(struct broker *b);
void broker_stop(struct broker *b);
/* Writes conf_file for the test topics, with the listener on a free port and extra
 * appended (more sections, may be ""). */
void write_conf_sections(const char *group, long max_inflight, const char *producer,
                         const char *stages, const char *extra);
void write_conf_full(const char *group, long max_inflight, const char *producer,
                     const char *stages);
/* Kafka-only: no stages, so the tests measure the daemon, not the models. */
void write_conf_extra(const char *group, long max_inflight, const char *producer);
void write_conf(const char *group, long max_inflight);
/* Starts `enrichd run`; its stderr goes to log (when not NULL) or the test's stderr. */
pid_t daemon_start_log(const struct broker *b, const char *log);
pid_t daemon_start(const struct broker *b);
/* Starts `enrichd run` as daemon_start_log does, with NOTIFY_SOCKET set to notify_socket
 * (when not NULL) and, when watchdog_usec > 0, WATCHDOG_USEC and WATCHDOG_PID for it. */
pid_t daemon_start_notify(const struct broker *b, const char *log, const char *notify_socket,
                          unsigned long watchdog_usec);
/* The port of the metrics listener, from the log of a daemon started with a log file. */
unsigned daemon_http_port(const char *log);
/* Waits up to timeout seconds for text to appear in file; returns the line or NULL. */
char *wait_for_line(const char *file, const char *text, double timeout, char *line, size_t len);
rd_kafka_t *producer_new(const struct broker *b);
void produce(rd_kafka_t *rk, const char *key, const char *value, size_t len);
struct bad_input bad_kind(int i);
/* Produces good articles [from, to) and, every 100th, one bad message "bad<i>". */
void produce_range(rd_kafka_t *rk, int from, int to, int *n_bad);
void seen_init(struct seen *s);
void seen_free(struct seen *s);
/* Reads out and dlq from the beginning until want_good distinct articles and want_bad dead
 * letters are seen, or timeout seconds pass; then reads on for settle seconds to catch
 * duplicates. */
void read_back(const struct broker *b, struct seen *s, int want_good, int want_bad, double timeout,
               double settle);
/* Waits (up to 60 s) until articles [0, n) are in the output topic. */
void wait_for_outputs(const struct broker *b, int n);
/* Every article [0, n_good) and dead letter [0, n_bad) seen, in order per key. */
void assert_complete(const struct seen *s, int n_good, int n_bad);
/* pid exits with status 0 within timeout seconds. */
void assert_clean_exit(pid_t pid, double timeout);

#endif
