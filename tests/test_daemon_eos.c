/* Exactly-once mode (`[kafka] processing.guarantee = exactly_once`): `enrichd run` against
 * librdkafka's mock cluster (run in this process) with a transactional producer. The tests
 * check the control flow the daemon can be held to on the mock: every input ends in the output
 * or the dead-letter topic, in order per key; the offsets committed with the last transaction
 * are the input's end offsets; injected EndTxn, Produce and TxnOffsetCommit errors that require
 * an abort are aborted and redone; fatal ones stop the daemon with status 1, and a restart
 * delivers the rest. librdkafka 2.0.2's mock neither hides aborted messages from read_committed
 * readers nor stores the offsets of TxnOffsetCommit nor fences an older producer, so the
 * duplicates a reader sees and the input a restart repeats are counted and printed, not
 * asserted away. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/conf.h"
#include "tests/daemon_harness.h"
#include "tests/harness/kafka_harness.h"
#include "tests/http_client.h"

#define N_PARTITIONS 4
#define N_INPUT 2000

/* Kafka protocol API keys (rdkafka_proto.h is not installed). */
enum api_key { API_PRODUCE = 0, API_TXN_OFFSET_COMMIT = 28, API_END_TXN = 26 };

TestSuite(daemon_eos, .fini = harness_reap_daemons);

struct eos_run {
    struct harness_mock mock;
    struct harness_flow flow;
    char *conf;
    char log[64];
    char label[64];
    pid_t d;
};

/* Starts the cluster, produces inputs [0, n_first) (all of them: injected Produce errors hit
 * only the daemon), and writes an exactly-once config with short transactions and the extra
 * [kafka.producer] lines producer. */
static void eos_setup_with(struct eos_run *r, const char *name, const char *producer, int n_first)
{
    char group[48];
    rd_kafka_t *prod;

    memset(r, 0, sizeof(*r));
    snprintf(r->label, sizeof(r->label), "%s", name);
    snprintf(group, sizeof(group), "g-eos-%s", name);
    harness_mock_start(&r->mock, 3, N_PARTITIONS);
    r->conf = harness_write_conf_kafka(group,
                                       "processing.guarantee = exactly_once\n"
                                       "transaction_interval_ms = 100\n"
                                       "transaction_max_messages = 500\n",
                                       "session.timeout.ms = 6000\nheartbeat.interval.ms = 500\n",
                                       producer);
    strcpy(r->log, "/tmp/test_eos_log_XXXXXX");
    close(mkstemp(r->log));
    prod = harness_producer_new(r->mock.bootstrap);
    for (int i = 0; i < n_first; i++)
        harness_produce_seq(prod, i);
    harness_producer_close(prod);
    harness_flow_init(&r->flow, r->mock.bootstrap, N_PARTITIONS, N_INPUT);
}

static void eos_setup(struct eos_run *r, const char *name)
{
    eos_setup_with(r, name, "", N_INPUT);
}

static void eos_show_log(const struct eos_run *r)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "tail -n 20 %s >&2", r->log);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
}

/* Counts the lines of the daemon's log that contain text. */
static int eos_log_count(const struct eos_run *r, const char *text)
{
    char line[4096];
    int n = 0;
    FILE *f = fopen(r->log, "r");

    cr_assert(f != NULL);
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, text) != NULL;
    fclose(f);
    return n;
}

/* Copies the rest of the last log line after text into out; 0 when there is none. */
static int eos_log_last(const struct eos_run *r, const char *text, char *out, size_t len)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen(r->log, "r");

    cr_assert(f != NULL);
    while (fgets(line, sizeof(line), f) != NULL) {
        char *at = strstr(line, text);
        if (at == NULL)
            continue;
        snprintf(out, len, "%s", at + strlen(text));
        out[strcspn(out, "\n")] = '\0';
        found = 1;
    }
    fclose(f);
    return found;
}

static void eos_assert_running(struct eos_run *r)
{
    int st;

    if (waitpid(r->d, &st, WNOHANG) == r->d) {
        eos_show_log(r);
        cr_assert_fail("%s: enrichd run exited with status 0x%x", r->label, st);
    }
}

/* Reads until every input is in, the daemon running all along. */
static void eos_wait_all(struct eos_run *r, double timeout)
{
    double deadline = harness_now() + timeout;

    while (r->flow.distinct < N_INPUT && harness_now() < deadline) {
        harness_flow_poll(&r->flow, 100);
        eos_assert_running(r);
    }
    harness_flow_poll(&r->flow, 1000);
    eos_assert_running(r);
}

static void eos_stop(struct eos_run *r)
{
    kill(r->d, SIGTERM);
    int st = harness_wait_exit(r->d, 60);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        eos_show_log(r);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: stop: status 0x%x", r->label,
              st);
}

/* The positions the daemon committed with its last transaction (its log line at shutdown)
 * are the end offsets of every input partition: the transactions carried the offsets of all
 * the input. */
static void eos_assert_committed_all(struct eos_run *r)
{
    char positions[2048], want[64];
    int64_t lo, hi;

    cr_assert(eos_log_last(r, "exactly-once: committed positions: ", positions, sizeof(positions)),
              "%s: no committed positions logged", r->label);
    for (int p = 0; p < N_PARTITIONS; p++) {
        cr_assert_eq(rd_kafka_query_watermark_offsets(r->flow.reader, "in", p, &lo, &hi, 10000),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
        if (hi == 0)
            continue;
        snprintf(want, sizeof(want), "in[%d]@%" PRId64, p, hi);
        cr_assert(strstr(positions, want) != NULL, "%s: committed %s, want %s", r->label, positions,
                  want);
    }
}

/* The transaction counts of the daemon's closing line. */
static void eos_txn_counts(struct eos_run *r, unsigned long *commits, unsigned long *aborts)
{
    char rest[256];

    /* The closing line is the last exactly-once line of a run. */
    cr_assert(eos_log_last(r, "exactly-once: ", rest, sizeof(rest)), "%s: no exactly-once line",
              r->label);
    cr_assert_eq(sscanf(rest, "%lu transaction(s) committed, %lu aborted", commits, aborts), 2,
                 "%s: closing line: %s", r->label, rest);
}

static void eos_free(struct eos_run *r)
{
    harness_flow_fini(&r->flow);
    harness_mock_stop(&r->mock);
    unlink(r->conf);
    free(r->conf);
    unlink(r->log);
}

Test(daemon_eos, delivers_every_input_once_and_commits_its_offsets_in_the_transactions,
     .timeout = 300)
{
    struct eos_run r;
    unsigned long commits, aborts;
    int first_total;

    eos_setup(&r, "happy");
    r.d = harness_daemon_start(r.conf, r.mock.bootstrap, r.log);
    eos_wait_all(&r, 120);
    eos_stop(&r);
    harness_flow_assert(&r.flow, "exactly-once, no faults");
    eos_txn_counts(&r, &commits, &aborts);
    fprintf(stderr, "exactly-once, no faults: %lu transactions committed, %lu aborted\n", commits,
            aborts);
    cr_assert_eq(aborts, 0, "aborted without a fault");
    cr_assert(commits >= N_INPUT / 500, "%lu commits for %d inputs", commits, N_INPUT);
    /* Without an abort nothing is produced twice: no reader can see a duplicate. */
    cr_assert_eq(r.flow.duplicates, 0, "%d duplicates", r.flow.duplicates);
    eos_assert_committed_all(&r);

    /* A restart resumes from the committed offsets on a real broker. librdkafka 2.0.2's mock
     * does not store TxnOffsetCommit offsets, so there it starts over (auto.offset.reset):
     * count what it repeats instead of asserting none. */
    first_total = r.flow.total;
    r.d = harness_daemon_start(r.conf, r.mock.bootstrap, r.log);
    double deadline = harness_now() + 60;
    while (r.flow.total < first_total + N_INPUT && harness_now() < deadline) {
        harness_flow_poll(&r.flow, 100);
        eos_assert_running(&r);
    }
    harness_flow_poll(&r.flow, 1000);
    eos_stop(&r);
    fprintf(stderr,
            "exactly-once restart on the mock: %d of %d inputs delivered again (the mock keeps "
            "no transactional offsets)\n",
            r.flow.total - first_total, N_INPUT);
    harness_flow_assert(&r.flow, "exactly-once, after a restart");
    eos_free(&r);
}

/* Waits up to 60 s for enrichd_producer_transactions_total{result="result"} on the daemon's
 * /metrics to reach at least min (the mock shows aborted output too, so the reader may see
 * every input before the abort or the last commit is counted); returns the last value. */
static long eos_metric_transactions(const struct eos_run *r, const char *result, long min)
{
    char want[96];
    unsigned port = daemon_http_port(r->log);
    double deadline = harness_now() + 60;
    long v = -1;

    snprintf(want, sizeof want, "\nenrichd_producer_transactions_total{result=\"%s\"} ", result);
    do {
        const char *at = strstr(body_of(http_request(port, "GET", "/metrics")), want);

        cr_assert_not_null(at, "%s: no series for %s", r->label, result);
        v = strtol(at + strlen(want), NULL, 10);
        if (v < min)
            harness_sleep_ms(100);
    } while (v < min && harness_now() < deadline);
    return v;
}

/* Pushes errs as the next n responses to api, starts the daemon and checks that it aborts,
 * rewinds and redoes: every input arrives, in order per key, the daemon keeps running, and the
 * last transaction commits the end offsets. */
static void abort_scenario(const char *name, enum api_key api, const rd_kafka_resp_err_t *errs,
                           size_t n)
{
    struct eos_run r;
    unsigned long commits, aborts;
    char label[96];

    eos_setup(&r, name);
    rd_kafka_mock_push_request_errors_array(r.mock.mc, api, n, errs);
    r.d = harness_daemon_start(r.conf, r.mock.bootstrap, r.log);
    eos_wait_all(&r, 120);
    cr_expect_geq(eos_metric_transactions(&r, "aborted", 1), 1, "%s: metric", name);
    cr_expect_geq(eos_metric_transactions(&r, "committed", 1), 1, "%s: metric", name);
    eos_stop(&r);
    snprintf(label, sizeof(label), "exactly-once, %s", name);
    harness_flow_assert(&r.flow, label);
    eos_txn_counts(&r, &commits, &aborts);
    fprintf(stderr, "%s: %lu transactions committed, %lu aborted, %d duplicates seen\n", label,
            commits, aborts, r.flow.duplicates);
    cr_assert(aborts >= 1, "%s: no transaction aborted", label);
    cr_assert(eos_log_count(&r, "aborting the transaction") >= 1);
    eos_assert_committed_all(&r);
    eos_free(&r);
}

Test(daemon_eos, aborts_and_redoes_after_end_txn_errors, .timeout = 300)
{
    static const rd_kafka_resp_err_t errs[] = {RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING,
                                               RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                               RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING};

    abort_scenario("EndTxn errors", API_END_TXN, errs, 3);
}

Test(daemon_eos, aborts_and_redoes_after_produce_errors, .timeout = 300)
{
    static const rd_kafka_resp_err_t errs[] = {RD_KAFKA_RESP_ERR_INVALID_RECORD,
                                               RD_KAFKA_RESP_ERR_INVALID_MSG,
                                               RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE};

    abort_scenario("Produce errors", API_PRODUCE, errs, 3);
}

Test(daemon_eos, aborts_and_redoes_after_txn_offset_commit_errors, .timeout = 300)
{
    static const rd_kafka_resp_err_t errs[] = {RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID,
                                               RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID};

    abort_scenario("TxnOffsetCommit errors", API_TXN_OFFSET_COMMIT, errs, 2);
}

/* A fatal error (the producer fenced) stops the daemon with status 1 and a clear line (want);
 * a restart delivers every input. */
static void fatal_scenario(const char *name, enum api_key api, rd_kafka_resp_err_t err,
                           const char *want)
{
    struct eos_run r;
    char label[96];

    eos_setup(&r, name);
    rd_kafka_mock_push_request_errors(r.mock.mc, api, 1, err);
    r.d = harness_daemon_start(r.conf, r.mock.bootstrap, r.log);
    int st = harness_wait_exit(r.d, 90);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 1)
        eos_show_log(&r);
    cr_assert(st != -1, "%s: the daemon kept running after a fatal error", name);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: status 0x%x", name, st);
    if (eos_log_count(&r, want) != 1 || eos_log_count(&r, "stopping (fatal") != 1)
        eos_show_log(&r);
    cr_assert_eq(eos_log_count(&r, want), 1, "%s: not one line \"%s\"", name, want);
    cr_assert_eq(eos_log_count(&r, "stopping (fatal"), 1, "%s: not one \"stopping (fatal\" line",
                 name);
    r.d = harness_daemon_start(r.conf, r.mock.bootstrap, r.log);
    eos_wait_all(&r, 120);
    eos_stop(&r);
    snprintf(label, sizeof(label), "exactly-once, %s, then a restart", name);
    harness_flow_assert(&r.flow, label);
    eos_assert_committed_all(&r);
    eos_free(&r);
}

Test(daemon_eos, stops_with_status_1_when_fenced_at_end_txn, .timeout = 300)
{
    fatal_scenario("EndTxn fenced", API_END_TXN, RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
                   "exactly-once: commit_transaction: fatal: ");
}

Test(daemon_eos, stops_with_status_1_when_fenced_at_txn_offset_commit, .timeout = 300)
{
    fatal_scenario("TxnOffsetCommit fenced", API_TXN_OFFSET_COMMIT,
                   RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH,
                   "exactly-once: send_offsets_to_transaction: fatal: ");
}

/* librdkafka reports a fenced Produce as a fatal error of the producer handle. */
Test(daemon_eos, stops_with_status_1_when_fenced_at_produce, .timeout = 300)
{
    fatal_scenario("Produce fenced", API_PRODUCE, RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH,
                   "fatal error: ");
}

/* The transaction coordinator answers after 6 s for a while, longer than the daemon lets a
 * transactional call block (5 s): the calls time out and are tried again, the loop keeps
 * going, and every input arrives. */
Test(daemon_eos, retries_transactional_calls_that_time_out, .timeout = 300)
{
    static const char *const topics[] = {"in", "out", "dlq"};
    struct eos_run r;
    unsigned long commits, aborts;
    rd_kafka_t *prod;

    eos_setup_with(&r, "slow-coordinator", "transactional.id = enrichd-test-slow\n", N_INPUT / 2);
    /* Broker 3 is the transaction coordinator and nothing else. */
    for (size_t t = 0; t < 3; t++)
        for (int p = 0; p < N_PARTITIONS; p++)
            cr_assert_eq(rd_kafka_mock_partition_set_leader(r.mock.mc, topics[t], p, 1 + p % 2),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    cr_assert_eq(rd_kafka_mock_coordinator_set(r.mock.mc, "group", "g-eos-slow-coordinator", 1),
                 RD_KAFKA_RESP_ERR_NO_ERROR);
    cr_assert_eq(rd_kafka_mock_coordinator_set(r.mock.mc, "transaction", "enrichd-test-slow", 3),
                 RD_KAFKA_RESP_ERR_NO_ERROR);
    r.d = harness_daemon_start(r.conf, r.mock.bootstrap, r.log);
    double deadline = harness_now() + 90;
    while (r.flow.distinct < N_INPUT / 4 && harness_now() < deadline) {
        harness_flow_poll(&r.flow, 100);
        eos_assert_running(&r);
    }
    cr_assert(r.flow.distinct >= N_INPUT / 4, "delivered %d before the fault", r.flow.distinct);
    cr_assert_eq(rd_kafka_mock_broker_set_rtt(r.mock.mc, 3, 6000), RD_KAFKA_RESP_ERR_NO_ERROR);
    prod = harness_producer_new(r.mock.bootstrap);
    for (int i = N_INPUT / 2; i < N_INPUT; i++)
        harness_produce_seq(prod, i);
    harness_producer_close(prod);
    /* Long enough for a transaction to begin, fill and commit against the slow coordinator. */
    double until = harness_now() + 20;
    while (harness_now() < until) {
        harness_flow_poll(&r.flow, 100);
        eos_assert_running(&r);
    }
    cr_assert_eq(rd_kafka_mock_broker_set_rtt(r.mock.mc, 3, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    eos_wait_all(&r, 120);
    eos_stop(&r);
    harness_flow_assert(&r.flow, "exactly-once, slow transaction coordinator");
    eos_txn_counts(&r, &commits, &aborts);
    fprintf(stderr,
            "exactly-once, slow transaction coordinator: %lu transactions committed, %lu "
            "aborted, %d calls retried, %d duplicates seen\n",
            commits, aborts, eos_log_count(&r, ": retrying"), r.flow.duplicates);
    cr_assert(eos_log_count(&r, ": retrying") >= 1, "no transactional call timed out");
    eos_assert_committed_all(&r);
    eos_free(&r);
}

/* A second member joins while input flows: the first ends its open transaction in the revoke
 * callback before it gives partitions up (logged), nothing is aborted, and every input
 * arrives in order per key. Each member has its own transactional.id. On the mock the member
 * that takes a partition starts it from the beginning (no stored offsets): the repeats are
 * counted. */
Test(daemon_eos, a_joining_member_gets_partitions_after_the_open_transaction_ends, .timeout = 300)
{
    struct eos_run a, b;
    const char *kafka = "processing.guarantee = exactly_once\ntransaction_interval_ms = 100\n";
    const char *consumer = "session.timeout.ms = 6000\nheartbeat.interval.ms = 500\n";
    unsigned long commits_a, aborts_a, commits_b, aborts_b;
    rd_kafka_t *prod;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    snprintf(a.label, sizeof(a.label), "member a");
    snprintf(b.label, sizeof(b.label), "member b");
    harness_mock_start(&a.mock, 3, N_PARTITIONS);
    a.conf = harness_write_conf_kafka("g-eos-rebalance", kafka, consumer,
                                      "transactional.id = enrichd-test-a\n");
    b.conf = harness_write_conf_kafka("g-eos-rebalance", kafka, consumer,
                                      "transactional.id = enrichd-test-b\n");
    strcpy(a.log, "/tmp/test_eos_log_XXXXXX");
    close(mkstemp(a.log));
    strcpy(b.log, "/tmp/test_eos_log_XXXXXX");
    close(mkstemp(b.log));
    prod = harness_producer_new(a.mock.bootstrap);
    harness_flow_init(&a.flow, a.mock.bootstrap, N_PARTITIONS, N_INPUT);
    a.d = harness_daemon_start(a.conf, a.mock.bootstrap, a.log);
    for (int i = 0; i < N_INPUT / 2; i++)
        harness_produce_seq(prod, i);
    double deadline = harness_now() + 90;
    while (a.flow.distinct < N_INPUT / 4 && harness_now() < deadline)
        harness_flow_poll(&a.flow, 100);
    cr_assert(a.flow.distinct >= N_INPUT / 4, "member a delivered %d", a.flow.distinct);
    b.d = harness_daemon_start(b.conf, a.mock.bootstrap, b.log);
    /* The second half trickles in (about 10 s) so the rebalance meets open transactions. */
    for (int i = N_INPUT / 2; i < N_INPUT; i++) {
        harness_produce_seq(prod, i);
        if (i % 10 == 0)
            harness_flow_poll(&a.flow, 100);
        eos_assert_running(&a);
        eos_assert_running(&b);
    }
    harness_producer_close(prod);
    deadline = harness_now() + 120;
    while ((a.flow.distinct < N_INPUT || eos_log_count(&b, "rebalance: assigned") == 0) &&
           harness_now() < deadline) {
        harness_flow_poll(&a.flow, 100);
        eos_assert_running(&a);
        eos_assert_running(&b);
    }
    harness_flow_poll(&a.flow, 1000);
    eos_stop(&b);
    eos_stop(&a);
    harness_flow_assert(&a.flow, "exactly-once, a second member joins");
    eos_txn_counts(&a, &commits_a, &aborts_a);
    eos_txn_counts(&b, &commits_b, &aborts_b);
    fprintf(stderr,
            "exactly-once, a second member joins: a %lu committed, %lu aborted, %d revoke(s), "
            "%d transaction(s) ended by a revoke; b %lu committed, %lu aborted; %d duplicates "
            "seen\n",
            commits_a, aborts_a, eos_log_count(&a, "rebalance: revoked"),
            eos_log_count(&a, "revoke: the open transaction was committed"), commits_b, aborts_b,
            a.flow.duplicates);
    cr_assert(eos_log_count(&b, "rebalance: assigned") >= 1, "member b got no partition");
    cr_assert(eos_log_count(&a, "rebalance: revoked") >= 1, "member a gave up no partition");
    cr_assert_eq(aborts_a + aborts_b, 0, "aborted without a fault");
    harness_flow_fini(&a.flow);
    harness_mock_stop(&a.mock);
    for (struct eos_run *r = &a; r != NULL; r = r == &a ? &b : NULL) {
        unlink(r->conf);
        free(r->conf);
        unlink(r->log);
    }
}

/* ---- configuration ---- */

/* Writes text to a new file; returns its path (new; the caller unlinks and frees it). */
static char *write_file(const char *text)
{
    char *path = strdup("/tmp/test_eos_conf_XXXXXX");
    int fd;

    cr_assert(path != NULL && (fd = mkstemp(path)) >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* `enrichd check -c text`: its exit status, and its stderr in out. */
static int check(const char *text, char *out, size_t len)
{
    char *path = write_file(text), cmd[512];
    FILE *p;
    size_t n;
    int st;

    snprintf(cmd, sizeof(cmd), "%s check -c %s 2>&1 >/dev/null", ENRICHD_BIN, path);
    cr_assert((p = popen(cmd, "r")) != NULL);
    n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    st = pclose(p);
    /* Keep the message from the file name on. */
    char *at = strstr(out, path);
    if (at != NULL)
        memmove(out, at + strlen(path), strlen(at + strlen(path)) + 1);
    unlink(path);
    free(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(eos_config, check_rejects_pass_through_properties_that_break_the_guarantee)
{
    char out[1024];

    cr_assert_eq(check("[kafka]\nprocessing.guarantee = exactly_once\n[pipeline]\nstages =\n", out,
                       sizeof(out)),
                 0, "%s", out);
    cr_assert_eq(check("[kafka]\nprocessing.guarantee = exactly_once\n"
                       "[kafka.consumer]\nenable.auto.commit = true\n[pipeline]\nstages =\n",
                       out, sizeof(out)),
                 CONF_EXIT_CONFIG);
    cr_assert(starts_with(out, ":4: [kafka.consumer] enable.auto.commit: must be false"), "%s",
              out);
    cr_assert_eq(check("[kafka]\nprocessing.guarantee = exactly_once\n"
                       "[kafka.consumer]\nisolation.level = read_uncommitted\n",
                       out, sizeof(out)),
                 CONF_EXIT_CONFIG);
    cr_assert(starts_with(out, ":4: [kafka.consumer] isolation.level: must be read_committed"),
              "%s", out);
    cr_assert_eq(check("[kafka.producer]\n\ntransactional.id = t1\n", out, sizeof(out)),
                 CONF_EXIT_CONFIG);
    cr_assert(starts_with(out, ":3: [kafka.producer] transactional.id: only with "
                               "processing.guarantee = exactly_once"),
              "%s", out);
    cr_assert_eq(check("[kafka]\nprocessing.guarantee = exactly_once\n"
                       "[kafka.producer]\ntransactional.id = enrichd-a\n[pipeline]\nstages =\n",
                       out, sizeof(out)),
                 0, "%s", out);
}
