/* engine: libuv loop driving a librdkafka consumer and an idempotent producer around the
 * pipeline: reorder per partition, dead-letter bad input, store only delivered offsets; or,
 * in exactly-once mode, a transactional producer that commits the delivered offsets in the
 * transaction of the outputs. */
#include "daemon/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "daemon/http.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/notify.h"

/* No delivery for this long while there is lag withholds WATCHDOG=1. Generous: a slow
 * stage or a broker failover is not a stuck pipeline. */
#define ENGINE_STALL_MS 60000
/* Per-message warnings: at most this many per window, each kind on its own. */
#define ENGINE_WARN_WINDOW_MS 10000
#define ENGINE_WARN_BURST 10
/* STATUS= period when systemd runs no watchdog. */
#define ENGINE_STATUS_MS 5000
/* Exactly-once: the longest a transactional call blocks the loop, and the pause before a call
 * that timed out (or failed with a retriable error) is tried again. */
#define ENGINE_TXN_TIMEOUT_MS 5000
#define ENGINE_TXN_RETRY_MS 500

enum job_state {
    JOB_WORKING,   /* on the worker pool */
    JOB_PROCESSED, /* result ready, waiting for its turn in the partition */
    JOB_PRODUCED,  /* handed to the producer, waiting for the delivery report */
    JOB_DELIVERED, /* delivered, waiting for the messages before it */
    JOB_FAILED     /* delivery failed: never stored, blocks its partition until shutdown */
};

/* Exactly-once mode: where the producer's transaction stands. */
enum txn_state {
    TXN_INIT,       /* init_transactions not done yet: nothing is produced */
    TXN_IDLE,       /* no transaction open; the next produce begins one */
    TXN_OPEN,       /* open: processed jobs are produced into it */
    TXN_COMMITTING, /* produce held; commit once every produced message is delivered */
    TXN_ABORTING    /* produce held; jobs dropped, consumer rewound; abort, then redo */
};

struct part;
struct engine;

/* One loaded configuration and its pipeline. The engine's current one and every job hold a
 * reference (counted on the loop thread only), so after a reload the jobs in flight finish
 * with the pipeline they started with, and it is freed when the last one is done. */
struct engine_gen {
    const struct conf *conf; /* the live keys: [pipeline] limits, drain deadline */
    const struct pipeline *pipe;
    struct conf *owned_conf;     /* NULL when borrowed from engine_run's caller */
    struct pipeline *owned_pipe; /* NULL when borrowed */
    long refs;
};

/* One consumed message on its way through. */
struct job {
    uv_work_t work;
    struct engine *e;
    struct engine_gen *gen;  /* the pipeline it runs through: a reference */
    struct part *part;       /* NULL once abandoned (revoked, shutdown) */
    struct job *next;        /* in part's arrival order */
    rd_kafka_message_t *rkm; /* owned: destroyed exactly once, in job_free */
    enum job_state state;
    int dead_letter;            /* produced to the dead-letter topic */
    size_t bytes;               /* payload bytes, counted in e->inflight_bytes */
    struct pipeline_result res; /* filled on the worker pool */
};

/* One assigned input partition: its jobs in arrival order. Every job before `cursor` has
 * been produced; the head is popped (and its offset stored) once delivered. */
struct part {
    char *topic; /* owned */
    int32_t partition;
    struct job *head, *tail;
    struct job *cursor; /* first job not yet produced, NULL if none */
    struct part *next;
    /* Exactly-once only: */
    int64_t txn_next;  /* offset after the delivered prefix in the open transaction, -1 none */
    int64_t rewind;    /* first offset taken since the last commit, -1 none: where an abort
                        * seeks back to, the position the last commit left */
    int64_t committed; /* offset the last committed transaction sent for p, -1 none */
};

struct engine {
    uv_loop_t loop;
    const struct conf *conf;            /* start-up config: Kafka handles, topics, listener */
    struct engine_gen *gen;             /* current config and pipeline, swapped by a reload */
    const struct engine_reload *reload; /* NULL: SIGHUP is ignored */
    uv_signal_t sighup;
    uv_work_t reload_work;
    int reloading;                /* reload_work is queued */
    int reload_rc;                /* reload_work's result */
    struct conf *reload_conf;     /* reload_work's result, new */
    struct pipeline *reload_pipe; /* reload_work's result, new */
    struct errbuf reload_err;
    rd_kafka_t *consumer, *producer;
    /* Made with the producer, which then asks for their metadata at once rather than on its
     * 1 s topic scan when the first record arrives. */
    rd_kafka_topic_t *out_rkt, *dlq_rkt;
    rd_kafka_queue_t *cq, *pq;
    int cpipe[2], ppipe[2];
    uv_poll_t cpoll, ppoll;
    uv_signal_t sigterm, sigint;
    uv_timer_t drain_timer, tick, finish_timer;
    uv_timer_t notify_timer;     /* STATUS= and WATCHDOG=1, only under NOTIFY_SOCKET */
    struct notify_health health; /* the watchdog's view of progress */
    int watchdog;                /* systemd expects WATCHDOG=1 (WATCHDOG_USEC for us) */
    struct http_server *http;    /* /metrics, /healthz, /readyz; NULL when listen is off */
    struct part *parts;
    long inflight_msgs, inflight_bytes;
    int n_assigned; /* input partitions currently assigned */
    /* Warnings one message (or one broker retry) can cause, each limited on its own. */
    struct log_ratelimit warn_consume, warn_offset_store, warn_kafka;
    int ready; /* READY=1 was sent: local initialisation is done */
    int paused;
    int stopping, drain_expired, finish_scheduled, finished, fatal, retry_produce;
    int exit_code;
    struct engine_stats stats;
    /* Exactly-once ([kafka] processing.guarantee = exactly_once) only: */
    int eos;
    enum txn_state txn;
    const char *abort_reason; /* TXN_ABORTING: why, for the log */
    int txn_rewound;          /* TXN_ABORTING: jobs dropped and consumer rewound already */
    int txn_offsets_sent;     /* TXN_COMMITTING: send_offsets done; commit left */
    long txn_msgs;            /* messages produced in the open transaction */
    long txn_outstanding;     /* of those, without a delivery report yet */
    uv_timer_t txn_timer;     /* closes the open transaction after transaction_interval_ms */
    uv_timer_t txn_kick;      /* runs engine_txn_step on a later loop turn */
    char transactional_id[256];
};

static void engine_drain_producer(struct engine *e);
static void engine_maybe_finish(struct engine *e);
static void engine_shutdown(struct engine *e, const char *why);
static int engine_txn_may_produce(struct engine *e);
static void engine_txn_produced(struct engine *e);
static void engine_txn_request_abort(struct engine *e, const char *why);
static void engine_txn_kick(struct engine *e, uint64_t delay_ms);

/* ---- configurations ---- */

static void gen_unref(struct engine_gen *g)
{
    if (g == NULL || --g->refs > 0)
        return;
    pipeline_free(g->owned_pipe);
    if (g->owned_conf != NULL) {
        conf_free(g->owned_conf);
        free(g->owned_conf);
    }
    free(g);
}

/* A generation holding one reference; takes ownership of owned_conf and owned_pipe (freed
 * even on failure). NULL on ENOMEM. */
static struct engine_gen *gen_new(const struct conf *conf, const struct pipeline *pipe,
                                  struct conf *owned_conf, struct pipeline *owned_pipe)
{
    struct engine_gen *g = calloc(1, sizeof(*g));

    if (g == NULL) {
        pipeline_free(owned_pipe);
        if (owned_conf != NULL) {
            conf_free(owned_conf);
            free(owned_conf);
        }
        return NULL;
    }
    *g = (struct engine_gen){conf, pipe, owned_conf, owned_pipe, 1};
    return g;
}

/* ---- health and gauges ---- */

/* /readyz: assigned, or waiting for an assignment with no fatal error; never while stopping. */
static void engine_update_ready(struct engine *e)
{
    metrics_set_ready(e->ready && !e->stopping && (e->n_assigned > 0 || !e->fatal));
}

static void engine_update_inflight(const struct engine *e)
{
    metrics_set_inflight(e->inflight_msgs, e->inflight_bytes);
}

/* Refreshes the assigned-partition count and what depends on it. */
static void engine_update_assignment(struct engine *e)
{
    rd_kafka_topic_partition_list_t *list = NULL;

    if (rd_kafka_assignment(e->consumer, &list) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        e->n_assigned = list->cnt;
        rd_kafka_topic_partition_list_destroy(list);
    }
    metrics_set_paused_partitions(e->paused || e->stopping ? e->n_assigned : 0);
    engine_update_ready(e);
}

/* ---- partitions ---- */

static struct part *part_find(struct engine *e, const char *topic, int32_t partition, int create)
{
    struct part *p;

    for (p = e->parts; p != NULL; p = p->next)
        if (p->partition == partition && strcmp(p->topic, topic) == 0)
            return p;
    if (!create || (p = calloc(1, sizeof(*p))) == NULL)
        return NULL;
    if ((p->topic = strdup(topic)) == NULL) {
        free(p);
        return NULL;
    }
    p->partition = partition;
    p->txn_next = p->rewind = p->committed = -1;
    p->next = e->parts;
    e->parts = p;
    return p;
}

/* ---- backpressure ---- */

static void engine_set_paused(struct engine *e, int pause)
{
    rd_kafka_topic_partition_list_t *list = NULL;

    if (rd_kafka_assignment(e->consumer, &list) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    if (pause)
        rd_kafka_pause_partitions(e->consumer, list);
    else
        rd_kafka_resume_partitions(e->consumer, list);
    e->n_assigned = list->cnt;
    metrics_set_paused_partitions(pause ? list->cnt : 0);
    rd_kafka_topic_partition_list_destroy(list);
}

static void engine_check_backpressure(struct engine *e)
{
    if (e->stopping)
        return;
    if (!e->paused && (e->inflight_msgs >= e->gen->conf->max_inflight_messages ||
                       e->inflight_bytes >= e->gen->conf->max_inflight_bytes)) {
        e->paused = 1;
        e->stats.pauses++;
        engine_set_paused(e, 1);
        log_debug("backpressure: paused at %ld messages, %ld bytes in flight", e->inflight_msgs,
                  e->inflight_bytes);
    } else if (e->paused && e->inflight_msgs < e->gen->conf->max_inflight_messages / 2 &&
               e->inflight_bytes < e->gen->conf->max_inflight_bytes / 2) {
        e->paused = 0;
        engine_set_paused(e, 0);
        log_debug("backpressure: resumed at %ld messages, %ld bytes in flight", e->inflight_msgs,
                  e->inflight_bytes);
    }
}

/* ---- jobs ---- */

static void job_free(struct job *job)
{
    struct engine *e = job->e;

    e->inflight_msgs--;
    e->inflight_bytes -= (long)job->bytes;
    rd_kafka_message_destroy(job->rkm);
    pipeline_result_fini(&job->res);
    gen_unref(job->gen);
    free(job);
    engine_update_inflight(e);
    engine_check_backpressure(e);
}

/* Detaches every job of p: finished ones are freed now, the ones still on the worker pool or
 * awaiting a delivery report are freed when they come back. Nothing of p is stored after. */
static void part_abandon(struct engine *e, struct part *p)
{
    struct job *job = p->head, *next;

    p->head = p->tail = p->cursor = NULL;
    for (; job != NULL; job = next) {
        next = job->next;
        job->part = NULL;
        job->next = NULL;
        e->stats.abandoned++;
        if (job->state != JOB_WORKING && job->state != JOB_PRODUCED)
            job_free(job);
    }
}

static void part_remove(struct engine *e, struct part *p)
{
    struct part **pp;

    part_abandon(e, p);
    for (pp = &e->parts; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    free(p->topic);
    free(p);
}

/* Pops the delivered prefix of p and stores the offset after it. */
static void part_advance(struct engine *e, struct part *p)
{
    int64_t next_offset = -1;
    struct job *job;

    while ((job = p->head) != NULL && job->state == JOB_DELIVERED) {
        next_offset = job->rkm->offset + 1;
        p->head = job->next;
        if (p->head == NULL)
            p->tail = NULL;
        job->part = NULL;
        job_free(job);
    }
    if (next_offset < 0)
        return;
    if (e->eos) {
        /* Sent with the transaction when it commits. */
        p->txn_next = next_offset;
        return;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset = next_offset;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(e->consumer, list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn_limited(&e->warn_offset_store, uv_now(&e->loop),
                         "offset store %s[%" PRId32 "]@%" PRId64 ": %s", p->topic, p->partition,
                         next_offset, rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(list);
}

static rd_kafka_headers_t *job_headers(const struct job *job)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(6);
    char num[32];
    const rd_kafka_message_t *m = job->rkm;

    if (job->dead_letter) {
        const char *reason = article_reason_name(job->res.reason);
        struct timespec ts;
        struct tm tm;
        char when[40];
        rd_kafka_header_add(h, "enrichd-reason", -1, reason, -1);
        rd_kafka_header_add(h, "enrichd-error", -1, job->res.detail, -1);
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        rd_kafka_header_add(h, "enrichd-time", -1, when, -1);
    } else {
        rd_kafka_header_add(h, "enrichd-schema-version", -1, "1", -1);
    }
    rd_kafka_header_add(h, "enrichd-source-topic", -1, rd_kafka_topic_name(m->rkt), -1);
    snprintf(num, sizeof(num), "%" PRId32, m->partition);
    rd_kafka_header_add(h, "enrichd-source-partition", -1, num, -1);
    snprintf(num, sizeof(num), "%" PRId64, m->offset);
    rd_kafka_header_add(h, "enrichd-source-offset", -1, num, -1);
    return h;
}

/* Hands job to the producer. Returns 0, -EAGAIN when the producer queue is full (retry
 * later), -ECANCELED in exactly-once mode when the producer refuses because the transaction
 * must be aborted, -EPIPE when the producer has a fatal error (engine_error_cb logs its
 * reason when it is served), or -EIO on any other error. */
static int job_produce(struct engine *e, struct job *job)
{
    const rd_kafka_message_t *m = job->rkm;
    const void *key = m->key;
    size_t key_len = m->key_len;
    rd_kafka_headers_t *h;
    rd_kafka_resp_err_t err;

    job->dead_letter = job->res.reason != ARTICLE_OK;
    if (key == NULL && job->res.id != NULL) {
        key = job->res.id;
        key_len = strlen(job->res.id);
    }
    h = job_headers(job);
    if (job->dead_letter)
        err = rd_kafka_producev(e->producer, RD_KAFKA_V_RKT(e->dlq_rkt),
                                RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                                RD_KAFKA_V_OPAQUE(job), RD_KAFKA_V_END);
    else
        err =
            rd_kafka_producev(e->producer, RD_KAFKA_V_RKT(e->out_rkt), RD_KAFKA_V_KEY(key, key_len),
                              RD_KAFKA_V_VALUE(job->res.out, job->res.out_len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                              RD_KAFKA_V_OPAQUE(job), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* The producer copied the value; the result is no longer needed. */
        pipeline_result_fini(&job->res);
        job->state = JOB_PRODUCED;
        return 0;
    }
    rd_kafka_headers_destroy(h);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return -EAGAIN;
    if (e->eos && err != RD_KAFKA_RESP_ERR__FATAL) {
        log_warn_limited(&e->warn_kafka, uv_now(&e->loop),
                         "produce %s[%" PRId32 "]@%" PRId64 " in the transaction: %s",
                         rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                         rd_kafka_err2str(err));
        return -ECANCELED;
    }
    log_err("produce %s[%" PRId32 "]@%" PRId64 ": %s", rd_kafka_topic_name(m->rkt), m->partition,
            m->offset, rd_kafka_err2str(err));
    return err == RD_KAFKA_RESP_ERR__FATAL ? -EPIPE : -EIO;
}

/* Produces the processed jobs of p that are next in input order. */
static void part_produce_ready(struct engine *e, struct part *p)
{
    int rc;

    while (p->cursor != NULL && p->cursor->state == JOB_PROCESSED && !e->fatal) {
        /* Exactly-once: held while no transaction can take it; engine_txn_step resumes. */
        if (e->eos && !engine_txn_may_produce(e))
            return;
        if ((rc = job_produce(e, p->cursor)) == -EAGAIN) {
            e->retry_produce = 1;
            return;
        }
        if (rc == -ECANCELED) {
            engine_txn_request_abort(e, "produce refused");
            return;
        }
        if (rc != 0) {
            /* The producer may refuse with its fatal error before engine_error_cb is served:
             * the stop reads the same either way. */
            e->fatal = 1;
            e->exit_code = 1;
            engine_shutdown(e, rc == -EPIPE ? "fatal kafka error" : "produce failed");
            return;
        }
        p->cursor = p->cursor->next;
        if (e->eos)
            engine_txn_produced(e);
    }
}

static void engine_produce_all(struct engine *e)
{
    for (struct part *p = e->parts; p != NULL; p = p->next)
        part_produce_ready(e, p);
}

static void job_work(uv_work_t *req)
{
    struct job *job = (struct job *)req;
    const rd_kafka_message_t *m = job->rkm;

    const struct pipeline *pipe = job->gen->pipe;
    struct pipeline_result *res = &job->res;

    pipeline_process(pipe, m->payload != NULL ? m->payload : "", m->len, NULL, res);
    /* The registry is lock-free for existing series: recorded here, off the loop. */
    for (size_t i = 0; i < res->stages_run; i++)
        metrics_on_stage(pipeline_stage_name(pipe, i), (double)res->stage_us[i] / 1e6,
                         res->stage_failed && i + 1 == res->stages_run);
}

static void job_after_work(uv_work_t *req, int status)
{
    struct job *job = (struct job *)req;
    struct engine *e = job->e;

    (void)status;
    if (job->part == NULL || e->finished) {
        job_free(job);
        engine_maybe_finish(e);
        return;
    }
    job->state = JOB_PROCESSED;
    part_produce_ready(e, job->part);
    engine_maybe_finish(e);
}

static void engine_take_message(struct engine *e, rd_kafka_message_t *rkm)
{
    struct part *p;
    struct job *job;

    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            log_warn_limited(&e->warn_consume, uv_now(&e->loop), "consume: %s",
                             rd_kafka_message_errstr(rkm));
        rd_kafka_message_destroy(rkm);
        return;
    }
    /* After a stop request, fetched messages are left for the next run: their offsets (and
     * every later one) are never stored. */
    if (e->stopping) {
        rd_kafka_message_destroy(rkm);
        return;
    }
    p = part_find(e, rd_kafka_topic_name(rkm->rkt), rkm->partition, 1);
    job = calloc(1, sizeof(*job));
    if (p == NULL || job == NULL) {
        free(job);
        rd_kafka_message_destroy(rkm);
        log_err("out of memory");
        e->fatal = 1;
        e->exit_code = 1;
        engine_shutdown(e, "out of memory");
        return;
    }
    job->e = e;
    job->gen = e->gen;
    e->gen->refs++;
    job->part = p;
    job->rkm = rkm;
    job->bytes = rkm->len;
    job->state = JOB_WORKING;
    if (p->tail != NULL)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    if (p->cursor == NULL)
        p->cursor = job;
    if (p->rewind < 0)
        p->rewind = rkm->offset;
    e->inflight_msgs++;
    e->inflight_bytes += (long)job->bytes;
    e->stats.consumed++;
    metrics_on_consume(job->bytes);
    engine_update_inflight(e);
    uv_queue_work(&e->loop, &job->work, job_work, job_after_work);
    engine_check_backpressure(e);
}

/* ---- exactly-once: transactions ----
 *
 * The producer's transactions are driven from the loop: the first produce begins one; it is
 * committed after transaction_interval_ms or transaction_max_messages, once every message
 * produced into it is delivered (production is held meanwhile, so the offsets sent with it
 * are exactly those of its outputs). A transactional call blocks the loop for at most
 * ENGINE_TXN_TIMEOUT_MS (a round trip or two to the coordinators when all is well); a call
 * that times out or fails with a retriable error is tried again ENGINE_TXN_RETRY_MS later
 * while the loop keeps serving the consumer. An error that requires an abort drops the jobs
 * of the transaction, seeks the consumer back to where the last commit left each partition
 * and aborts; the input is then redone. A fatal error (fenced, or any other) stops the
 * daemon with status 1. */

/* What a transactional call's error asks for. */
enum txn_verdict {
    TXN_OK,
    TXN_RETRY, /* try the same call again later */
    TXN_ABORT, /* abort the transaction and redo its input */
    TXN_FATAL  /* the daemon is stopping with status 1 */
};

static void engine_txn_fail(struct engine *e, const char *what, const char *msg)
{
    if (e->fatal)
        return;
    log_err("exactly-once: %s: fatal: %s; stopping with status 1 (a restart aborts the open "
            "transaction and resumes from the last committed offsets)",
            what, msg);
    e->fatal = 1;
    e->exit_code = 1;
    engine_shutdown(e, "fatal transaction error");
}

/* Classifies and destroys error (may be NULL), logging what is not OK. */
static enum txn_verdict engine_txn_verdict(struct engine *e, const char *what,
                                           rd_kafka_error_t *error)
{
    enum txn_verdict v;

    if (error == NULL)
        return TXN_OK;
    if (rd_kafka_error_is_fatal(error)) {
        engine_txn_fail(e, what, rd_kafka_error_string(error));
        v = TXN_FATAL;
    } else if (rd_kafka_error_txn_requires_abort(error)) {
        log_warn("exactly-once: %s: %s: aborting the transaction", what,
                 rd_kafka_error_string(error));
        v = TXN_ABORT;
    } else if (rd_kafka_error_is_retriable(error)) {
        log_warn_limited(&e->warn_kafka, uv_now(&e->loop), "exactly-once: %s: %s: retrying", what,
                         rd_kafka_error_string(error));
        v = TXN_RETRY;
    } else {
        /* Neither retriable nor abortable: the producer is in a state enrichd does not know
         * how to leave; a restart does. */
        engine_txn_fail(e, what, rd_kafka_error_string(error));
        v = TXN_FATAL;
    }
    rd_kafka_error_destroy(error);
    return v;
}

static void engine_on_txn_kick(uv_timer_t *t);

/* Runs engine_txn_step delay_ms from now, never inside a librdkafka callback. */
static void engine_txn_kick(struct engine *e, uint64_t delay_ms)
{
    if (!e->finished)
        uv_timer_start(&e->txn_kick, engine_on_txn_kick, delay_ms, 0);
}

static void engine_txn_request_commit(struct engine *e)
{
    if (e->txn != TXN_OPEN)
        return;
    e->txn = TXN_COMMITTING;
    e->txn_offsets_sent = 0;
    engine_txn_kick(e, 0);
}

static void engine_txn_request_abort(struct engine *e, const char *why)
{
    if (e->txn != TXN_OPEN && e->txn != TXN_COMMITTING)
        return;
    e->txn = TXN_ABORTING;
    e->abort_reason = why;
    e->txn_rewound = 0;
    engine_txn_kick(e, 0);
}

static void engine_on_txn_timer(uv_timer_t *t)
{
    engine_txn_request_commit(t->data);
}

/* Whether a job may be produced now; begins a transaction when none is open. */
static int engine_txn_may_produce(struct engine *e)
{
    if (e->txn == TXN_OPEN)
        return 1;
    if (e->txn != TXN_IDLE || e->fatal)
        return 0;
    if (engine_txn_verdict(e, "begin_transaction", rd_kafka_begin_transaction(e->producer)) !=
        TXN_OK) {
        /* Only a producer in a fatal state refuses to begin once the last one is over. */
        engine_txn_fail(e, "begin_transaction", "refused");
        return 0;
    }
    e->txn = TXN_OPEN;
    e->txn_msgs = 0;
    uv_timer_start(&e->txn_timer, engine_on_txn_timer, (uint64_t)e->conf->transaction_interval_ms,
                   0);
    return 1;
}

/* One more message in the open transaction. */
static void engine_txn_produced(struct engine *e)
{
    e->txn_outstanding++;
    if (++e->txn_msgs >= e->conf->transaction_max_messages)
        engine_txn_request_commit(e);
}

/* Appends "topic[partition]@offset" of every partition with a committed offset to buf, for
 * the log. */
static void engine_txn_positions(const struct engine *e, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
    for (const struct part *p = e->parts; p != NULL && n + 1 < len; p = p->next) {
        if (p->committed < 0)
            continue;
        int w = snprintf(buf + n, len - n, "%s%s[%" PRId32 "]@%" PRId64, n > 0 ? " " : "", p->topic,
                         p->partition, p->committed);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* TXN_COMMITTING, every produced message delivered: sends the delivered offsets and commits. */
static enum txn_verdict engine_txn_commit(struct engine *e)
{
    enum txn_verdict v = TXN_OK;

    if (!e->txn_offsets_sent) {
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(4);
        for (struct part *p = e->parts; p != NULL; p = p->next)
            if (p->txn_next >= 0)
                rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset =
                    p->txn_next;
        if (list->cnt > 0) {
            /* Fresh each time: KIP-447 fences a commit from an older group generation. */
            rd_kafka_consumer_group_metadata_t *cgmd =
                rd_kafka_consumer_group_metadata(e->consumer);
            v = engine_txn_verdict(e, "send_offsets_to_transaction",
                                   rd_kafka_send_offsets_to_transaction(e->producer, list, cgmd,
                                                                        ENGINE_TXN_TIMEOUT_MS));
            rd_kafka_consumer_group_metadata_destroy(cgmd);
        }
        rd_kafka_topic_partition_list_destroy(list);
        if (v != TXN_OK)
            return v;
        e->txn_offsets_sent = 1;
    }
    v = engine_txn_verdict(e, "commit_transaction",
                           rd_kafka_commit_transaction(e->producer, ENGINE_TXN_TIMEOUT_MS));
    if (v != TXN_OK)
        return v;
    for (struct part *p = e->parts; p != NULL; p = p->next) {
        if (p->txn_next >= 0)
            p->committed = p->txn_next;
        p->txn_next = -1;
        /* What is left was taken after the commit's offsets: an abort redoes it from here. */
        p->rewind = p->head != NULL ? p->head->rkm->offset : -1;
    }
    e->stats.txn_commits++;
    metrics_on_transaction(true);
    log_debug("exactly-once: committed a transaction of %ld message(s)", e->txn_msgs);
    e->txn = TXN_IDLE;
    e->txn_msgs = 0;
    uv_timer_stop(&e->txn_timer);
    return TXN_OK;
}

/* Drops every job of the transaction and seeks each partition back to where the last commit
 * left it, so the input is redone. Returns 0, or -EIO when the consumer cannot be rewound
 * (what follows would be skipped: fatal). */
static int engine_txn_rewind(struct engine *e)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(4);
    rd_kafka_error_t *error;
    int rc = 0;

    for (struct part *p = e->parts; p != NULL; p = p->next) {
        if (p->rewind >= 0)
            rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset = p->rewind;
        p->rewind = p->txn_next = -1;
        part_abandon(e, p);
    }
    /* Asynchronous (timeout 0): librdkafka drops what was fetched before the seek. */
    if (list->cnt > 0 && (error = rd_kafka_seek_partitions(e->consumer, list, 0)) != NULL) {
        engine_txn_fail(e, "rewind", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        rc = -EIO;
    }
    for (int i = 0; rc == 0 && i < list->cnt; i++) {
        /* An asynchronous seek reports each partition as in progress. */
        if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR &&
            list->elems[i].err != RD_KAFKA_RESP_ERR__IN_PROGRESS) {
            engine_txn_fail(e, "rewind", rd_kafka_err2str(list->elems[i].err));
            rc = -EIO;
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

/* TXN_ABORTING: rewinds (once) and aborts. The abort serves the delivery reports of the purged
 * messages, whose jobs are dropped already. */
static enum txn_verdict engine_txn_abort(struct engine *e)
{
    enum txn_verdict v;

    if (!e->txn_rewound) {
        if (engine_txn_rewind(e) != 0)
            return TXN_FATAL;
        e->txn_rewound = 1;
        log_warn("exactly-once: aborting the transaction (%s): its %ld message(s) and the input "
                 "taken after them are redone from the last committed offsets",
                 e->abort_reason != NULL ? e->abort_reason : "requested", e->txn_msgs);
    }
    v = engine_txn_verdict(e, "abort_transaction",
                           rd_kafka_abort_transaction(e->producer, ENGINE_TXN_TIMEOUT_MS));
    if (v == TXN_ABORT) /* an abort cannot require another: try it again */
        v = TXN_RETRY;
    if (v != TXN_OK)
        return v;
    e->stats.txn_aborts++;
    metrics_on_transaction(false);
    e->txn = TXN_IDLE;
    e->txn_msgs = 0;
    e->txn_rewound = 0;
    uv_timer_stop(&e->txn_timer);
    return TXN_OK;
}

/* Moves the transaction on as far as it goes now; schedules itself again for a retry. */
static void engine_txn_step(struct engine *e)
{
    enum txn_verdict v = TXN_OK;

    if (!e->eos || e->fatal || e->finished)
        return;
    switch (e->txn) {
    case TXN_INIT:
        v = engine_txn_verdict(e, "init_transactions",
                               rd_kafka_init_transactions(e->producer, ENGINE_TXN_TIMEOUT_MS));
        if (v == TXN_ABORT)
            v = TXN_RETRY;
        if (v == TXN_OK) {
            log_info("exactly-once: transactional producer ready (transactional.id %s)",
                     e->transactional_id);
            e->txn = TXN_IDLE;
        }
        break;
    case TXN_COMMITTING:
        if (e->txn_outstanding > 0)
            return; /* the last delivery report kicks again */
        if ((v = engine_txn_commit(e)) == TXN_ABORT) {
            e->txn = TXN_ABORTING;
            e->abort_reason = "commit failed";
            e->txn_rewound = 0;
            v = engine_txn_abort(e);
        }
        break;
    case TXN_ABORTING:
        v = engine_txn_abort(e);
        break;
    case TXN_IDLE:
    case TXN_OPEN:
        break;
    }
    if (v == TXN_RETRY)
        engine_txn_kick(e, ENGINE_TXN_RETRY_MS);
    else if (v == TXN_OK && e->txn == TXN_IDLE)
        engine_produce_all(e);
    engine_maybe_finish(e);
}

static void engine_on_txn_kick(uv_timer_t *t)
{
    engine_txn_step(t->data);
}

/* Ends the open transaction now, for a revoke (lost: the partitions are gone, abort) or the
 * shutdown: waits for the produced messages, commits, and aborts what cannot be committed.
 * Blocks for up to about 4 x ENGINE_TXN_TIMEOUT_MS. On the loop thread, also inside the
 * rebalance callback. */
static void engine_txn_end_now(struct engine *e, const char *why, int lost)
{
    unsigned long commits = e->stats.txn_commits, aborts = e->stats.txn_aborts;

    if (!e->eos || e->fatal || e->txn == TXN_INIT || e->txn == TXN_IDLE)
        return;
    if (lost)
        engine_txn_request_abort(e, "partitions lost");
    engine_txn_request_commit(e);
    if (e->txn == TXN_COMMITTING && e->txn_outstanding > 0) {
        /* Serves the delivery reports: a failed one turns the commit into an abort. */
        rd_kafka_flush(e->producer, ENGINE_TXN_TIMEOUT_MS);
        if (e->txn == TXN_COMMITTING && e->txn_outstanding > 0)
            engine_txn_request_abort(e, "delivery not confirmed in time");
    }
    for (int tries = 0; tries < 3 && !e->fatal && e->txn != TXN_IDLE; tries++) {
        if (e->txn == TXN_COMMITTING) {
            if (engine_txn_commit(e) != TXN_ABORT)
                continue; /* committed, to be retried, or fatal */
            e->txn = TXN_ABORTING;
            e->abort_reason = "commit failed";
            e->txn_rewound = 0;
        }
        engine_txn_abort(e);
    }
    if (e->stats.txn_commits > commits || e->stats.txn_aborts > aborts)
        log_info("exactly-once: %s: the open transaction was %s", why,
                 e->stats.txn_aborts > aborts ? "aborted" : "committed");
    /* Still open: the loop's steps finish it (revoke), or the restart aborts it (shutdown). */
    if (e->txn != TXN_IDLE && !e->fatal) {
        log_warn("exactly-once: %s: the open transaction could not be ended yet", why);
        engine_txn_kick(e, ENGINE_TXN_RETRY_MS);
    }
}

/* ---- librdkafka callbacks (all served on the loop thread) ---- */

static void engine_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct engine *e = opaque;
    struct job *job = m->_private;

    (void)rk;
    if (e->eos && --e->txn_outstanding == 0 && e->txn == TXN_COMMITTING)
        engine_txn_kick(e, 0);
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        int purged =
            m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
        if (!purged)
            metrics_on_delivery_error(rd_kafka_err2name(m->err));
        if (!purged && e->eos && !e->fatal) {
            /* The transaction cannot commit now: abort it and redo its input. */
            log_warn_limited(
                &e->warn_kafka, uv_now(&e->loop),
                "delivery to %s failed in the transaction: %s (source %s[%" PRId32 "]@%" PRId64 ")",
                rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err),
                rd_kafka_topic_name(job->rkm->rkt), job->rkm->partition, job->rkm->offset);
            engine_txn_request_abort(e, "delivery failed");
        } else if (!purged && !e->fatal && !e->eos) {
            log_err("delivery to %s failed after retries: %s (source %s[%" PRId32 "]@%" PRId64
                    "); committing the delivered prefix and stopping",
                    rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err),
                    rd_kafka_topic_name(job->rkm->rkt), job->rkm->partition, job->rkm->offset);
            e->fatal = 1;
            e->exit_code = 1;
            engine_shutdown(e, "delivery failed");
        }
        /* Never delivered: it stays unstored and blocks its partition's prefix. */
        if (job->part == NULL)
            job_free(job);
        else
            job->state = JOB_FAILED;
        engine_maybe_finish(e);
        return;
    }
    if (job->dead_letter) {
        e->stats.dead_lettered++;
        metrics_on_deadletter(article_reason_name(job->res.reason));
    } else {
        e->stats.enriched++;
        metrics_on_produce();
    }
    job->state = JOB_DELIVERED;
    if (job->part == NULL)
        job_free(job);
    else
        part_advance(e, job->part);
    engine_maybe_finish(e);
}

static void engine_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct engine *e = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        log_info("rebalance: assigned %d partition(s)", parts->cnt);
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, parts);
        if (e->paused || e->stopping)
            rd_kafka_pause_partitions(rk, parts);
    } else {
        int lost = rd_kafka_assignment_lost(rk);
        log_info("rebalance: revoked %d partition(s)%s", parts->cnt, lost ? " (lost)" : "");
        /* Commit what was delivered; the rest is redone by the next owner. Exactly-once: the
         * open transaction ends before the partitions go: committed with their offsets, or,
         * when they are lost, aborted after they are dropped (nothing to rewind there). */
        if (e->eos && !lost)
            engine_txn_end_now(e, "revoke", 0);
        else if (!lost)
            rd_kafka_commit(rk, NULL, 1);
        for (int i = 0; i < parts->cnt; i++) {
            struct part *p = part_find(e, parts->elems[i].topic, parts->elems[i].partition, 0);
            if (p != NULL)
                part_remove(e, p);
        }
        if (e->eos && lost)
            engine_txn_end_now(e, "partitions lost", 1);
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, NULL);
    }
    if (error != NULL) {
        log_err("rebalance: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_err("rebalance: %s", rd_kafka_err2str(aerr));
    }
    engine_update_assignment(e);
    engine_maybe_finish(e);
}

static void engine_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct engine *e = opaque;
    char fatal[512];

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        log_err("%s: fatal error: %s", rd_kafka_name(rk), fatal);
        if (!e->fatal) {
            e->fatal = 1;
            e->exit_code = 1;
            engine_shutdown(e, "fatal kafka error");
        }
        return;
    }
    log_warn_limited(&e->warn_kafka, uv_now(&e->loop), "%s: %s: %s", rd_kafka_name(rk),
                     rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* Served by rd_kafka_consumer_poll on the loop thread (the consumer's main queue is forwarded
 * to its consumer queue). metrics_update_from_rdkafka_stats swaps the lag gauges under the
 * registry's locks, so the HTTP thread never renders a half-updated set. */
static int engine_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    (void)len;
    (void)opaque;
    if (metrics_update_from_rdkafka_stats(json) != 0)
        log_debug("librdkafka statistics: not parseable");
    return 0; /* librdkafka frees json */
}

/* With log.queue, librdkafka queues its log lines on the handle's main queue instead of
 * calling this from its own threads; the loop serves them with the other callbacks (the
 * consumer's main queue is forwarded to its consumer queue). Its levels are syslog's, as
 * ours are. */
static void engine_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level < LOG_LEVEL_ERR)
        level = LOG_LEVEL_ERR;
    if (level > LOG_LEVEL_DEBUG)
        level = LOG_LEVEL_DEBUG;
    LOG_AT((enum log_level)level, "librdkafka %s: %s", fac, buf);
}

/* ---- loop plumbing ---- */

static void engine_drain_pipe(int fd)
{
    char buf[256];

    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

/* Serves the consumer queue to empty: the io-event fd fires only on empty -> non-empty. */
static void engine_drain_consumer(struct engine *e)
{
    rd_kafka_message_t *rkm;

    int idle = 0;

    if (e->finished)
        return;
    /* A NULL poll may have served a callback with more ops queued behind it; a few NULLs in a
     * row with ops left are handed to the next tick rather than spun on. */
    while (!e->finished && idle < 4) {
        if ((rkm = rd_kafka_consumer_poll(e->consumer, 0)) != NULL) {
            engine_take_message(e, rkm);
            idle = 0;
        } else if (rd_kafka_queue_length(e->cq) == 0) {
            break;
        } else {
            idle++;
        }
    }
}

static void engine_drain_producer(struct engine *e)
{
    if (e->producer == NULL)
        return;
    int idle = 0;

    while (idle < 4) {
        if (rd_kafka_poll(e->producer, 0) > 0)
            idle = 0;
        else if (rd_kafka_queue_length(e->pq) == 0)
            break;
        else
            idle++;
    }
    if (e->retry_produce && !e->finished) {
        e->retry_produce = 0;
        engine_produce_all(e);
    }
}

static void engine_on_consumer_fd(uv_poll_t *h, int status, int events)
{
    struct engine *e = h->data;

    (void)status;
    (void)events;
    engine_drain_pipe(e->cpipe[0]);
    engine_drain_consumer(e);
}

static void engine_on_producer_fd(uv_poll_t *h, int status, int events)
{
    struct engine *e = h->data;

    (void)status;
    (void)events;
    engine_drain_pipe(e->ppipe[0]);
    engine_drain_producer(e);
}

/* A safety net against a lost wake-up, and the retry of a full producer queue. */
static void engine_on_tick(uv_timer_t *t)
{
    struct engine *e = t->data;

    engine_drain_producer(e);
    engine_drain_consumer(e);
}

/* Periodic STATUS=, and WATCHDOG=1 while healthy: this runs on the loop, so a stuck loop
 * sends nothing. */
static void engine_on_notify_timer(uv_timer_t *t)
{
    struct engine *e = t->data;
    char status[256];
    size_t n = 0;

    if (e->stopping)
        n = (size_t)snprintf(status, sizeof(status), "stopping: ");
    metrics_format_status(status + n, sizeof(status) - n);
    notify_status("%s", status);
    if (e->watchdog)
        notify_watchdog_if_healthy(&e->health, uv_now(&e->loop), e->fatal,
                                   e->stats.enriched + e->stats.dead_lettered,
                                   metrics_consumer_lag_total());
}

static void engine_on_drain_timeout(uv_timer_t *t)
{
    struct engine *e = t->data;

    log_warn("drain deadline of %ld ms reached with %ld message(s) in flight",
             e->gen->conf->drain_timeout_ms, e->inflight_msgs);
    e->drain_expired = 1;
    engine_maybe_finish(e);
}

static void engine_on_signal(uv_signal_t *h, int signum)
{
    struct engine *e = h->data;

    if (e->stopping) {
        log_warn("%s again: exiting at once", signum == SIGTERM ? "SIGTERM" : "SIGINT");
        _exit(1);
    }
    engine_shutdown(e, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- reload (SIGHUP) ---- */

static int sections_equal(const struct conf_section *a, const struct conf_section *b)
{
    if (a->n_kv != b->n_kv)
        return 0;
    for (size_t i = 0; i < a->n_kv; i++) {
        const char *v = conf_section_get(b, a->kv[i].key);
        if (v == NULL || strcmp(v, a->kv[i].value) != 0)
            return 0;
    }
    return 1;
}

static int strs_equal(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* Logs every key of next that differs from the running handles' config cur and that only a
 * restart applies. */
static void engine_report_restart_keys(const struct conf *cur, const struct conf *next)
{
    int topics = cur->n_input_topics == next->n_input_topics;

    for (size_t i = 0; topics && i < cur->n_input_topics; i++)
        topics = strcmp(cur->input_topics[i], next->input_topics[i]) == 0;
    const struct {
        int same;
        const char *key;
    } keys[] = {
        {strs_equal(cur->brokers, next->brokers), "[kafka] brokers"},
        {topics, "[kafka] input_topics"},
        {strs_equal(cur->output_topic, next->output_topic), "[kafka] output_topic"},
        {strs_equal(cur->dlq_topic, next->dlq_topic), "[kafka] dlq_topic"},
        {strs_equal(cur->group_id, next->group_id), "[kafka] group_id"},
        {strs_equal(cur->processing_guarantee, next->processing_guarantee),
         "[kafka] processing.guarantee"},
        {cur->transaction_interval_ms == next->transaction_interval_ms,
         "[kafka] transaction_interval_ms"},
        {cur->transaction_max_messages == next->transaction_max_messages,
         "[kafka] transaction_max_messages"},
        {sections_equal(&cur->consumer, &next->consumer), "[kafka.consumer]"},
        {sections_equal(&cur->producer, &next->producer), "[kafka.producer]"},
        {cur->workers == next->workers, "[pipeline] workers"},
        {strs_equal(cur->metrics_listen, next->metrics_listen), "[metrics] listen"},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!keys[i].same)
            log_warn("reload: %s changed: needs restart, not applied", keys[i].key);
}

/* On the worker pool: loading models may take a while and the loop must keep turning. */
static void engine_reload_work(uv_work_t *req)
{
    struct engine *e = req->data;

    errbuf_clear(&e->reload_err);
    e->reload_conf = NULL;
    e->reload_pipe = NULL;
    e->reload_rc =
        e->reload->load(e->reload->arg, &e->reload_conf, &e->reload_pipe, &e->reload_err);
}

static void engine_reload_after(uv_work_t *req, int status)
{
    struct engine *e = req->data;
    struct engine_gen *next;

    e->reloading = 0;
    if (status != 0 || e->reload_rc != 0) {
        log_err("reload failed, the running configuration stays: %s",
                status != 0 ? uv_strerror(status) : e->reload_err.msg);
        if (!e->stopping)
            notify_ready();
        return;
    }
    next = gen_new(e->reload_conf, e->reload_pipe, e->reload_conf, e->reload_pipe);
    if (e->stopping || next == NULL) {
        if (next != NULL)
            gen_unref(next);
        else
            log_err("reload failed: out of memory");
        return;
    }
    engine_report_restart_keys(e->conf, next->conf);
    gen_unref(e->gen);
    e->gen = next;
    enum log_level level = log_set_conf_level(next->conf->log_level);
    log_notice("reloaded %s: %zu stage(s), log level %s", next->conf->file,
               pipeline_n_stages(next->pipe), log_level_name(level));
    /* The in-flight limits may have moved. */
    engine_check_backpressure(e);
    notify_ready();
}

static void engine_on_sighup(uv_signal_t *h, int signum)
{
    struct engine *e = h->data;

    (void)signum;
    if (e->reload == NULL || e->stopping)
        return;
    if (e->reloading) {
        log_warn("SIGHUP: a reload is already running");
        return;
    }
    e->reloading = 1;
    notify_reloading();
    log_info("SIGHUP: reloading the configuration");
    e->reload_work.data = e;
    uv_queue_work(&e->loop, &e->reload_work, engine_reload_work, engine_reload_after);
}

static void engine_shutdown(struct engine *e, const char *why)
{
    if (e->stopping)
        return;
    e->stopping = 1;
    notify_stopping();
    engine_update_ready(e);
    log_info("stopping (%s): %ld message(s) in flight, drain deadline %ld ms", why,
             e->inflight_msgs, e->fatal ? 0L : e->gen->conf->drain_timeout_ms);
    engine_set_paused(e, 1);
    if (e->fatal)
        e->drain_expired = 1;
    else
        uv_timer_start(&e->drain_timer, engine_on_drain_timeout,
                       (uint64_t)e->gen->conf->drain_timeout_ms, 0);
    engine_maybe_finish(e);
}

static void engine_close_cb(uv_handle_t *h)
{
    (void)h;
}

/* Runs once the drain is over: flush, drop the rest, commit, leave the group, close. */
static void engine_finish(struct engine *e)
{
    rd_kafka_resp_err_t err;

    e->finished = 1;
    uv_timer_stop(&e->drain_timer);
    /* What follows blocks in librdkafka (flush, close) and may wait on an absent broker;
     * stopping the watchers restores the default action, so a second signal ends the
     * process at once even there. */
    uv_signal_stop(&e->sigterm);
    uv_signal_stop(&e->sigint);
    uv_signal_stop(&e->sighup);
    /* Exactly-once: what was delivered is committed with its offsets; what is not produced
     * yet is left for the restart. */
    if (e->eos && !e->fatal) {
        char positions[1024];
        engine_txn_end_now(e, "shutdown", 0);
        engine_txn_positions(e, positions, sizeof(positions));
        log_info("exactly-once: committed positions: %s", positions[0] ? positions : "none");
    }
    /* Delivery reports served by the flush store their offsets as usual. After a fatal
     * error only briefly: what is still delivered shortens the replay after the restart. */
    err = rd_kafka_flush(e->producer, e->fatal ? 2000 : 5000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("producer flush: %s", rd_kafka_err2str(err));
    rd_kafka_purge(e->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(e->producer, 1000);
    for (struct part *p = e->parts, *next; p != NULL; p = next) {
        next = p->next;
        part_remove(e, p);
    }
    /* Asynchronous, so an absent coordinator cannot hold us here; the close below waits for
     * it within librdkafka's own request timeouts. Exactly-once commits no consumer offsets. */
    err = e->eos ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_commit(e->consumer, NULL, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        log_warn("final commit: %s", rd_kafka_err2str(err));
    err = rd_kafka_consumer_close(e->consumer);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("consumer close: %s", rd_kafka_err2str(err));
    uv_close((uv_handle_t *)&e->cpoll, engine_close_cb);
    uv_close((uv_handle_t *)&e->ppoll, engine_close_cb);
    uv_close((uv_handle_t *)&e->sigterm, engine_close_cb);
    uv_close((uv_handle_t *)&e->sigint, engine_close_cb);
    uv_close((uv_handle_t *)&e->sighup, engine_close_cb);
    uv_close((uv_handle_t *)&e->drain_timer, engine_close_cb);
    uv_close((uv_handle_t *)&e->tick, engine_close_cb);
    uv_close((uv_handle_t *)&e->finish_timer, engine_close_cb);
    uv_close((uv_handle_t *)&e->notify_timer, engine_close_cb);
    uv_close((uv_handle_t *)&e->txn_timer, engine_close_cb);
    uv_close((uv_handle_t *)&e->txn_kick, engine_close_cb);
}

static int engine_drained(const struct engine *e)
{
    /* Only the jobs still attached to a partition matter; abandoned ones hold no offsets. A
     * failed delivery blocks its partition for good, so it counts as drained. */
    for (const struct part *p = e->parts; p != NULL; p = p->next)
        for (const struct job *job = p->head; job != NULL; job = job->next)
            if (job->state != JOB_FAILED)
                return 0;
    return 1;
}

static void engine_on_finish_timer(uv_timer_t *t)
{
    struct engine *e = t->data;

    if (!e->finished)
        engine_finish(e);
}

/* Schedules engine_finish on the loop's next turn: it flushes the producer, which must not
 * happen inside a librdkafka callback. */
static void engine_maybe_finish(struct engine *e)
{
    if (!e->stopping || e->finished || e->finish_scheduled)
        return;
    if (!e->drain_expired && !engine_drained(e))
        return;
    e->finish_scheduled = 1;
    uv_timer_start(&e->finish_timer, engine_on_finish_timer, 0, 0);
}

/* ---- setup ---- */

static int engine_conf_set(rd_kafka_conf_t *kc, const char *key, const char *value)
{
    char errstr[256];

    if (rd_kafka_conf_set(kc, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        log_err("%s = %s: %s", key, value, errstr);
        return -EINVAL;
    }
    return 0;
}

static rd_kafka_conf_t *engine_kafka_conf(struct engine *e, const struct conf_section *extra)
{
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    struct errbuf err = {{0}};

    rd_kafka_conf_set_opaque(kc, e);
    rd_kafka_conf_set_error_cb(kc, engine_error_cb);
    rd_kafka_conf_set_log_cb(kc, engine_log_cb);
    if (engine_conf_set(kc, "bootstrap.servers", e->conf->brokers) != 0)
        goto fail;
    /* the pass-through properties, with secret values kept out of the log */
    if (conf_rdkafka_apply(kc, extra, &err) != 0) {
        log_err("%s", err.msg);
        goto fail;
    }
    /* After the pass-through properties, so the loop always serves the log lines. */
    if (engine_conf_set(kc, "log.queue", "true") != 0)
        goto fail;
    return kc;
fail:
    rd_kafka_conf_destroy(kc);
    return NULL;
}

/* Exactly-once: [kafka.producer] transactional.id, or enrichd-GROUP-HOST. With KIP-447 (the
 * consumer's group metadata sent with the offsets) one transactional id per process serves
 * every partition it is assigned. It must differ between the processes that run at the same
 * time and should stay the same across restarts of one, so a restart fences its predecessor
 * and aborts the transaction it left open at once instead of after transaction.timeout.ms. */
static int engine_set_transactional_id(struct engine *e, rd_kafka_conf_t *kc)
{
    const char *set = conf_section_get(&e->conf->producer, "transactional.id");
    char host[128];

    if (set != NULL) {
        snprintf(e->transactional_id, sizeof(e->transactional_id), "%s", set);
        return 0; /* set with the other pass-through properties */
    }
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(e->transactional_id, sizeof(e->transactional_id), "enrichd-%s-%s", e->conf->group_id,
             host);
    return engine_conf_set(kc, "transactional.id", e->transactional_id);
}

static int engine_open_kafka(struct engine *e)
{
    char errstr[512], queue_max[32];
    rd_kafka_conf_t *kc;
    rd_kafka_topic_partition_list_t *topics;
    rd_kafka_resp_err_t err;

    if ((kc = engine_kafka_conf(e, &e->conf->producer)) == NULL)
        return -EINVAL;
    /* The producer queue must hold everything the in-flight cap lets through. */
    snprintf(queue_max, sizeof(queue_max), "%ld",
             e->conf->max_inflight_messages + 10000 < 10000000
                 ? e->conf->max_inflight_messages + 10000
                 : 10000000);
    rd_kafka_conf_set_dr_msg_cb(kc, engine_dr_cb);
    if (e->eos && engine_set_transactional_id(e, kc) != 0) {
        rd_kafka_conf_destroy(kc);
        return -EINVAL;
    }
    if (engine_conf_set(kc, "enable.idempotence", "true") != 0 ||
        engine_conf_set(kc, "queue.buffering.max.messages", queue_max) != 0 ||
        (e->producer = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof(errstr))) == NULL) {
        if (e->producer == NULL)
            log_err("producer: %s", errstr);
        rd_kafka_conf_destroy(kc);
        return -EINVAL;
    }
    if ((e->out_rkt = rd_kafka_topic_new(e->producer, e->conf->output_topic, NULL)) == NULL ||
        (e->dlq_rkt = rd_kafka_topic_new(e->producer, e->conf->dlq_topic, NULL)) == NULL) {
        log_err("producer: topic %s: %s",
                e->out_rkt == NULL ? e->conf->output_topic : e->conf->dlq_topic,
                rd_kafka_err2str(rd_kafka_last_error()));
        return -EINVAL;
    }
    if ((kc = engine_kafka_conf(e, &e->conf->consumer)) == NULL)
        return -EINVAL;
    rd_kafka_conf_set_rebalance_cb(kc, engine_rebalance_cb);
    /* Consumer lag comes from the statistics; 5 s unless [kafka.consumer] sets it. */
    rd_kafka_conf_set_stats_cb(kc, engine_stats_cb);
    if ((conf_section_get(&e->conf->consumer, "statistics.interval.ms") == NULL &&
         engine_conf_set(kc, "statistics.interval.ms", "5000") != 0) ||
        engine_conf_set(kc, "group.id", e->conf->group_id) != 0 ||
        engine_conf_set(kc, "enable.auto.offset.store", "false") != 0 ||
        engine_conf_set(kc, "partition.assignment.strategy", "cooperative-sticky") != 0 ||
        /* Exactly-once: offsets go with the transactions only; input from transactional
         * producers is read as committed. */
        (e->eos && (engine_conf_set(kc, "enable.auto.commit", "false") != 0 ||
                    engine_conf_set(kc, "isolation.level", "read_committed") != 0)) ||
        (e->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, kc, errstr, sizeof(errstr))) == NULL) {
        if (e->consumer == NULL)
            log_err("consumer: %s", errstr);
        rd_kafka_conf_destroy(kc);
        return -EINVAL;
    }
    /* NULL: the main queue, served by the loop like the rest. */
    rd_kafka_set_log_queue(e->producer, NULL);
    rd_kafka_set_log_queue(e->consumer, NULL);
    rd_kafka_poll_set_consumer(e->consumer);
    e->cq = rd_kafka_queue_get_consumer(e->consumer);
    e->pq = rd_kafka_queue_get_main(e->producer);
    if (pipe2(e->cpipe, O_NONBLOCK | O_CLOEXEC) != 0 ||
        pipe2(e->ppipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        log_err("pipe: %s", strerror(errno));
        return -errno;
    }
    rd_kafka_queue_io_event_enable(e->cq, e->cpipe[1], "1", 1);
    rd_kafka_queue_io_event_enable(e->pq, e->ppipe[1], "1", 1);

    topics = rd_kafka_topic_partition_list_new((int)e->conf->n_input_topics);
    for (size_t i = 0; i < e->conf->n_input_topics; i++)
        rd_kafka_topic_partition_list_add(topics, e->conf->input_topics[i], RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(e->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_err("subscribe: %s", rd_kafka_err2str(err));
        return -EINVAL;
    }
    return 0;
}

/* Starts the metrics and health listener unless [metrics] listen is empty. */
static int engine_start_http(struct engine *e)
{
    struct errbuf err = {{0}};

    if (e->conf->metrics_listen == NULL || e->conf->metrics_listen[0] == '\0')
        return 0;
    if ((e->http = http_server_start(e->conf->metrics_listen, &err)) == NULL) {
        log_err("%s", err.msg);
        return -EADDRNOTAVAIL;
    }
    log_info("serving /metrics, /healthz and /readyz on %s (port %u)", e->conf->metrics_listen,
             http_server_port(e->http));
    return 0;
}

/* STATUS= every ENGINE_STATUS_MS, or every half watchdog interval with WATCHDOG=1 too. */
static void engine_start_notify(struct engine *e)
{
    uint64_t usec = notify_watchdog_usec(), period = ENGINE_STATUS_MS;

    if (getenv("NOTIFY_SOCKET") == NULL)
        return;
    if (usec > 0) {
        e->watchdog = 1;
        period = usec / 2000 > 0 ? usec / 2000 : 1;
        e->health.stall_ms = usec / 1000 > ENGINE_STALL_MS ? usec / 1000 : ENGINE_STALL_MS;
    }
    uv_timer_start(&e->notify_timer, engine_on_notify_timer, 0, period);
}

int engine_run(const struct conf *conf, const struct pipeline *pipe,
               const struct engine_reload *reload, struct engine_stats *stats)
{
    struct engine *e = calloc(1, sizeof(*e));
    int rc, exit_code;

    if (e == NULL) {
        log_err("out of memory");
        return 1;
    }
    e->conf = conf;
    e->reload = reload;
    e->eos = conf_exactly_once(conf);
    if (e->eos)
        metrics_transactions_start();
    e->txn = TXN_INIT;
    e->warn_consume = e->warn_offset_store = e->warn_kafka =
        (struct log_ratelimit)LOG_RATELIMIT_INIT(ENGINE_WARN_WINDOW_MS, ENGINE_WARN_BURST);
    if ((e->gen = gen_new(conf, pipe, NULL, NULL)) == NULL) {
        log_err("out of memory");
        free(e);
        return 1;
    }
    e->cpipe[0] = e->cpipe[1] = e->ppipe[0] = e->ppipe[1] = -1;
    if ((rc = uv_loop_init(&e->loop)) != 0) {
        log_err("uv_loop_init: %s", uv_strerror(rc));
        gen_unref(e->gen);
        free(e);
        return 1;
    }
    if (engine_open_kafka(e) != 0) {
        exit_code = 1;
        goto out_kafka;
    }
    if (engine_start_http(e) != 0) {
        exit_code = 1;
        goto out_kafka;
    }
    uv_poll_init(&e->loop, &e->cpoll, e->cpipe[0]);
    uv_poll_init(&e->loop, &e->ppoll, e->ppipe[0]);
    uv_signal_init(&e->loop, &e->sigterm);
    uv_signal_init(&e->loop, &e->sigint);
    uv_signal_init(&e->loop, &e->sighup);
    uv_timer_init(&e->loop, &e->drain_timer);
    uv_timer_init(&e->loop, &e->tick);
    uv_timer_init(&e->loop, &e->finish_timer);
    uv_timer_init(&e->loop, &e->notify_timer);
    uv_timer_init(&e->loop, &e->txn_timer);
    uv_timer_init(&e->loop, &e->txn_kick);
    e->txn_timer.data = e->txn_kick.data = e;
    e->cpoll.data = e->ppoll.data = e->sigterm.data = e->sigint.data = e->sighup.data = e;
    e->drain_timer.data = e->tick.data = e->finish_timer.data = e->notify_timer.data = e;
    uv_poll_start(&e->cpoll, UV_READABLE, engine_on_consumer_fd);
    uv_poll_start(&e->ppoll, UV_READABLE, engine_on_producer_fd);
    uv_signal_start(&e->sigterm, engine_on_signal, SIGTERM);
    uv_signal_start(&e->sigint, engine_on_signal, SIGINT);
    uv_signal_start(&e->sighup, engine_on_sighup, SIGHUP);
    uv_timer_start(&e->tick, engine_on_tick, 500, 500);
    log_info("running: brokers %s, %zu input topic(s) from %s, output %s, dead letters %s, "
             "group %s, %zu stage(s)",
             conf->brokers, conf->n_input_topics, conf->input_topics[0], conf->output_topic,
             conf->dlq_topic, conf->group_id, pipeline_n_stages(pipe));
    /* Local initialisation is done (Kafka handles, listener); the first assignment may take
     * a while and is not waited for. */
    e->ready = 1;
    engine_update_assignment(e);
    notify_ready();
    engine_start_notify(e);
    /* Anything queued before the io events were enabled would not wake the loop. */
    engine_drain_consumer(e);
    engine_drain_producer(e);
    if (e->eos) {
        log_info("exactly-once: transactional.id %s, a transaction commits after %ld ms or %ld "
                 "message(s)",
                 e->transactional_id, conf->transaction_interval_ms,
                 conf->transaction_max_messages);
        engine_txn_kick(e, 0);
    }

    uv_run(&e->loop, UV_RUN_DEFAULT);
    exit_code = e->exit_code;
    rc = uv_loop_close(&e->loop);
    if (rc != 0) {
        log_err("uv_loop_close: %s", uv_strerror(rc));
        exit_code = 1;
    }
    log_info("stopped: %lu consumed, %lu enriched, %lu dead-lettered, %lu abandoned, %lu pauses",
             e->stats.consumed, e->stats.enriched, e->stats.dead_lettered, e->stats.abandoned,
             e->stats.pauses);
    if (e->eos)
        log_info("exactly-once: %lu transaction(s) committed, %lu aborted", e->stats.txn_commits,
                 e->stats.txn_aborts);
    if (stats != NULL)
        *stats = e->stats;
    goto out;
out_kafka:
    uv_loop_close(&e->loop);
out:
    http_server_stop(e->http);
    metrics_set_ready(false);
    if (e->cq != NULL)
        rd_kafka_queue_destroy(e->cq);
    if (e->pq != NULL)
        rd_kafka_queue_destroy(e->pq);
    if (e->consumer != NULL)
        rd_kafka_destroy(e->consumer);
    if (e->out_rkt != NULL)
        rd_kafka_topic_destroy(e->out_rkt);
    if (e->dlq_rkt != NULL)
        rd_kafka_topic_destroy(e->dlq_rkt);
    if (e->producer != NULL)
        rd_kafka_destroy(e->producer);
    for (int i = 0; i < 2; i++) {
        if (e->cpipe[i] >= 0)
            close(e->cpipe[i]);
        if (e->ppipe[i] >= 0)
            close(e->ppipe[i]);
    }
    gen_unref(e->gen);
    free(e);
    return exit_code;
}
