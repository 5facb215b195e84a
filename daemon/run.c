/* run: `enrichd run` (the daemon) and `enrichd check` (validate config, load models). */
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/conf.h"
#include "daemon/commands.h"
#include "daemon/engine.h"
#include "daemon/log.h"
#include "stages/pipeline.h"

#ifndef ENRICHD_CONFIG_DIR
#define ENRICHD_CONFIG_DIR "/etc/enrichd"
#endif
#define RUN_DEFAULT_CONF ENRICHD_CONFIG_DIR "/enrichd.conf"
#define RUN_MAX_STAGES 16

static void run_usage(FILE *out, const char *cmd)
{
    fprintf(out,
            "usage: enrichd %s [-c FILE] [--brokers B] [--input T1,T2] [--output T] [--dlq T]\n"
            "                   [--group G] [--stages LIST]%s\n"
            "%s"
            "  -c, --config FILE  config file (default %s)\n"
            "  --brokers B        [kafka] brokers\n"
            "  --input T1,T2      [kafka] input_topics\n"
            "  --output T         [kafka] output_topic\n"
            "  --dlq T            [kafka] dlq_topic\n"
            "  --group G          [kafka] group_id\n"
            "  --stages LIST      [pipeline] stages; `none` or empty for no stages\n"
            "%s"
            "Exit status: 0, 1 on a fatal Kafka error, 64 on usage errors, 78 on config errors.\n",
            cmd, strcmp(cmd, "check") == 0 ? " [--dump-config]" : "",
            strcmp(cmd, "check") == 0
                ? "Loads the config and the models, connects to nothing, prints `configuration "
                  "OK`.\n"
                : "Consumes articles, enriches them and produces them until SIGTERM/SIGINT.\n",
            RUN_DEFAULT_CONF,
            strcmp(cmd, "check") == 0
                ? "  --dump-config      print the effective config, secret values redacted\n"
                : "");
}

/* Where the config comes from: the file and the command-line overrides, kept for reloads. */
struct run_source {
    const char *path; /* borrowed from argv or the default */
    struct run_override {
        const char *section, *key, *value;
    } overrides[8];
    size_t n_over;
    int dump_config; /* check --dump-config */
};

/* Parses the command line into src; --dump-config only for `check`. Returns 0, -1 after --help,
 * or 64. */
static int run_args(int argc, char **argv, const char *cmd, struct run_source *src)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"brokers", required_argument, NULL, 'b'},
        {"input", required_argument, NULL, 'i'},  {"output", required_argument, NULL, 'o'},
        {"dlq", required_argument, NULL, 'd'},    {"group", required_argument, NULL, 'g'},
        {"stages", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
        {"dump-config", no_argument, NULL, 'D'},  {NULL, 0, NULL, 0},
    };
    int c;

    memset(src, 0, sizeof(*src));
    src->path = RUN_DEFAULT_CONF;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        const char *key = NULL, *section = "kafka";
        switch (c) {
        case 'c':
            src->path = optarg;
            continue;
        case 'b':
            key = "brokers";
            break;
        case 'i':
            key = "input_topics";
            break;
        case 'o':
            key = "output_topic";
            break;
        case 'd':
            key = "dlq_topic";
            break;
        case 'g':
            key = "group_id";
            break;
        case 's':
            key = "stages";
            section = "pipeline";
            if (strcmp(optarg, "none") == 0)
                optarg = (char *)"";
            break;
        case 'D':
            if (strcmp(cmd, "check") != 0) {
                run_usage(stderr, cmd);
                return 64;
            }
            src->dump_config = 1;
            continue;
        case 'h':
            run_usage(stdout, cmd);
            return -1;
        default:
            run_usage(stderr, cmd);
            return 64;
        }
        if (src->n_over < sizeof(src->overrides) / sizeof(src->overrides[0]))
            src->overrides[src->n_over++] = (struct run_override){section, key, optarg};
    }
    if (optind < argc) {
        run_usage(stderr, cmd);
        return 64;
    }
    return 0;
}

/* The line of key in s, 0 when absent or not from the file. */
static int run_key_line(const struct conf_section *s, const char *key)
{
    for (size_t i = 0; i < s->n_kv; i++)
        if (strcmp(s->kv[i].key, key) == 0)
            return s->kv[i].line;
    return 0;
}

/* The pass-through properties that contradict [kafka] processing.guarantee: exactly-once
 * leaves the consumer's offsets to the transactions and reads transactional input as
 * committed; a transactional producer exists only in that mode. Returns 0 or -EINVAL with
 * `file:line: [section] key: reason` in err. */
static int run_check_guarantee(const struct conf *conf, struct errbuf *err)
{
    const struct conf_section *bad = NULL;
    const char *key = NULL, *reason = NULL, *v;

    if (conf_exactly_once(conf)) {
        if ((v = conf_section_get(&conf->consumer, "enable.auto.commit")) != NULL &&
            strcasecmp(v, "false") != 0 && strcmp(v, "0") != 0 && strcasecmp(v, "f") != 0) {
            bad = &conf->consumer;
            key = "enable.auto.commit";
            reason = "must be false with processing.guarantee = exactly_once (the offsets are "
                     "committed in the transactions)";
        } else if ((v = conf_section_get(&conf->consumer, "isolation.level")) != NULL &&
                   strcmp(v, "read_committed") != 0) {
            bad = &conf->consumer;
            key = "isolation.level";
            reason = "must be read_committed with processing.guarantee = exactly_once";
        }
    } else if (conf_section_get(&conf->producer, "transactional.id") != NULL) {
        bad = &conf->producer;
        key = "transactional.id";
        reason = "only with processing.guarantee = exactly_once";
    }
    if (bad == NULL)
        return 0;
    return errbuf_set(err, -EINVAL, "%s:%d: [%s] %s: %s", conf->file, run_key_line(bad, key),
                      bad->name, key, reason);
}

/* Applies src's command-line overrides to a loaded conf and checks processing.guarantee
 * against the pass-through properties. Returns 0 or 78 with the reason in err. */
static int run_overrides(const struct run_source *src, struct conf *conf, struct errbuf *err)
{
    for (size_t i = 0; i < src->n_over; i++)
        if (conf_set(conf, src->overrides[i].section, src->overrides[i].key,
                     src->overrides[i].value, 0, err) != 0)
            return CONF_EXIT_CONFIG;
    if (run_check_guarantee(conf, err) != 0)
        return CONF_EXIT_CONFIG;
    return 0;
}

/* A conf_report_fn that prints one line per error on stderr; user is the command's name. */
static void run_report(void *user, const char *msg)
{
    fprintf(stderr, "enrichd %s: %s\n", (const char *)user, msg);
}

/* A conf_report_fn that keeps the first error in the errbuf user. */
static void run_report_first(void *user, const char *msg)
{
    struct errbuf *err = user;

    if (err->msg[0] == '\0')
        errbuf_set(err, -EINVAL, "%s", msg);
}

/* Parses the command line and loads the config, printing every error. Returns 0, -1 after
 * --help, 64, 71 or 78. */
static int run_load(int argc, char **argv, const char *cmd, struct run_source *src,
                    struct conf *conf)
{
    struct errbuf err = {{0}};
    int rc;

    if ((rc = run_args(argc, argv, cmd, src)) != 0)
        return rc;
    if (conf_init(conf) != 0) {
        fprintf(stderr, "enrichd %s: out of memory\n", cmd);
        return 71;
    }
    if (conf_load_all(conf, src->path, run_report, (void *)cmd) != 0)
        return CONF_EXIT_CONFIG;
    if ((rc = run_overrides(src, conf, &err)) != 0)
        fprintf(stderr, "enrichd %s: %s\n", cmd, err.msg);
    return rc;
}

/* Builds the pipeline the config names. Returns NULL with every reason given to report. */
static struct pipeline *run_pipeline(const struct conf *conf, conf_report_fn *report, void *user)
{
    const char *names[RUN_MAX_STAGES];
    size_t n = 0;
    struct errbuf err = {{0}};
    struct pipeline_options opts = {
        .max_bytes = (size_t)conf->max_message_bytes,
        .id_field = conf->id_field,
        .title_field = conf->title_field,
        .text_field = conf->text_field,
        .accept_plain_text = conf->accept_plain_text,
        .timing = conf->timing,
    };
    struct pipeline *p;
    char msg[sizeof(err.msg) + 256];
    int unknown = 0;

    if (conf->stages_set) {
        for (; n < conf->n_stages && n < RUN_MAX_STAGES; n++)
            names[n] = conf->stages[n];
    } else {
        for (; stage_registry[n] != NULL && n < RUN_MAX_STAGES; n++)
            names[n] = stage_registry[n]->name;
    }
    /* A [stage.NAME] section for a stage that does not exist is most likely a typo. */
    for (size_t i = 0; i < conf->n_stage_sections; i++) {
        const struct conf_section *s = &conf->stage_sections[i];
        if (stage_find(s->name + 6) == NULL) {
            snprintf(msg, sizeof(msg), "%s:%d: [%s] %s: unknown stage", conf->file,
                     s->n_kv > 0 ? s->kv[0].line : 0, s->name, s->n_kv > 0 ? s->kv[0].key : "");
            report(user, msg);
            unknown = 1;
        }
    }
    if (unknown)
        return NULL;
    p = pipeline_new(names, n, conf->stage_sections, conf->n_stage_sections, &opts, &err);
    if (p == NULL) {
        snprintf(msg, sizeof(msg), "%s: [pipeline] stages: %s", conf->file, err.msg);
        report(user, msg);
    }
    return p;
}

/* The engine's reload (SIGHUP, on a worker thread): the same file and overrides again. */
static int run_reload(void *arg, struct conf **conf_out, struct pipeline **pipe_out,
                      struct errbuf *err)
{
    const struct run_source *src = arg;
    struct conf *conf = calloc(1, sizeof(*conf));

    if (conf == NULL)
        return errbuf_set(err, -ENOMEM, "out of memory");
    err->msg[0] = '\0';
    if (conf_init(conf) != 0 || conf_load(conf, src->path, err) != 0 ||
        run_overrides(src, conf, err) != 0 ||
        (*pipe_out = run_pipeline(conf, run_report_first, err)) == NULL) {
        if (err->msg[0] == '\0')
            errbuf_set(err, -ENOMEM, "out of memory");
        conf_free(conf);
        free(conf);
        return -EINVAL;
    }
    *conf_out = conf;
    return 0;
}

/* ---- enrichd check ---- */

/* Applies the consumer's and the producer's properties, with those enrichd sets itself, to
 * scratch librdkafka configs, as the daemon would; creates no client. Returns 0 or -EINVAL
 * with the errors printed. */
static int run_check_kafka(const struct conf *conf)
{
    static const char *const consumer_managed[][2] = {
        {"enable.auto.offset.store", "false"},
        {"partition.assignment.strategy", "cooperative-sticky"},
    };
    const struct conf_section *sections[] = {&conf->consumer, &conf->producer};
    struct errbuf err = {{0}};
    char errstr[512];
    int rc = 0;

    for (size_t i = 0; i < 2; i++) {
        rd_kafka_conf_t *kc = rd_kafka_conf_new();
        int bad = rd_kafka_conf_set(kc, "bootstrap.servers", conf->brokers, errstr,
                                    sizeof(errstr)) != RD_KAFKA_CONF_OK;
        if (bad)
            fprintf(stderr, "enrichd check: %s: [kafka] brokers: %s\n", conf->file, errstr);
        if (!bad && i == 0) {
            bad = rd_kafka_conf_set(kc, "group.id", conf->group_id, errstr, sizeof(errstr)) !=
                  RD_KAFKA_CONF_OK;
            if (bad)
                fprintf(stderr, "enrichd check: %s: [kafka] group_id: %s\n", conf->file, errstr);
            for (size_t j = 0; !bad && j < sizeof(consumer_managed) / sizeof(consumer_managed[0]);
                 j++)
                bad = rd_kafka_conf_set(kc, consumer_managed[j][0], consumer_managed[j][1], errstr,
                                        sizeof(errstr)) != RD_KAFKA_CONF_OK;
        } else if (!bad) {
            bad = rd_kafka_conf_set(kc, "enable.idempotence", "true", errstr, sizeof(errstr)) !=
                  RD_KAFKA_CONF_OK;
        }
        if (!bad && conf_rdkafka_apply(kc, sections[i], &err) != 0) {
            fprintf(stderr, "enrichd check: %s\n", err.msg);
            bad = 1;
        }
        rd_kafka_conf_destroy(kc);
        if (bad)
            rc = -EINVAL;
    }
    return rc;
}

/* --dump-config shows the stages that would run, not "every registered stage". */
static int run_expand_stages(struct conf *conf)
{
    char list[512] = "";
    size_t used = 0;
    struct errbuf err;

    if (conf->stages_set)
        return 0;
    for (size_t i = 0; stage_registry[i] != NULL; i++)
        used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0, "%s%s",
                                 i == 0 ? "" : ", ", stage_registry[i]->name);
    if (used >= sizeof(list))
        return -ENOMEM;
    return conf_set(conf, "pipeline", "stages", list, -1, &err);
}

int cmd_check(int argc, char **argv)
{
    struct run_source src;
    struct conf conf;
    struct pipeline *p;
    int rc;

    memset(&conf, 0, sizeof(conf));
    if ((rc = run_load(argc, argv, "check", &src, &conf)) != 0) {
        conf_free(&conf);
        return rc < 0 ? 0 : rc;
    }
    if (run_check_kafka(&conf) != 0) {
        conf_free(&conf);
        return CONF_EXIT_CONFIG;
    }
    if ((p = run_pipeline(&conf, run_report, (void *)"check")) == NULL) {
        conf_free(&conf);
        return CONF_EXIT_CONFIG;
    }
    pipeline_free(p);
    if (src.dump_config) {
        /* stdout stays a config file; the verdict goes to stderr */
        rc = run_expand_stages(&conf) != 0 || conf_dump(&conf, stdout) != 0 ? 74 : 0;
        fprintf(stderr, "configuration OK\n");
    } else {
        printf("configuration OK\n");
    }
    conf_free(&conf);
    return fflush(stdout) == 0 ? rc : 74;
}

int cmd_run(int argc, char **argv)
{
    struct run_source src;
    struct engine_reload reload = {run_reload, &src};
    struct conf conf;
    struct pipeline *p;
    char threads[24];
    long workers;
    int rc;

    log_init();
    memset(&conf, 0, sizeof(conf));
    if ((rc = run_load(argc, argv, "run", &src, &conf)) != 0) {
        conf_free(&conf);
        return rc < 0 ? 0 : rc;
    }
    log_set_conf_level(conf.log_level);
    if ((p = run_pipeline(&conf, run_report, (void *)"run")) == NULL) {
        conf_free(&conf);
        return CONF_EXIT_CONFIG;
    }
    /* libuv sizes its worker pool from the environment on first use. */
    workers = conf.workers > 0 ? conf.workers : sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(threads, sizeof(threads), "%ld", workers > 0 ? workers : 1);
    setenv("UV_THREADPOOL_SIZE", threads, 1);
    rc = engine_run(&conf, p, &reload, NULL);
    pipeline_free(p);
    conf_free(&conf);
    return rc;
}
