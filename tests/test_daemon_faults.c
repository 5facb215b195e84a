/* Fault injection: `enrichd run` against librdkafka's mock cluster (run in this process) while
 * the test takes brokers down, injects Produce, Fetch and OffsetCommit errors, moves partition
 * leaders and the group coordinator and slows brokers down. Every scenario ends with every
 * input in the output or the dead-letter topic (duplicates counted), each key's order kept, and
 * the daemon still running, or stopped with status 1 when an outage outlasts the delivery
 * timeout. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness/kafka_harness.h"

#define N_PARTITIONS 4
#define N_INPUT 2000

/* Kafka protocol API keys (rdkafka_proto.h is not installed). */
enum api_key { API_PRODUCE = 0, API_FETCH = 1, API_OFFSET_COMMIT = 8 };

/* Brokers: the input partitions are led by 1, the output and dead-letter partitions by 2, the
 * group coordinator is 3; so each fault hits one role. */
#define BROKER_IN 1
#define BROKER_OUT 2
#define BROKER_COORD 3

TestSuite(daemon_faults, .fini = harness_reap_daemons);

struct scenario {
    struct harness_mock mock;
    struct harness_flow flow;
    char *conf;
    char log[64];
    char group[32];
    rd_kafka_t *prod;
    int produced_all; /* the second half is in already */
    pid_t d;
};

static void set_leaders(rd_kafka_mock_cluster_t *mc, const char *topic, int broker)
{
    for (int p = 0; p < N_PARTITIONS; p++)
        cr_assert_eq(rd_kafka_mock_partition_set_leader(mc, topic, p, broker),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* Starts the cluster and the daemon, produces the first half of the input and waits until
 * the daemon has delivered some of it; producer holds extra [kafka.producer] lines. */
static void scenario_start(struct scenario *s, const char *name, const char *producer)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->group, sizeof(s->group), "g-%s", name);
    harness_mock_start(&s->mock, 3, N_PARTITIONS);
    set_leaders(s->mock.mc, "in", BROKER_IN);
    set_leaders(s->mock.mc, "out", BROKER_OUT);
    set_leaders(s->mock.mc, "dlq", BROKER_OUT);
    cr_assert_eq(rd_kafka_mock_coordinator_set(s->mock.mc, "group", s->group, BROKER_COORD),
                 RD_KAFKA_RESP_ERR_NO_ERROR);
    s->conf = harness_write_conf(s->group, "session.timeout.ms = 6000\n"
                                           "heartbeat.interval.ms = 500\n", producer);
    strcpy(s->log, "/tmp/test_faults_log_XXXXXX");
    close(mkstemp(s->log));
    s->prod = harness_producer_new(s->mock.bootstrap);
    harness_flow_init(&s->flow, s->mock.bootstrap, N_PARTITIONS, N_INPUT);
    s->d = harness_daemon_start(s->conf, s->mock.bootstrap, s->log);
    for (int i = 0; i < N_INPUT / 2; i++)
        harness_produce_seq(s->prod, i);
    double deadline = harness_now() + 90;
    while (s->flow.distinct < N_INPUT / 4 && harness_now() < deadline)
        harness_flow_poll(&s->flow, 100);
    cr_assert(s->flow.distinct >= N_INPUT / 4, "%s: the daemon delivered %d before the fault",
              name, s->flow.distinct);
}

/* Shows the end of the daemon's log on stderr. */
static void scenario_show_log(const struct scenario *s)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "tail -n 15 %s >&2", s->log);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
}

/* Fails the test when the daemon has exited, showing the end of its log. */
static void scenario_assert_running(struct scenario *s, const char *name)
{
    int st;

    if (waitpid(s->d, &st, WNOHANG) == s->d) {
        scenario_show_log(s);
        cr_assert_fail("%s: enrichd run exited with status 0x%x", name, st);
    }
}

/* Produces the second half (unless done already) while the fault is on, reads for hold
 * seconds, clears the fault (clear may be NULL) and checks that everything arrives and the
 * daemon still runs. */
static void scenario_finish(struct scenario *s, const char *name, double hold,
                            void (*clear)(rd_kafka_mock_cluster_t *mc))
{
    double until = harness_now() + hold;

    for (int i = N_INPUT / 2; i < N_INPUT && !s->produced_all; i++)
        harness_produce_seq(s->prod, i);
    while (harness_now() < until) {
        harness_flow_poll(&s->flow, 100);
        rd_kafka_poll(s->prod, 0);
        scenario_assert_running(s, name);
    }
    if (clear != NULL)
        clear(s->mock.mc);
    harness_producer_close(s->prod);
    harness_flow_wait(&s->flow, 120, 1.0);
    scenario_assert_running(s, name);
    kill(s->d, SIGTERM);
    /* The consumer close may wait up to librdkafka's socket.timeout.ms (60 s) for a request
     * that gets no answer: once, under ASan on a loaded machine, the daemon was still in it
     * (after "rebalance: revoked") 60 s after SIGTERM. */
    int st = harness_wait_exit(s->d, 100);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        scenario_show_log(s);
    cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: stop: status 0x%x", name,
              st);
    harness_flow_assert(&s->flow, name);
}

static void scenario_free(struct scenario *s)
{
    harness_flow_fini(&s->flow);
    harness_mock_stop(&s->mock);
    unlink(s->conf);
    free(s->conf);
    unlink(s->log);
}

/* The broker a down_scenario took down, for the clear callback. */
static int down_broker;

static void down_broker_up(rd_kafka_mock_cluster_t *mc)
{
    cr_assert_eq(rd_kafka_mock_broker_set_up(mc, down_broker), RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* Takes broker down for hold seconds while the second half of the input goes in. */
static void down_scenario(const char *name, const char *label, int broker, double hold)
{
    struct scenario s;

    scenario_start(&s, name, "");
    down_broker = broker;
    cr_assert_eq(rd_kafka_mock_broker_set_down(s.mock.mc, broker), RD_KAFKA_RESP_ERR_NO_ERROR);
    scenario_finish(&s, label, hold, down_broker_up);
    scenario_free(&s);
}

static void all_rtt_zero(rd_kafka_mock_cluster_t *mc)
{
    for (int b = 1; b <= 3; b++)
        cr_assert_eq(rd_kafka_mock_broker_set_rtt(mc, b, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
}

Test(daemon_faults, output_leader_down_shorter_than_the_delivery_timeout, .timeout = 300)
{
    down_scenario("out-down", "output leader down 5 s", BROKER_OUT, 5);
}

/* The test's own producer waits for the input leader like the daemon's consumer. */
Test(daemon_faults, input_leader_down, .timeout = 300)
{
    down_scenario("in-down", "input leader down 4 s", BROKER_IN, 4);
}

Test(daemon_faults, coordinator_down, .timeout = 300)
{
    down_scenario("coord-down", "coordinator down 4 s", BROKER_COORD, 4);
}

/* Pushes each of errs, repeat times over, as the next responses to requests of api (from any
 * client: the test's own producer and reader take their share). */
static void errors_scenario(const char *name, const char *label, enum api_key api,
                            const rd_kafka_resp_err_t *errs, size_t n_errs, double hold)
{
    struct scenario s;
    rd_kafka_resp_err_t pushed[64];
    size_t n = 0;

    scenario_start(&s, name, "");
    for (int r = 0; r < 3; r++)
        for (size_t i = 0; i < n_errs && n < 64; i++)
            pushed[n++] = errs[i];
    rd_kafka_mock_push_request_errors_array(s.mock.mc, api, n, pushed);
    scenario_finish(&s, label, hold, NULL);
    scenario_free(&s);
}

Test(daemon_faults, produce_errors, .timeout = 300)
{
    static const rd_kafka_resp_err_t errs[] = {
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE};

    errors_scenario("produce-err", "Produce errors", API_PRODUCE, errs, 4, 2);
}

Test(daemon_faults, fetch_errors, .timeout = 300)
{
    static const rd_kafka_resp_err_t errs[] = {
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE};

    errors_scenario("fetch-err", "Fetch errors", API_FETCH, errs, 4, 2);
}

Test(daemon_faults, offset_commit_errors, .timeout = 300)
{
    static const rd_kafka_resp_err_t errs[] = {
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS};

    errors_scenario("commit-err", "OffsetCommit errors", API_OFFSET_COMMIT, errs, 4, 3);
}

Test(daemon_faults, leaders_and_coordinator_move, .timeout = 300)
{
    struct scenario s;

    scenario_start(&s, "move", "");
    set_leaders(s.mock.mc, "in", 2);
    set_leaders(s.mock.mc, "out", 3);
    set_leaders(s.mock.mc, "dlq", 1);
    cr_assert_eq(rd_kafka_mock_coordinator_set(s.mock.mc, "group", s.group, 1),
                 RD_KAFKA_RESP_ERR_NO_ERROR);
    scenario_finish(&s, "leader and coordinator moves", 2, NULL);
    scenario_free(&s);
}

Test(daemon_faults, slow_brokers, .timeout = 300)
{
    struct scenario s;

    scenario_start(&s, "rtt", "");
    for (int b = 1; b <= 3; b++)
        cr_assert_eq(rd_kafka_mock_broker_set_rtt(s.mock.mc, b, 300), RD_KAFKA_RESP_ERR_NO_ERROR);
    scenario_finish(&s, "300 ms round trips", 4, all_rtt_zero);
    scenario_free(&s);
}

/* The output leader stays down longer than message.timeout.ms: the daemon stops with status 1
 * having stored only what was delivered, and a restart after the outage delivers the rest. */
Test(daemon_faults, output_outage_beyond_the_delivery_timeout_stops_with_status_1,
     .timeout = 300)
{
    struct scenario s;

    scenario_start(&s, "outage", "message.timeout.ms = 3000\n");
    cr_assert_eq(rd_kafka_mock_broker_set_down(s.mock.mc, BROKER_OUT), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int i = N_INPUT / 2; i < N_INPUT; i++)
        harness_produce_seq(s.prod, i);
    s.produced_all = 1;
    int st = harness_wait_exit(s.d, 90);
    cr_assert(st != -1, "the daemon kept running through an outage beyond its delivery timeout");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status 0x%x", st);
    down_broker = BROKER_OUT;
    down_broker_up(s.mock.mc);
    s.d = harness_daemon_start(s.conf, s.mock.bootstrap, s.log);
    scenario_finish(&s, "output outage beyond the delivery timeout, then restart", 0, NULL);
    scenario_free(&s);
}
