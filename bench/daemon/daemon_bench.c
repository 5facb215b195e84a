/* daemon_bench: end-to-end throughput, latency and memory of `enrichd run` on `enrichd broker`.
 *
 * Starts the local broker and the daemon, produces N German and English news articles built
 * from the repository's test data, reads the output and dead-letter topics, and reports
 * articles/s, produce-to-read latency percentiles, the daemon's RSS over the run and the final
 * counts (output, dead-letter, missing, duplicates). The producer is paced against what has
 * been read back so the backlog stays well inside what the mock cluster retains (about 5 MB
 * per partition); an article the mock dropped before the daemon read it shows as missing. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_TOPIC_IN "bench.in"
#define BENCH_TOPIC_OUT "bench.out"
#define BENCH_TOPIC_DLQ "bench.dlq"
#define BENCH_MAX_DATA 16
#define BENCH_MAX_MARKS 101
#define BENCH_POOL 4096
#define BENCH_WARMUP 8

struct options {
    long n;              /* articles */
    long size;           /* target bytes per article value */
    int partitions;      /* of each topic */
    const char *stages;  /* NULL: every registered stage; "" or "none": none */
    int workers;         /* [pipeline] workers, 0 = one per CPU */
    double rate;         /* articles/s cap, 0 = as fast as the backlog allows */
    long backlog_kb;     /* unread backlog per partition, KiB */
    int report_pct;      /* progress line every this many percent */
    double idle_timeout; /* give up after this many seconds without a new article read */
    double settle;       /* read on this long after the last article to catch duplicates */
    const char *enrichd; /* binary */
    const char *models;  /* ENRICHD_MODEL_DIR */
    const char *data[BENCH_MAX_DATA];
    int n_data;
    const char *extra[32]; /* extra config lines "section.key=value" */
    int n_extra;
    long bad_every; /* every this many articles one is bad input (0: none) */
    int keep;       /* keep the work directory */
};

/* Text chunks (sentences or short articles) of one language. */
struct corpus {
    char **chunk;
    size_t n, cap;
};

/* One generated article without its id: `"title":...}` (the bytes after `{"id":"...",`). */
struct article {
    char *tail;
    size_t len;
};

struct mark {
    double t;       /* seconds since the first produce */
    long read;      /* distinct articles read */
    long rss_kb;    /* daemon VmRSS */
    long broker_kb; /* broker VmRSS */
};

static volatile sig_atomic_t bench_interrupted;
static atomic_long bench_read;    /* distinct articles read back (output or dead-letter) */
static atomic_long bench_warm;    /* warm-up articles read back */
static atomic_long bench_out_avg; /* mean output record bytes so far */
static atomic_long bench_dr_errs; /* producer delivery failures */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void on_signal(int sig)
{
    (void)sig;
    bench_interrupted = 1;
}

static void die(const char *what)
{
    fprintf(stderr, "daemon_bench: %s\n", what);
    exit(2);
}

/* VmRSS (or another kB field) of pid from /proc, -1 if gone. */
static long proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    size_t flen = strlen(field);
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            kb = strtol(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

/* ---- articles ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void corpus_add(struct corpus *c, const char *text)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        if ((c->chunk = realloc(c->chunk, c->cap * sizeof(*c->chunk))) == NULL)
            die("out of memory");
    }
    if ((c->chunk[c->n++] = strdup(text)) == NULL)
        die("out of memory");
}

/* Loads the `text` of every JSON line of path into de or en by its `lang` (or an id that
 * starts with "de"). */
static void corpus_load(const char *path, struct corpus *de, struct corpus *en)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        fprintf(stderr, "daemon_bench: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)len, 0, &jerr);
        const char *text = json_string_value(json_object_get(o, "text"));
        const char *lang = json_string_value(json_object_get(o, "lang"));
        const char *id = json_string_value(json_object_get(o, "id"));
        if (text != NULL && *text != '\0') {
            int german =
                lang != NULL ? strcmp(lang, "de") == 0 : (id != NULL && strncmp(id, "de", 2) == 0);
            corpus_add(german ? de : en, text);
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
}

/* The first up to 8 words of text, as a title. */
static char *title_of(const char *text)
{
    const char *p = text;
    char *t;

    for (int words = 0; *p != '\0' && words < 8; p++)
        if (*p == ' ')
            words++;
    if ((t = strndup(text, (size_t)(p - text))) == NULL)
        die("out of memory");
    for (size_t n = strlen(t); n > 0 && (t[n - 1] == ' ' || t[n - 1] == '.' || t[n - 1] == ',');)
        t[--n] = '\0';
    return t;
}

/* Article k: language by parity (German even, English odd), random chunks of that language
 * joined until the JSON value reaches about size bytes with its id. */
static struct article article_make(const struct corpus *c, long k, long size)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)k * 0x100000001b3ULL + 1);
    size_t cap = (size_t)size + 4096, len = 0;
    char *text = malloc(cap);
    json_t *o = json_object();
    struct article a;
    char when[32];

    if (text == NULL || o == NULL)
        die("out of memory");
    text[0] = '\0';
    /* 26 bytes of `{"id":"b00000000",` plus the title, date and keys come on top of the text. */
    while ((long)len + 200 < size) {
        const char *s = c->chunk[rng_next(&seed) % c->n];
        size_t sl = strlen(s);
        if (len + sl + 2 >= cap)
            break;
        if (len > 0)
            text[len++] = ' ';
        memcpy(text + len, s, sl + 1);
        len += sl;
    }
    char *title = title_of(c->chunk[rng_next(&seed) % c->n]);
    snprintf(when, sizeof(when), "2024-%02d-%02dT%02d:00:00Z", (int)(k % 12) + 1, (int)(k % 28) + 1,
             (int)(k % 24));
    json_object_set_new(o, "title", json_string(title));
    json_object_set_new(o, "published_at", json_string(when));
    json_object_set_new(o, "text", json_string(text));
    char *js = json_dumps(o, JSON_COMPACT);
    if (js == NULL)
        die("cannot encode an article");
    /* Drop the leading '{': the id is put in front per message. */
    a.len = strlen(js) - 1;
    if ((a.tail = strdup(js + 1)) == NULL)
        die("out of memory");
    free(js);
    free(title);
    free(text);
    json_decref(o);
    return a;
}

/* ---- processes ---- */

struct child {
    pid_t pid;
    char log[4096];
    double cpu_s; /* user + system CPU seconds, once stopped */
};

static double cpu_s(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static void child_reaped(struct child *ch, const struct rusage *ru)
{
    ch->pid = 0;
    ch->cpu_s = cpu_s(ru);
}

/* Runs argv with stdout to out_fd (or the log) and stderr to the child's log. */
static void child_start(struct child *ch, char *const argv[], int out_fd)
{
    if ((ch->pid = fork()) < 0)
        die("fork failed");
    if (ch->pid == 0) {
        int fd = open(ch->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(out_fd >= 0 ? out_fd : fd, STDOUT_FILENO);
            close(fd);
        }
        if (out_fd >= 0)
            close(out_fd);
        execv(argv[0], argv);
        _exit(127);
    }
}

/* SIGTERM, then SIGKILL after timeout seconds. Returns the wait status, -1 if killed. */
static int child_stop(struct child *ch, double timeout)
{
    double deadline = now_s() + timeout;
    struct rusage ru;
    int status;

    if (ch->pid <= 0)
        return 0;
    kill(ch->pid, SIGTERM);
    while (now_s() < deadline) {
        if (wait4(ch->pid, &status, WNOHANG, &ru) == ch->pid) {
            child_reaped(ch, &ru);
            return status;
        }
        nap_ms(20);
    }
    kill(ch->pid, SIGKILL);
    wait4(ch->pid, &status, 0, &ru);
    child_reaped(ch, &ru);
    return -1;
}

/* Waits for text in the child's log; 0 when found, -1 on timeout or exit. */
static int child_wait_log(struct child *ch, const char *text, double timeout)
{
    double deadline = now_s() + timeout;
    char line[1024];

    while (now_s() < deadline && !bench_interrupted) {
        FILE *f = fopen(ch->log, "r");
        while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
            if (strstr(line, text) != NULL) {
                fclose(f);
                return 0;
            }
        }
        if (f != NULL)
            fclose(f);
        if (waitpid(ch->pid, NULL, WNOHANG) == ch->pid) {
            ch->pid = 0;
            return -1;
        }
        nap_ms(50);
    }
    return -1;
}

/* Prints the lines of the child's log that contain text. */
static void child_grep_log(const struct child *ch, const char *text)
{
    char line[1024];
    FILE *f = fopen(ch->log, "r");

    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, text) != NULL)
            printf("  %s", line);
    if (f != NULL)
        fclose(f);
}

/* ---- Kafka clients ---- */

static void kconf(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char errstr[256];

    if (rd_kafka_conf_set(c, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "daemon_bench: %s: %s\n", k, errstr);
        exit(2);
    }
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && atomic_fetch_add(&bench_dr_errs, 1) < 5)
        fprintf(stderr, "daemon_bench: produce failed: %s\n", rd_kafka_err2str(m->err));
}

struct producer_arg {
    const struct options *o;
    const char *bootstrap;
    const struct article *pool;
    size_t n_pool;
    long long budget;         /* max unread bytes, input or output, over all partitions */
    long in_avg;              /* mean article bytes */
    atomic_long window;       /* max articles produced but not yet read back */
    _Atomic int64_t *sent_us; /* per article: produce time */
    _Atomic double t0;        /* set by the producer after the warm-up */
    long produced;
    long long bytes;
};

static int bench_is_bad(const struct options *o, long i)
{
    return o->bad_every > 0 && i % o->bad_every == o->bad_every - 1;
}

/* Turns the good article in value (len bytes) into bad input of the given kind, in place.
 * Returns its length. */
static size_t bad_value(char *value, size_t cap, long kind, const char *key, size_t len)
{
    switch (kind % 4) {
    case 0:
        return (size_t)snprintf(value, cap, "not JSON, article %s", key);
    case 1:
        return len / 2; /* truncated JSON */
    case 2:             /* neither text nor title */
        return (size_t)snprintf(value, cap, "{\"id\":\"%s\",\"url\":\"https://example.org/\"}",
                                key);
    default:
        return (size_t)snprintf(value, cap, "{\"id\":\"%s\",\"text\":\"caf\xc3\x28 au lait\"}",
                                key);
    }
}

static void produce_one(rd_kafka_t *rk, const char *key, size_t klen, const char *value, size_t len)
{
    rd_kafka_resp_err_t err;

    while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(BENCH_TOPIC_IN), RD_KAFKA_V_KEY(key, klen),
                                    RD_KAFKA_V_VALUE((void *)value, len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 10);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        die(rd_kafka_err2str(err));
}

static void *producer_main(void *arg)
{
    struct producer_arg *pa = arg;
    const struct options *o = pa->o;
    char errstr[256], key[16];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    size_t vcap = 64;
    char *value;
    rd_kafka_t *rk;

    for (size_t i = 0; i < pa->n_pool; i++)
        if (pa->pool[i].len + 32 > vcap)
            vcap = pa->pool[i].len + 32;
    if ((value = malloc(vcap)) == NULL)
        die("out of memory");
    kconf(c, "bootstrap.servers", pa->bootstrap);
    kconf(c, "linger.ms", "2");
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof(errstr))) == NULL)
        die(errstr);
    /* Warm-up articles, excluded from the figures: the daemon's producer learns the output
     * topic's partitions only on its first message (librdkafka looks up an unknown topic on
     * its 1 s timer scan), and the reader finds its start offsets. */
    for (long w = 0; w < BENCH_WARMUP && !bench_interrupted; w++) {
        const struct article *a = &pa->pool[w % (long)pa->n_pool];
        int klen = snprintf(key, sizeof(key), "w%08ld", w);
        int hlen = snprintf(value, vcap, "{\"id\":\"%s\",", key);
        memcpy(value + hlen, a->tail, a->len);
        produce_one(rk, key, (size_t)klen, value, (size_t)hlen + a->len);
    }
    rd_kafka_flush(rk, 60000);
    while (atomic_load(&bench_warm) < BENCH_WARMUP && !bench_interrupted)
        nap_ms(5);
    atomic_store(&pa->t0, now_s());
    for (long i = 0; i < o->n && !bench_interrupted; i++) {
        const struct article *a = &pa->pool[i % (long)pa->n_pool];
        int klen = snprintf(key, sizeof(key), "b%08ld", i);
        int hlen = snprintf(value, vcap, "{\"id\":\"%s\",", key);
        size_t len = (size_t)hlen + a->len;

        memcpy(value + hlen, a->tail, a->len);
        if (bench_is_bad(o, i))
            len = bad_value(value, vcap, i / o->bad_every, key, len);
        /* Pacing: the unread backlog, sized by the larger of the input and output records,
         * then the rate. */
        long rec =
            atomic_load(&bench_out_avg) > pa->in_avg ? atomic_load(&bench_out_avg) : pa->in_avg;
        long window = (long)(pa->budget / rec) > 1 ? (long)(pa->budget / rec) : 1;
        atomic_store(&pa->window, window);
        while (i - atomic_load(&bench_read) >= window && !bench_interrupted)
            rd_kafka_poll(rk, 1);
        if (o->rate > 0) {
            double due = atomic_load(&pa->t0) + (double)i / o->rate;
            while (now_s() < due && !bench_interrupted)
                rd_kafka_poll(rk, 1);
        }
        atomic_store_explicit(&pa->sent_us[i], now_us(), memory_order_relaxed);
        produce_one(rk, key, (size_t)klen, value, len);
        rd_kafka_poll(rk, 0);
        pa->produced++;
        pa->bytes += (long long)len;
    }
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fprintf(stderr, "daemon_bench: producer flush timed out\n");
    rd_kafka_destroy(rk);
    free(value);
    return NULL;
}

/* ---- results ---- */

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

    return (x > y) - (x < y);
}

static double pct_ms(const int32_t *sorted, long n, double p)
{
    long i = (long)(p / 100.0 * (double)(n - 1) + 0.5);

    return n > 0 ? sorted[i] / 1000.0 : 0;
}

static int has_header(const rd_kafka_message_t *m, const char *name)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t len;

    return rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
           rd_kafka_header_get_last(h, name, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: daemon_bench [-n N] [--size BYTES] [--partitions P] [--stages LIST|none]\n"
        "                    [--workers W] [--rate R] [--backlog-kb KB] [--report PCT]\n"
        "                    [--set SECTION.KEY=VALUE]... [--data FILE]... [--enrichd BIN]\n"
        "                    [--models DIR] [--idle-timeout S] [--settle S] [--keep]\n"
        "Starts `enrichd broker` and `enrichd run`, pushes N articles (German and English,\n"
        "from --data JSON lines, default the repository's tests/data) through the daemon and\n"
        "reports throughput, produce-to-read latency, daemon RSS and the final counts.\n"
        "  -n N             articles (default 20000)\n"
        "  --size BYTES     approximate bytes per article (default 3000)\n"
        "  --partitions P   partitions of the input, output and dead-letter topics (4)\n"
        "  --stages LIST    [pipeline] stages (default every stage; `none` for none)\n"
        "  --workers W      [pipeline] workers (default 0: one per CPU)\n"
        "  --rate R         produce at most R articles/s (default: as fast as paced)\n"
        "  --backlog-kb KB  unread bytes per partition, input or output, KiB (default 2048;\n"
        "                   the mock cluster keeps about 5 MB per partition)\n"
        "  --report PCT     progress line every PCT %% of the articles (default 10)\n"
        "  --set S.K=V      extra config line, e.g. --set kafka.producer.linger.ms=5\n"
        "  --bad-every K    every K-th article is bad input (not JSON, truncated, no text or\n"
        "                   title, invalid UTF-8 in turn) that must reach the dead-letter topic\n"
        "Exit status 0 when every article came back at least once, on the right topic, and\n"
        "the daemon stopped with 0; 1 otherwise; 2 on usage or setup errors.\n");
}

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option opts[] = {
        {"size", required_argument, NULL, 's'},
        {"partitions", required_argument, NULL, 'p'},
        {"stages", required_argument, NULL, 'S'},
        {"workers", required_argument, NULL, 'w'},
        {"rate", required_argument, NULL, 'r'},
        {"backlog-kb", required_argument, NULL, 'b'},
        {"report", required_argument, NULL, 'R'},
        {"data", required_argument, NULL, 'd'},
        {"enrichd", required_argument, NULL, 'e'},
        {"models", required_argument, NULL, 'm'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"settle", required_argument, NULL, 'T'},
        {"set", required_argument, NULL, 'x'},
        {"keep", no_argument, NULL, 'k'},
        {"bad-every", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *o = (struct options){.n = 20000,
                          .size = 3000,
                          .partitions = 4,
                          .backlog_kb = 2048,
                          .report_pct = 10,
                          .idle_timeout = 60,
                          .settle = 2,
                          .enrichd = ENRICHD_BIN,
                          .models = ENRICHD_SOURCE_DIR "/models"};
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            o->n = atol(optarg);
            break;
        case 's':
            o->size = atol(optarg);
            break;
        case 'p':
            o->partitions = atoi(optarg);
            break;
        case 'S':
            o->stages = strcmp(optarg, "none") == 0 ? "" : optarg;
            break;
        case 'w':
            o->workers = atoi(optarg);
            break;
        case 'r':
            o->rate = atof(optarg);
            break;
        case 'b':
            o->backlog_kb = atol(optarg);
            break;
        case 'R':
            o->report_pct = atoi(optarg);
            break;
        case 'e':
            o->enrichd = optarg;
            break;
        case 'm':
            o->models = optarg;
            break;
        case 'i':
            o->idle_timeout = atof(optarg);
            break;
        case 'T':
            o->settle = atof(optarg);
            break;
        case 'k':
            o->keep = 1;
            break;
        case 'B':
            o->bad_every = atol(optarg);
            break;
        case 'd':
            if (o->n_data == BENCH_MAX_DATA)
                die("too many --data files");
            o->data[o->n_data++] = optarg;
            break;
        case 'x':
            if (o->n_extra == (int)(sizeof(o->extra) / sizeof(o->extra[0])) ||
                strchr(optarg, '=') == NULL || strchr(optarg, '.') == NULL)
                die("--set wants SECTION.KEY=VALUE");
            o->extra[o->n_extra++] = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind < argc || o->n < 1 || o->size < 300 || o->partitions < 1 || o->partitions > 64 ||
        o->backlog_kb < 16 || o->bad_every < 0 || o->report_pct < 1 || o->report_pct > 100) {
        usage(stderr);
        exit(2);
    }
    if (o->n_data == 0) {
        o->data[o->n_data++] = ENRICHD_SOURCE_DIR "/tests/data/sample_articles.jsonl";
        o->data[o->n_data++] = ENRICHD_SOURCE_DIR "/tests/data/numfacts_news.jsonl";
        o->data[o->n_data++] = ENRICHD_SOURCE_DIR "/tests/data/numfacts_news_fresh.jsonl";
        o->data[o->n_data++] = ENRICHD_SOURCE_DIR "/tests/data/numfacts_news_untuned.jsonl";
    }
}

/* Writes the daemon's config: the --set lines go into their sections. */
static void write_config(const char *path, const struct options *o)
{
    static const char *const sections[] = {"kafka.consumer", "kafka.producer", "pipeline", "kafka",
                                           "input"};
    FILE *f = fopen(path, "w");

    if (f == NULL)
        die("cannot write the config");
    for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
        fprintf(f, "[%s]\n", sections[s]);
        if (strcmp(sections[s], "kafka") == 0)
            fprintf(f, "input_topics = " BENCH_TOPIC_IN "\noutput_topic = " BENCH_TOPIC_OUT
                       "\ndlq_topic = " BENCH_TOPIC_DLQ "\ngroup_id = daemon-bench\n");
        if (strcmp(sections[s], "kafka.consumer") == 0)
            /* The mock answers an empty fetch only after fetch.wait.max.ms (default 500). */
            fprintf(f, "auto.offset.reset = earliest\nfetch.wait.max.ms = 10\n");
        if (strcmp(sections[s], "pipeline") == 0) {
            if (o->stages != NULL)
                fprintf(f, "stages = %s\n", o->stages);
            fprintf(f, "workers = %d\n", o->workers);
        }
        for (int i = 0; i < o->n_extra; i++) {
            const char *eq = strchr(o->extra[i], '=');
            /* The longest section name that prefixes the key wins ("kafka.consumer.x"). */
            size_t sl = strlen(sections[s]);
            if (strncmp(o->extra[i], sections[s], sl) != 0 || o->extra[i][sl] != '.')
                continue;
            int taken = 0;
            for (size_t t = 0; t < sizeof(sections) / sizeof(sections[0]); t++) {
                size_t tl = strlen(sections[t]);
                if (tl > sl && strncmp(o->extra[i], sections[t], tl) == 0 && o->extra[i][tl] == '.')
                    taken = 1;
            }
            if (!taken)
                fprintf(f, "%.*s = %s\n", (int)(eq - o->extra[i] - (long)sl - 1),
                        o->extra[i] + sl + 1, eq + 1);
        }
    }
    fclose(f);
}

/* What the reader saw. */
struct tally {
    uint8_t *seen; /* per article: records read, up to 255 */
    int32_t *lat;  /* produce-to-read microseconds of each first record, in reading order */
    long n_lat, out_records, dlq_records, duplicates, foreign, no_enrichment, no_headers;
    long misrouted;
    long long out_bytes;
    double t_last; /* when the last new article was read */
    struct mark marks[BENCH_MAX_MARKS];
    int n_marks;
};

/* Starts the broker with the three topics and copies its bootstrap servers. 0 or -1. */
static int broker_start(struct child *broker, const struct options *o, char *bootstrap, size_t len)
{
    char parts[16], line[512];
    int fds[2];
    FILE *out;

    snprintf(parts, sizeof(parts), "%d", o->partitions);
    char *argv[] = {
        (char *)o->enrichd, "broker",  "--partitions",  parts, "--topic", BENCH_TOPIC_IN, "--topic",
        BENCH_TOPIC_OUT,    "--topic", BENCH_TOPIC_DLQ, NULL};
    if (pipe(fds) != 0)
        die("pipe failed");
    child_start(broker, argv, fds[1]);
    close(fds[1]);
    if ((out = fdopen(fds[0], "r")) == NULL)
        die("fdopen failed");
    if (fgets(line, sizeof(line), out) == NULL || strncmp(line, "bootstrap.servers=", 18) != 0) {
        fclose(out);
        return -1;
    }
    fclose(out);
    line[strcspn(line, "\n")] = '\0';
    snprintf(bootstrap, len, "%s", line + 18);
    return 0;
}

/* A consumer assigned to every partition of the output and dead-letter topics, from the
 * beginning. */
static rd_kafka_t *reader_new(const char *bootstrap, int partitions)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *assign;

    kconf(c, "bootstrap.servers", bootstrap);
    kconf(c, "group.id", "daemon-bench-reader");
    kconf(c, "enable.auto.commit", "false");
    kconf(c, "fetch.wait.max.ms", "10");
    if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, sizeof(errstr))) == NULL)
        die(errstr);
    rd_kafka_poll_set_consumer(rk);
    assign = rd_kafka_topic_partition_list_new(2 * partitions);
    for (int p = 0; p < partitions; p++) {
        rd_kafka_topic_partition_list_add(assign, BENCH_TOPIC_OUT, p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_topic_partition_list_add(assign, BENCH_TOPIC_DLQ, p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }
    if (rd_kafka_assign(rk, assign) != RD_KAFKA_RESP_ERR_NO_ERROR)
        die("cannot assign the reader");
    rd_kafka_topic_partition_list_destroy(assign);
    return rk;
}

/* Records a progress mark and prints its line. */
static void tally_mark(struct tally *t, long done, double t0, const struct options *o, pid_t daemon,
                       pid_t broker)
{
    struct mark *k = &t->marks[t->n_marks];
    const struct mark prev = t->n_marks > 0 ? t->marks[t->n_marks - 1] : (struct mark){0};

    t->n_marks++;
    k->t = t->t_last - t0;
    k->read = done;
    k->rss_kb = proc_kb(daemon, "VmRSS");
    k->broker_kb = proc_kb(broker, "VmRSS");
    printf("  %3ld%%  %8ld read  %7.1f s  %7.0f articles/s (interval)  daemon RSS "
           "%6.1f MB  broker RSS %6.1f MB\n",
           done * 100 / o->n, done, k->t,
           k->t > prev.t ? (double)(done - prev.read) / (k->t - prev.t) : 0, k->rss_kb / 1024.0,
           k->broker_kb / 1024.0);
}

/* Reads the output and dead-letter topics until every article is back and settle seconds
 * have passed, or nothing new came for idle_timeout seconds, or the run is interrupted. */
static void read_back(rd_kafka_t *reader, struct producer_arg *pa, struct tally *t, pid_t daemon,
                      pid_t broker)
{
    const struct options *o = pa->o;
    long step = (o->n * o->report_pct + 99) / 100, next_mark = step;
    long long avg_bytes = 0, avg_n = 0;
    double t_progress = now_s();

    for (;;) {
        long done = atomic_load(&bench_read), i = -1;
        double now = now_s();
        char key[16];

        if (bench_interrupted)
            break;
        if (done == o->n ? now - t->t_last >= o->settle : now - t_progress >= o->idle_timeout)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(reader, 100);
        if (m == NULL)
            continue;
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "daemon_bench: read: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        int64_t rx = now_us();
        int is_out = strcmp(rd_kafka_topic_name(m->rkt), BENCH_TOPIC_OUT) == 0;
        if (is_out) {
            /* The producer sizes its window by this, warm-up articles included. */
            avg_bytes += (long long)m->len;
            avg_n++;
            atomic_store(&bench_out_avg, (long)(avg_bytes / avg_n));
        }
        if (m->key_len == 9 && ((const char *)m->key)[0] == 'w') {
            atomic_fetch_add(&bench_warm, 1);
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->key_len == 9 && ((const char *)m->key)[0] == 'b') {
            snprintf(key, sizeof(key), "%.*s", (int)m->key_len - 1, (const char *)m->key + 1);
            i = strtol(key, NULL, 10);
        }
        if (i < 0 || i >= o->n) {
            t->foreign++;
            rd_kafka_message_destroy(m);
            continue;
        }
        if (is_out == bench_is_bad(o, i))
            t->misrouted++;
        if (is_out) {
            t->out_records++;
            t->out_bytes += (long long)m->len;
            if (m->len < 16 || memmem(m->payload, m->len, "\"enrichment\"", 12) == NULL)
                t->no_enrichment++;
            if (!has_header(m, "enrichd-source-partition") ||
                !has_header(m, "enrichd-source-offset"))
                t->no_headers++;
        } else {
            t->dlq_records++;
        }
        if (t->seen[i] < 255 && t->seen[i]++ > 0) {
            t->duplicates++;
        } else if (t->seen[i] == 1) {
            int64_t sent = atomic_load_explicit(&pa->sent_us[i], memory_order_relaxed);
            t->lat[t->n_lat++] = (int32_t)(rx - sent < INT32_MAX ? rx - sent : INT32_MAX);
            done = atomic_fetch_add(&bench_read, 1) + 1;
            t->t_last = t_progress = now_s();
            if ((done >= next_mark || done == o->n) && t->n_marks < BENCH_MAX_MARKS) {
                tally_mark(t, done, atomic_load(&pa->t0), o, daemon, broker);
                while (next_mark <= done)
                    next_mark += step;
            }
        }
        rd_kafka_message_destroy(m);
    }
}

/* Prints the figures; returns 0 when everything came back right and the daemon stopped
 * cleanly, else 1. */
static int report(const struct options *o, const struct producer_arg *pa, struct tally *t,
                  const struct child *daemon, const struct child *broker, int dstatus,
                  long rss_start, long rss_end, long hwm)
{
    long missing = o->n - atomic_load(&bench_read);
    long want_bad = o->bad_every > 0 ? o->n / o->bad_every : 0;
    double span = t->t_last - atomic_load(&pa->t0);
    struct rusage self;

    qsort(t->lat, (size_t)t->n_lat, sizeof(*t->lat), cmp_i32);
    printf("produced %ld articles (%.1f MB); %.1f s from the first produce to the last read; "
           "backlog window at the end %ld articles; %ld producer delivery failures\n",
           pa->produced, (double)pa->bytes / 1e6, span, atomic_load(&pa->window),
           atomic_load(&bench_dr_errs));
    printf("throughput: %.0f articles/s, %.2f MB/s in (first produce to last read)\n",
           span > 0 ? (double)t->n_lat / span : 0, span > 0 ? (double)pa->bytes / 1e6 / span : 0);
    /* Steady state: from the first progress mark at or after 10 % to the last one. */
    for (int a = 0, b = t->n_marks - 1; a < t->n_marks; a++) {
        if (t->marks[a].read * 10 < o->n)
            continue;
        if (b > a && t->marks[b].t > t->marks[a].t)
            printf("steady throughput (%ld..%ld read): %.0f articles/s\n", t->marks[a].read,
                   t->marks[b].read,
                   (double)(t->marks[b].read - t->marks[a].read) / (t->marks[b].t - t->marks[a].t));
        break;
    }
    printf("latency produce->read (ms): p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  (%ld articles)\n",
           pct_ms(t->lat, t->n_lat, 50), pct_ms(t->lat, t->n_lat, 90), pct_ms(t->lat, t->n_lat, 99),
           pct_ms(t->lat, t->n_lat, 100), t->n_lat);
    printf("counts: %ld output records (avg %lld bytes), %ld dead-letter (%ld bad produced), "
           "%ld missing, %ld duplicates, %ld on the wrong topic, %ld without enrichment, %ld "
           "without source headers, %ld foreign\n",
           t->out_records, t->out_records > 0 ? t->out_bytes / t->out_records : 0, t->dlq_records,
           want_bad, missing, t->duplicates, t->misrouted, t->no_enrichment, t->no_headers,
           t->foreign);
    if (rss_end < 0)
        printf("daemon RSS: %.1f MB after start; the daemon was gone at the end\n",
               rss_start / 1024.0);
    else
        printf("daemon RSS: %.1f MB after start, %.1f MB at the end, peak (VmHWM) %.1f MB\n",
               rss_start / 1024.0, rss_end / 1024.0, hwm / 1024.0);
    getrusage(RUSAGE_SELF, &self);
    printf("CPU seconds over the whole run: daemon %.1f, broker %.1f, this benchmark %.1f\n",
           daemon->cpu_s, broker->cpu_s, cpu_s(&self));
    if (dstatus == -1)
        printf("daemon: did not exit by itself within 60 s of SIGTERM\n");
    else if (WIFSIGNALED(dstatus))
        printf("daemon: ended by signal %d\n", WTERMSIG(dstatus));
    else
        printf("daemon: exit status %d after SIGTERM\n", WEXITSTATUS(dstatus));
    child_grep_log(daemon, "stopped:");
    child_grep_log(daemon, " err");
    child_grep_log(daemon, " warning");
    return missing != 0 || t->misrouted != 0 || t->no_enrichment != 0 || t->no_headers != 0 ||
           dstatus == -1 || !WIFEXITED(dstatus) || WEXITSTATUS(dstatus) != 0;
}

int main(int argc, char **argv)
{
    struct options o;
    struct corpus de = {0}, en = {0};
    struct article *pool;
    size_t n_pool;
    char work[] = "/tmp/daemon_bench.XXXXXX", conf_path[4200], bootstrap[512];
    struct child broker = {0}, daemon = {0};
    struct producer_arg pa = {0};
    struct tally t = {0};
    pthread_t producer;
    long long pool_bytes = 0;
    long rss_start;
    int rc;

    parse_options(argc, argv, &o);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    for (int i = 0; i < o.n_data; i++)
        corpus_load(o.data[i], &de, &en);
    if (de.n == 0 || en.n == 0)
        die("the data files need German and English texts");
    n_pool = o.n < BENCH_POOL ? (size_t)o.n : BENCH_POOL;
    if ((pool = calloc(n_pool, sizeof(*pool))) == NULL)
        die("out of memory");
    for (size_t k = 0; k < n_pool; k++) {
        pool[k] = article_make(k % 2 == 0 ? &de : &en, (long)k, o.size);
        pool_bytes += (long long)pool[k].len + 18; /* {"id":"b00000000", */
    }

    if (mkdtemp(work) == NULL)
        die("mkdtemp failed");
    snprintf(broker.log, sizeof(broker.log), "%s/broker.log", work);
    snprintf(daemon.log, sizeof(daemon.log), "%s/daemon.log", work);
    snprintf(conf_path, sizeof(conf_path), "%s/enrichd.conf", work);
    write_config(conf_path, &o);
    setenv("ENRICHD_MODEL_DIR", o.models, 1);

    if (broker_start(&broker, &o, bootstrap, sizeof(bootstrap)) != 0) {
        fprintf(stderr, "daemon_bench: the broker did not start (log %s)\n", broker.log);
        child_stop(&broker, 5);
        return 2;
    }
    /* The daemon; the clock starts once it holds its partitions (the models are loaded). */
    char *dargv[] = {(char *)o.enrichd, "run", "-c", conf_path, "--brokers", bootstrap, NULL};
    child_start(&daemon, dargv, -1);
    if (child_wait_log(&daemon, "rebalance: assigned", 300) != 0) {
        fprintf(stderr, "daemon_bench: the daemon did not get its partitions (log %s)\n",
                daemon.log);
        child_stop(&daemon, 10);
        child_stop(&broker, 10);
        return 2;
    }
    rss_start = proc_kb(daemon.pid, "VmRSS");
    rd_kafka_t *reader = reader_new(bootstrap, o.partitions);

    t.seen = calloc((size_t)o.n, 1);
    t.lat = malloc((size_t)o.n * sizeof(*t.lat));
    pa.sent_us = calloc((size_t)o.n, sizeof(*pa.sent_us));
    if (t.seen == NULL || t.lat == NULL || pa.sent_us == NULL)
        die("out of memory");
    pa.o = &o;
    pa.bootstrap = bootstrap;
    pa.pool = pool;
    pa.n_pool = n_pool;
    pa.budget = (long long)o.partitions * o.backlog_kb * 1024;
    pa.in_avg = (long)(pool_bytes / (long long)n_pool);

    printf("daemon_bench: %ld articles (avg %lld bytes, German and English), stages %s, "
           "%d partitions, workers %d, unread backlog <= %.1f MB, rate %s\n",
           o.n, pool_bytes / (long long)n_pool,
           o.stages == NULL ? "all" : (*o.stages == '\0' ? "none" : o.stages), o.partitions,
           o.workers, (double)pa.budget / 1e6, o.rate > 0 ? "capped" : "unlimited");
    printf("daemon pid %ld, RSS after start %.1f MB; enrichd %s\n", (long)daemon.pid,
           rss_start / 1024.0, o.enrichd);
    if (pthread_create(&producer, NULL, producer_main, &pa) != 0)
        die("cannot start the producer");
    read_back(reader, &pa, &t, daemon.pid, broker.pid);
    bench_interrupted = 1; /* stops the producer if it is still pacing */
    pthread_join(producer, NULL);

    long rss_end = proc_kb(daemon.pid, "VmRSS"), hwm = proc_kb(daemon.pid, "VmHWM");
    rd_kafka_consumer_close(reader);
    rd_kafka_destroy(reader);
    int dstatus = child_stop(&daemon, 60);
    child_stop(&broker, 10);
    rc = report(&o, &pa, &t, &daemon, &broker, dstatus, rss_start, rss_end, hwm);

    if (rc != 0 || o.keep) {
        printf("logs kept in %s\n", work);
    } else {
        unlink(broker.log);
        unlink(daemon.log);
        unlink(conf_path);
        rmdir(work);
    }
    for (size_t k = 0; k < n_pool; k++)
        free(pool[k].tail);
    for (size_t k = 0; k < de.n; k++)
        free(de.chunk[k]);
    for (size_t k = 0; k < en.n; k++)
        free(en.chunk[k]);
    free(de.chunk);
    free(en.chunk);
    free(pool);
    free(t.seen);
    free(t.lat);
    free((void *)pa.sent_us);
    return rc;
}
