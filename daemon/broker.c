/* broker: `enrichd broker`, a local Kafka-protocol broker on librdkafka's mock cluster. */
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/commands.h"

#define BROKER_MAX_TOPICS 32

static void broker_usage(FILE *out)
{
    fprintf(out,
            "usage: enrichd broker [--partitions N] [--brokers N] [--topic NAME]... [--port N]\n"
            "Runs a local Kafka-protocol broker (librdkafka's mock cluster) for trying enrichd\n"
            "without Kafka. Prints one line `bootstrap.servers=HOST:PORT[,...]` on stdout, then\n"
            "serves until SIGTERM or SIGINT. Data lives in memory only (about 5 MB per partition).\n"
            "  --partitions N  partitions of each --topic (default 4)\n"
            "  --topic NAME    create topic NAME at start (repeatable); other topics are\n"
            "                  created on first use with the mock cluster's default partitions\n"
            "  --brokers N     brokers in the cluster (default 1)\n"
            "  --port N        only 0 (any free port): librdkafka %s's mock cluster listens on\n"
            "                  ephemeral ports and offers no way to choose one\n",
            rd_kafka_version_str());
}

static int broker_parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

int cmd_broker(int argc, char **argv)
{
    static const struct option opts[] = {
        {"partitions", required_argument, NULL, 'p'}, {"topic", required_argument, NULL, 't'},
        {"brokers", required_argument, NULL, 'b'},    {"port", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
    };
    const char *topics[BROKER_MAX_TOPICS];
    int n_topics = 0, partitions = 4, brokers = 1, port = 0, c, sig, rc = 0;
    char errstr[512], nbrokers[16];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mcluster;
    sigset_t set;

    optind = 1;
    while ((c = getopt_long(argc, argv, "p:t:b:P:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (broker_parse_int(optarg, 1, 1000, &partitions) != 0) {
                fprintf(stderr, "enrichd broker: --partitions: must be 1..1000\n");
                return 64;
            }
            break;
        case 't':
            if (n_topics == BROKER_MAX_TOPICS || *optarg == '\0') {
                fprintf(stderr, "enrichd broker: --topic: at most %d non-empty names\n",
                        BROKER_MAX_TOPICS);
                return 64;
            }
            topics[n_topics++] = optarg;
            break;
        case 'b':
            if (broker_parse_int(optarg, 1, 16, &brokers) != 0) {
                fprintf(stderr, "enrichd broker: --brokers: must be 1..16\n");
                return 64;
            }
            break;
        case 'P':
            if (broker_parse_int(optarg, 0, 65535, &port) != 0) {
                fprintf(stderr, "enrichd broker: --port: must be 0..65535\n");
                return 64;
            }
            if (port != 0) {
                fprintf(stderr,
                        "enrichd broker: --port %d: librdkafka %s's mock cluster cannot listen "
                        "on a chosen port; use --port 0 and read bootstrap.servers\n",
                        port, rd_kafka_version_str());
                return 64;
            }
            break;
        case 'h':
            broker_usage(stdout);
            return 0;
        default:
            broker_usage(stderr);
            return 64;
        }
    }
    if (optind < argc) {
        broker_usage(stderr);
        return 64;
    }

    /* Block the stop signals before librdkafka starts its threads, so they inherit the mask
     * and sigwait below is the only receiver. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    snprintf(nbrokers, sizeof(nbrokers), "%d", brokers);
    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "test.mock.num.brokers", nbrokers, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "enrichd broker: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 70;
    }
    if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))) == NULL) {
        fprintf(stderr, "enrichd broker: cannot start the mock cluster: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 70;
    }
    if ((mcluster = rd_kafka_handle_mock_cluster(rk)) == NULL) {
        fprintf(stderr, "enrichd broker: librdkafka has no mock cluster support\n");
        rd_kafka_destroy(rk);
        return 70;
    }
    for (int i = 0; i < n_topics; i++) {
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(mcluster, topics[i], partitions, brokers < 3 ? brokers : 3);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "enrichd broker: cannot create topic %s: %s\n", topics[i],
                    rd_kafka_err2str(err));
            rc = 70;
            goto out;
        }
    }
    printf("bootstrap.servers=%s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
    if (fflush(stdout) != 0) {
        rc = 74;
        goto out;
    }
    while (sigwait(&set, &sig) != 0)
        ;
    fprintf(stderr, "enrichd broker: %s, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
out:
    rd_kafka_destroy(rk);
    return rc;
}
