/* metrics: a thread-safe Prometheus metrics registry and the daemon's standard metrics. */
#ifndef ENRICHD_DAEMON_METRICS_H
#define ENRICHD_DAEMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A registry holds metric families; a family has zero, one or two label names and one series
 * per distinct label value tuple, up to a fixed capacity (label values must be bounded: stage
 * names, reasons, partitions; never ids). When a family is full, further values share one
 * series whose labels read "other". Updating a value is lock-free (C11 atomics); adding a new
 * series and rendering take the family's mutex. Everything here may be called from any thread.
 */

enum metric_type {
    METRIC_COUNTER,   /* monotonic uint64; the name ends in _total */
    METRIC_GAUGE,     /* int64, set or added to */
    METRIC_HISTOGRAM, /* fixed buckets of doubles, plus _sum and _count */
};

#define METRICS_MAX_BUCKETS 24
#define METRICS_LABEL_MAX 128 /* bytes per label value, longer ones are truncated */

struct metrics_registry;
struct metric;

/* Returns a new empty registry (destroy with metrics_registry_free) or NULL on ENOMEM. */
struct metrics_registry *metrics_registry_new(void);

/* Frees the registry and its families. Accepts NULL. */
void metrics_registry_free(struct metrics_registry *reg);

/*
 * Adds a family to reg and returns it (owned by reg), or NULL on ENOMEM or bad arguments.
 * name and help are borrowed and must outlive reg (string literals). label1/label2 may be
 * NULL (no label; label2 only with label1). capacity bounds the number of series (>= 1).
 * For histograms, buckets (borrowed, ascending upper bounds, +Inf implied) has nbuckets
 * entries (<= METRICS_MAX_BUCKETS); other types pass NULL, 0.
 */
struct metric *metrics_add(struct metrics_registry *reg, enum metric_type type, const char *name,
                           const char *help, const char *label1, const char *label2,
                           size_t capacity, const double *buckets, size_t nbuckets);

/* Updates the series of m named by the label values (borrowed; NULL for unused labels). */
void metrics_counter_add(struct metric *m, const char *v1, const char *v2, uint64_t n);
void metrics_gauge_set(struct metric *m, const char *v1, const char *v2, int64_t value);
void metrics_gauge_add(struct metric *m, const char *v1, const char *v2, int64_t delta);
void metrics_histogram_observe(struct metric *m, const char *v1, const char *v2, double value);

/* Removes every series of a labelled gauge (e.g. lag of partitions no longer assigned).
 * Series added afterwards reuse the freed capacity. */
void metrics_gauge_clear(struct metric *m);

/* Reads the current value of a series (0 when it does not exist); for tests and STATUS=. */
uint64_t metrics_counter_get(struct metric *m, const char *v1, const char *v2);
int64_t metrics_gauge_get(struct metric *m, const char *v1, const char *v2);

/* Renders reg in Prometheus text format 0.0.4 into *out (new, free()), its length in *len.
 * Returns 0 or -ENOMEM. */
int metrics_render(struct metrics_registry *reg, char **out, size_t *len);

/*
 * The daemon's standard metrics, in a process-wide registry created on first use. Names:
 *   enrichd_build_info{version}                               gauge, always 1
 *   enrichd_process_start_time_seconds                        gauge
 *   enrichd_health_ready                                      gauge 0/1, see metrics_set_ready
 *   enrichd_consumer_messages_total                           counter
 *   enrichd_consumer_bytes_total                              counter
 *   enrichd_consumer_paused_partitions                        gauge
 *   enrichd_consumer_lag_messages{topic,partition}            gauge, from librdkafka stats
 *   enrichd_producer_messages_total                           counter, delivered to output
 *   enrichd_producer_delivery_errors_total{error}             counter
 *   enrichd_deadletter_messages_total{reason}                 counter
 *   enrichd_stage_documents_total{stage,result}               counter, result ok|error
 *   enrichd_stage_duration_seconds{stage}                     histogram
 *   enrichd_pipeline_inflight_messages                        gauge
 *   enrichd_pipeline_inflight_bytes                           gauge
 */
struct metrics_registry *metrics_default(void);

/* A message was consumed from the input (value size in bytes). */
void metrics_on_consume(size_t bytes);
/* A message was delivered to the output topic (successful delivery report). */
void metrics_on_produce(void);
/* A message was delivered to the dead-letter topic; reason is article_reason_name()
 * ("not_json", "oversized", ...), borrowed. */
void metrics_on_deadletter(const char *reason);
/* A delivery report failed; error is rd_kafka_err2name(err) (borrowed). */
void metrics_on_delivery_error(const char *error);
/* Exactly-once mode: shows both transaction series, at 0, so that the first one counts as an
 * increase. */
void metrics_transactions_start(void);
/* An exactly-once transaction was committed, or aborted. */
void metrics_on_transaction(bool committed);
/* One stage ran on one document for seconds; failed when it returned an error. */
void metrics_on_stage(const char *stage, double seconds, bool failed);
/* Current in-flight totals (set, not added). */
void metrics_set_inflight(int64_t messages, int64_t bytes);
/* Current number of paused input partitions. */
void metrics_set_paused_partitions(int64_t n);
/* The /readyz answer: true when assigned, or waiting for an assignment with no fatal error. */
void metrics_set_ready(bool ready);
bool metrics_ready(void);

/* Replaces the consumer lag gauges from a librdkafka statistics JSON document (the
 * stats_cb argument, borrowed): one series per topic and partition whose lag is known, behind
 * the stored offset (consumer_lag_stored) where known, else behind the committed one;
 * partitions that vanished from the stats are dropped. Returns 0, or -EINVAL when json does
 * not parse (the gauges are then left as they were). */
int metrics_update_from_rdkafka_stats(const char *json);

/* The sum of the consumer lag gauges, or -1 when no partition's lag is known. */
int64_t metrics_consumer_lag_total(void);

/* Formats a one-line summary of the standard metrics into buf (size bytes, NUL-terminated,
 * truncated to fit) for sd_notify's STATUS=, e.g. "consumed 120, produced 117, dead-lettered
 * 2, in flight 1 (2048 bytes), paused 0, lag 40". Returns buf. */
char *metrics_format_status(char *buf, size_t size);

#endif
