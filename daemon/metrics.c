/* metrics: lock-free metric updates, Prometheus text rendering and the daemon's standard set. */
#include "daemon/metrics.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef ENRICHD_VERSION
#define ENRICHD_VERSION "0.0.0"
#endif

struct series {
    char v1[METRICS_LABEL_MAX]; /* label values, "" when the family has fewer labels */
    char v2[METRICS_LABEL_MAX];
    atomic_bool live;             /* rendered; gauges become live when first set */
    atomic_uint_fast64_t count;   /* counter value */
    atomic_int_fast64_t gauge;    /* gauge value */
    atomic_uint_fast64_t sum;     /* histogram sum, the bits of a double */
    atomic_uint_fast64_t *bucket; /* histogram: nbuckets + 1 (the last is +Inf), else NULL */
    uint64_t mark;                /* stats generation that last set it (lag gauges only) */
};

struct metric {
    enum metric_type type;
    const char *name, *help;     /* borrowed */
    const char *label1, *label2; /* borrowed, NULL when unused */
    const double *buckets;       /* borrowed, nbuckets ascending upper bounds */
    size_t nbuckets;
    size_t capacity;       /* series slots before overflow; series[capacity] is "other" */
    atomic_size_t n;       /* slots in use, published after the slot is filled */
    pthread_mutex_t lock;  /* serialises adding series and rendering */
    struct series *series; /* capacity + 1 */
    atomic_uint_fast64_t *bucket_store;
    struct metric *next;
};

struct metrics_registry {
    pthread_mutex_t lock; /* guards the family list */
    struct metric *first, *last;
};

struct metrics_registry *metrics_registry_new(void)
{
    struct metrics_registry *reg = calloc(1, sizeof(*reg));

    if (reg == NULL)
        return NULL;
    pthread_mutex_init(&reg->lock, NULL);
    return reg;
}

static void metric_free(struct metric *m)
{
    pthread_mutex_destroy(&m->lock);
    free(m->bucket_store);
    free(m->series);
    free(m);
}

void metrics_registry_free(struct metrics_registry *reg)
{
    struct metric *m, *next;

    if (reg == NULL)
        return;
    for (m = reg->first; m != NULL; m = next) {
        next = m->next;
        metric_free(m);
    }
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

struct metric *metrics_add(struct metrics_registry *reg, enum metric_type type, const char *name,
                           const char *help, const char *label1, const char *label2,
                           size_t capacity, const double *buckets, size_t nbuckets)
{
    struct metric *m;

    if (reg == NULL || name == NULL || help == NULL || capacity == 0 ||
        (label2 != NULL && label1 == NULL) || nbuckets > METRICS_MAX_BUCKETS ||
        (type == METRIC_HISTOGRAM) != (buckets != NULL))
        return NULL;
    if (label1 == NULL)
        capacity = 1;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->type = type;
    m->name = name;
    m->help = help;
    m->label1 = label1;
    m->label2 = label2;
    m->buckets = buckets;
    m->nbuckets = nbuckets;
    m->capacity = capacity;
    pthread_mutex_init(&m->lock, NULL);
    m->series = calloc(capacity + 1, sizeof(*m->series));
    if (m->series == NULL)
        goto fail;
    if (type == METRIC_HISTOGRAM) {
        m->bucket_store = calloc((capacity + 1) * (nbuckets + 1), sizeof(*m->bucket_store));
        if (m->bucket_store == NULL)
            goto fail;
        for (size_t i = 0; i <= capacity; i++)
            m->series[i].bucket = m->bucket_store + i * (nbuckets + 1);
    }
    strcpy(m->series[capacity].v1, label1 != NULL ? "other" : "");
    strcpy(m->series[capacity].v2, label2 != NULL ? "other" : "");
    if (label1 == NULL) {
        /* The single unlabelled series exists from the start (a counter reads 0). */
        atomic_store(&m->series[0].live, type != METRIC_GAUGE);
        atomic_store(&m->n, 1);
    }
    pthread_mutex_lock(&reg->lock);
    if (reg->last != NULL)
        reg->last->next = m;
    else
        reg->first = m;
    reg->last = m;
    pthread_mutex_unlock(&reg->lock);
    return m;
fail:
    metric_free(m);
    return NULL;
}

/* Copies a label value, truncated to fit; NULL reads as "". */
static void label_copy(char dst[METRICS_LABEL_MAX], const char *v)
{
    snprintf(dst, METRICS_LABEL_MAX, "%s", v != NULL ? v : "");
}

/* True when a stored label equals v truncated as label_copy would (NULL reads as ""). */
static bool label_eq(const char *stored, const char *v)
{
    return strncmp(stored, v != NULL ? v : "", METRICS_LABEL_MAX - 1) == 0;
}

/* Finds the series for (v1, v2) among the first n slots; NULL when absent. */
static struct series *series_scan(struct metric *m, size_t n, const char *v1, const char *v2)
{
    for (size_t i = 0; i < n; i++)
        if (label_eq(m->series[i].v1, v1) && label_eq(m->series[i].v2, v2))
            return &m->series[i];
    return NULL;
}

/* Returns the series for the label values, adding it when create (or the overflow series
 * when the family is full); NULL when absent and !create. */
static struct series *series_get(struct metric *m, const char *v1, const char *v2, bool create)
{
    struct series *s;
    size_t n;

    if (m->label1 == NULL)
        return &m->series[0];
    if (m->label2 == NULL)
        v2 = NULL;
    s = series_scan(m, atomic_load_explicit(&m->n, memory_order_acquire), v1, v2);
    if (s != NULL || !create)
        return s;
    pthread_mutex_lock(&m->lock);
    n = atomic_load_explicit(&m->n, memory_order_relaxed);
    s = series_scan(m, n, v1, v2);
    if (s == NULL && n < m->capacity) {
        s = &m->series[n];
        label_copy(s->v1, v1);
        label_copy(s->v2, v2);
        atomic_store(&s->live, m->type != METRIC_GAUGE);
        /* Readers scan without the lock: the labels are written before the slot counts. */
        atomic_store_explicit(&m->n, n + 1, memory_order_release);
    } else if (s == NULL) {
        s = &m->series[m->capacity];
        atomic_store(&s->live, true);
    }
    pthread_mutex_unlock(&m->lock);
    return s;
}

void metrics_counter_add(struct metric *m, const char *v1, const char *v2, uint64_t n)
{
    if (m == NULL || m->type != METRIC_COUNTER)
        return;
    atomic_fetch_add_explicit(&series_get(m, v1, v2, true)->count, n, memory_order_relaxed);
}

void metrics_gauge_set(struct metric *m, const char *v1, const char *v2, int64_t value)
{
    struct series *s;

    if (m == NULL || m->type != METRIC_GAUGE)
        return;
    s = series_get(m, v1, v2, true);
    atomic_store_explicit(&s->gauge, value, memory_order_relaxed);
    atomic_store(&s->live, true);
}

void metrics_gauge_add(struct metric *m, const char *v1, const char *v2, int64_t delta)
{
    struct series *s;

    if (m == NULL || m->type != METRIC_GAUGE)
        return;
    s = series_get(m, v1, v2, true);
    atomic_fetch_add_explicit(&s->gauge, delta, memory_order_relaxed);
    atomic_store(&s->live, true);
}

void metrics_gauge_clear(struct metric *m)
{
    size_t n;

    if (m == NULL || m->type != METRIC_GAUGE)
        return;
    /* Slots keep their labels (lock-free readers may hold them); they just stop rendering. */
    pthread_mutex_lock(&m->lock);
    n = atomic_load(&m->n);
    for (size_t i = 0; i <= m->capacity; i++) {
        if (i < n || i == m->capacity) {
            atomic_store(&m->series[i].live, false);
            atomic_store(&m->series[i].gauge, 0);
        }
    }
    pthread_mutex_unlock(&m->lock);
}

static double bits_to_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static uint64_t double_to_bits(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    return bits;
}

void metrics_histogram_observe(struct metric *m, const char *v1, const char *v2, double value)
{
    struct series *s;
    uint_fast64_t old, upd;
    size_t b = 0;

    if (m == NULL || m->type != METRIC_HISTOGRAM)
        return;
    s = series_get(m, v1, v2, true);
    while (b < m->nbuckets && value > m->buckets[b])
        b++;
    atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
    old = atomic_load_explicit(&s->sum, memory_order_relaxed);
    do {
        upd = double_to_bits(bits_to_double(old) + value);
    } while (!atomic_compare_exchange_weak_explicit(&s->sum, &old, upd, memory_order_relaxed,
                                                    memory_order_relaxed));
}

uint64_t metrics_counter_get(struct metric *m, const char *v1, const char *v2)
{
    struct series *s;

    if (m == NULL || m->type != METRIC_COUNTER)
        return 0;
    s = series_get(m, v1, v2, false);
    return s != NULL ? atomic_load(&s->count) : 0;
}

int64_t metrics_gauge_get(struct metric *m, const char *v1, const char *v2)
{
    struct series *s;

    if (m == NULL || m->type != METRIC_GAUGE)
        return 0;
    s = series_get(m, v1, v2, false);
    return s != NULL && atomic_load(&s->live) ? atomic_load(&s->gauge) : 0;
}

/* Writes a label value with the text format's escapes (backslash, quote, newline). */
static void put_label_value(FILE *out, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(out, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", out);
        else
            fputc(*v, out);
    }
}

/* Writes "name{l1="v1",l2="v2",le="x"}" with only the parts that exist. */
static void put_series_name(FILE *out, const struct metric *m, const char *suffix,
                            const struct series *s, const char *le)
{
    bool any = false;

    fprintf(out, "%s%s", m->name, suffix);
    if (m->label1 != NULL) {
        fprintf(out, "{%s=\"", m->label1);
        put_label_value(out, s->v1);
        fputc('"', out);
        any = true;
    }
    if (m->label2 != NULL) {
        fprintf(out, ",%s=\"", m->label2);
        put_label_value(out, s->v2);
        fputc('"', out);
    }
    if (le != NULL)
        fprintf(out, "%sle=\"%s\"", any ? "," : "{", le);
    if (any || le != NULL)
        fputc('}', out);
}

static void render_series(FILE *out, const struct metric *m, const struct series *s)
{
    char le[32];
    uint64_t cum = 0;

    switch (m->type) {
    case METRIC_COUNTER:
        put_series_name(out, m, "", s, NULL);
        fprintf(out, " %llu\n", (unsigned long long)atomic_load(&s->count));
        break;
    case METRIC_GAUGE:
        put_series_name(out, m, "", s, NULL);
        fprintf(out, " %lld\n", (long long)atomic_load(&s->gauge));
        break;
    case METRIC_HISTOGRAM:
        /* Buckets hold per-bucket counts; the format wants them cumulative, and _count is
         * the +Inf bucket so the two always agree. */
        for (size_t b = 0; b <= m->nbuckets; b++) {
            cum += atomic_load(&s->bucket[b]);
            if (b < m->nbuckets)
                snprintf(le, sizeof(le), "%.17g", m->buckets[b]);
            else
                strcpy(le, "+Inf");
            put_series_name(out, m, "_bucket", s, le);
            fprintf(out, " %llu\n", (unsigned long long)cum);
        }
        put_series_name(out, m, "_sum", s, NULL);
        fprintf(out, " %.17g\n", bits_to_double(atomic_load(&s->sum)));
        put_series_name(out, m, "_count", s, NULL);
        fprintf(out, " %llu\n", (unsigned long long)cum);
        break;
    }
}

static const char *type_name(enum metric_type t)
{
    return t == METRIC_COUNTER ? "counter" : t == METRIC_GAUGE ? "gauge" : "histogram";
}

int metrics_render(struct metrics_registry *reg, char **out, size_t *len)
{
    FILE *f;
    struct metric *m;

    *out = NULL;
    *len = 0;
    f = open_memstream(out, len);
    if (f == NULL)
        return -ENOMEM;
    pthread_mutex_lock(&reg->lock);
    for (m = reg->first; m != NULL; m = m->next) {
        size_t n;

        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, type_name(m->type));
        pthread_mutex_lock(&m->lock);
        n = atomic_load(&m->n);
        for (size_t i = 0; i <= m->capacity; i++)
            if ((i < n || i == m->capacity) && atomic_load(&m->series[i].live))
                render_series(f, m, &m->series[i]);
        pthread_mutex_unlock(&m->lock);
    }
    pthread_mutex_unlock(&reg->lock);
    if (ferror(f)) {
        fclose(f);
        free(*out);
        *out = NULL;
        return -ENOMEM;
    }
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* ---- the daemon's standard metrics ---- */

/* Stage durations: 10 us to 2.5 s; most documents take 0.1-10 ms per stage. */
static const double stage_buckets[] = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                       0.001,   0.0025,   0.005,   0.01,   0.025,   0.05,
                                       0.1,     0.25,     0.5,     1,      2.5};

static struct {
    struct metrics_registry *reg;
    struct metric *build_info, *start_time, *ready;
    struct metric *consumed, *consumed_bytes, *paused, *lag;
    struct metric *produced, *delivery_errors, *deadlettered, *transactions;
    struct metric *stage_docs, *stage_duration;
    struct metric *inflight_messages, *inflight_bytes;
    atomic_bool is_ready;
    pthread_mutex_t stats_lock; /* serialises lag updates */
} std_metrics = {.stats_lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t std_once = PTHREAD_ONCE_INIT;

static void std_init(void)
{
    struct metrics_registry *r = metrics_registry_new();

    if (r == NULL)
        return;
    std_metrics.reg = r;
    std_metrics.build_info =
        metrics_add(r, METRIC_GAUGE, "enrichd_build_info", "enrichd build information, always 1",
                    "version", NULL, 1, NULL, 0);
    metrics_gauge_set(std_metrics.build_info, ENRICHD_VERSION, NULL, 1);
    std_metrics.start_time = metrics_add(
        r, METRIC_GAUGE, "enrichd_process_start_time_seconds",
        "start time of the process since the Unix epoch in seconds", NULL, NULL, 1, NULL, 0);
    metrics_gauge_set(std_metrics.start_time, NULL, NULL, (int64_t)time(NULL));
    std_metrics.ready = metrics_add(r, METRIC_GAUGE, "enrichd_health_ready",
                                    "1 while /readyz answers 200, else 0", NULL, NULL, 1, NULL, 0);
    metrics_gauge_set(std_metrics.ready, NULL, NULL, 0);
    std_metrics.consumed =
        metrics_add(r, METRIC_COUNTER, "enrichd_consumer_messages_total",
                    "messages consumed from the input topics", NULL, NULL, 1, NULL, 0);
    std_metrics.consumed_bytes = metrics_add(
        r, METRIC_COUNTER, "enrichd_consumer_bytes_total",
        "bytes of message values consumed from the input topics", NULL, NULL, 1, NULL, 0);
    std_metrics.paused = metrics_add(
        r, METRIC_GAUGE, "enrichd_consumer_paused_partitions",
        "input partitions paused because the in-flight limits are reached", NULL, NULL, 1, NULL, 0);
    metrics_gauge_set(std_metrics.paused, NULL, NULL, 0);
    std_metrics.lag = metrics_add(r, METRIC_GAUGE, "enrichd_consumer_lag_messages",
                                  "consumer lag per assigned partition from librdkafka statistics",
                                  "topic", "partition", 4096, NULL, 0);
    std_metrics.produced =
        metrics_add(r, METRIC_COUNTER, "enrichd_producer_messages_total",
                    "enriched messages delivered to the output topic", NULL, NULL, 1, NULL, 0);
    std_metrics.delivery_errors =
        metrics_add(r, METRIC_COUNTER, "enrichd_producer_delivery_errors_total",
                    "failed delivery reports by librdkafka error name", "error", NULL, 64, NULL, 0);
    std_metrics.transactions =
        metrics_add(r, METRIC_COUNTER, "enrichd_producer_transactions_total",
                    "exactly-once transactions ended, by result (committed or aborted)", "result",
                    NULL, 2, NULL, 0);
    std_metrics.deadlettered = metrics_add(r, METRIC_COUNTER, "enrichd_deadletter_messages_total",
                                           "messages sent to the dead-letter topic by reason",
                                           "reason", NULL, 32, NULL, 0);
    std_metrics.stage_docs = metrics_add(r, METRIC_COUNTER, "enrichd_stage_documents_total",
                                         "documents processed per stage and result (ok or error)",
                                         "stage", "result", 32, NULL, 0);
    std_metrics.stage_duration =
        metrics_add(r, METRIC_HISTOGRAM, "enrichd_stage_duration_seconds",
                    "time one stage spent on one document", "stage", NULL, 16, stage_buckets,
                    sizeof(stage_buckets) / sizeof(stage_buckets[0]));
    std_metrics.inflight_messages =
        metrics_add(r, METRIC_GAUGE, "enrichd_pipeline_inflight_messages",
                    "messages consumed but not yet delivered", NULL, NULL, 1, NULL, 0);
    metrics_gauge_set(std_metrics.inflight_messages, NULL, NULL, 0);
    std_metrics.inflight_bytes =
        metrics_add(r, METRIC_GAUGE, "enrichd_pipeline_inflight_bytes",
                    "bytes of messages consumed but not yet delivered", NULL, NULL, 1, NULL, 0);
    metrics_gauge_set(std_metrics.inflight_bytes, NULL, NULL, 0);
}

struct metrics_registry *metrics_default(void)
{
    pthread_once(&std_once, std_init);
    return std_metrics.reg;
}

void metrics_on_consume(size_t bytes)
{
    metrics_default();
    metrics_counter_add(std_metrics.consumed, NULL, NULL, 1);
    metrics_counter_add(std_metrics.consumed_bytes, NULL, NULL, bytes);
}

void metrics_on_produce(void)
{
    metrics_default();
    metrics_counter_add(std_metrics.produced, NULL, NULL, 1);
}

void metrics_on_deadletter(const char *reason)
{
    metrics_default();
    metrics_counter_add(std_metrics.deadlettered, reason, NULL, 1);
}

void metrics_on_delivery_error(const char *error)
{
    metrics_default();
    metrics_counter_add(std_metrics.delivery_errors, error, NULL, 1);
}

void metrics_transactions_start(void)
{
    metrics_default();
    metrics_counter_add(std_metrics.transactions, "committed", NULL, 0);
    metrics_counter_add(std_metrics.transactions, "aborted", NULL, 0);
}

void metrics_on_transaction(bool committed)
{
    metrics_default();
    metrics_counter_add(std_metrics.transactions, committed ? "committed" : "aborted", NULL, 1);
}

void metrics_on_stage(const char *stage, double seconds, bool failed)
{
    metrics_default();
    metrics_counter_add(std_metrics.stage_docs, stage, failed ? "error" : "ok", 1);
    metrics_histogram_observe(std_metrics.stage_duration, stage, NULL, seconds);
}

void metrics_set_inflight(int64_t messages, int64_t bytes)
{
    metrics_default();
    metrics_gauge_set(std_metrics.inflight_messages, NULL, NULL, messages);
    metrics_gauge_set(std_metrics.inflight_bytes, NULL, NULL, bytes);
}

void metrics_set_paused_partitions(int64_t n)
{
    metrics_default();
    metrics_gauge_set(std_metrics.paused, NULL, NULL, n);
}

void metrics_set_ready(bool ready)
{
    metrics_default();
    atomic_store(&std_metrics.is_ready, ready);
    metrics_gauge_set(std_metrics.ready, NULL, NULL, ready ? 1 : 0);
}

bool metrics_ready(void)
{
    return atomic_load(&std_metrics.is_ready);
}

int metrics_update_from_rdkafka_stats(const char *json)
{
    struct metric *m;
    json_t *root, *topics, *topic, *parts, *part;
    const char *tname, *pname;
    static uint64_t generation; /* under stats_lock */
    size_t n;

    metrics_default();
    m = std_metrics.lag;
    root = json_loads(json, 0, NULL);
    if (root == NULL)
        return -EINVAL;
    if (m == NULL) {
        json_decref(root);
        return -ENOMEM;
    }
    topics = json_object_get(root, "topics");
    pthread_mutex_lock(&std_metrics.stats_lock);
    generation++;
    json_object_foreach(topics, tname, topic)
    {
        parts = json_object_get(topic, "partitions");
        json_object_foreach(parts, pname, part)
        {
            /* The lag behind the stored offset (the delivered prefix) is current; the one
             * behind the committed offset trails it by the commit interval and is unknown
             * until a group's first commit. */
            json_t *lag = json_object_get(part, "consumer_lag_stored");
            if (!json_is_integer(lag) || json_integer_value(lag) < 0)
                lag = json_object_get(part, "consumer_lag");
            /* Partition -1 is librdkafka's internal unassigned queue; lag -1 means unknown
             * (not assigned or no offset yet). */
            if (strcmp(pname, "-1") == 0 || !json_is_integer(lag) || json_integer_value(lag) < 0)
                continue;
            struct series *s = series_get(m, tname, pname, true);
            atomic_store(&s->gauge, (int64_t)json_integer_value(lag));
            atomic_store(&s->live, true);
            s->mark = generation;
        }
    }
    /* Drop partitions the stats no longer report (revoked, or lag now unknown). */
    pthread_mutex_lock(&m->lock);
    n = atomic_load(&m->n);
    for (size_t i = 0; i <= m->capacity; i++) {
        struct series *s = &m->series[i];
        if ((i < n || i == m->capacity) && s->mark != generation)
            atomic_store(&s->live, false);
    }
    pthread_mutex_unlock(&m->lock);
    pthread_mutex_unlock(&std_metrics.stats_lock);
    json_decref(root);
    return 0;
}

int64_t metrics_consumer_lag_total(void)
{
    struct metric *lag;
    int64_t total = -1;
    size_t n;

    metrics_default();
    if ((lag = std_metrics.lag) == NULL)
        return -1;
    n = atomic_load(&lag->n);
    for (size_t i = 0; i <= lag->capacity; i++) {
        if ((i < n || i == lag->capacity) && atomic_load(&lag->series[i].live))
            total = (total < 0 ? 0 : total) + atomic_load(&lag->series[i].gauge);
    }
    return total;
}

char *metrics_format_status(char *buf, size_t size)
{
    uint64_t dead = 0;
    int64_t total_lag = metrics_consumer_lag_total();
    size_t n;

    metrics_default();
    if (std_metrics.deadlettered != NULL) {
        n = atomic_load(&std_metrics.deadlettered->n);
        for (size_t i = 0; i <= std_metrics.deadlettered->capacity; i++)
            if (i < n || i == std_metrics.deadlettered->capacity)
                dead += atomic_load(&std_metrics.deadlettered->series[i].count);
    }
    snprintf(buf, size,
             "consumed %llu, produced %llu, dead-lettered %llu, in flight %lld (%lld bytes), "
             "paused %lld, lag %lld",
             (unsigned long long)metrics_counter_get(std_metrics.consumed, NULL, NULL),
             (unsigned long long)metrics_counter_get(std_metrics.produced, NULL, NULL),
             (unsigned long long)dead,
             (long long)metrics_gauge_get(std_metrics.inflight_messages, NULL, NULL),
             (long long)metrics_gauge_get(std_metrics.inflight_bytes, NULL, NULL),
             (long long)metrics_gauge_get(std_metrics.paused, NULL, NULL),
             (long long)(total_lag < 0 ? 0 : total_lag));
    return buf;
}
