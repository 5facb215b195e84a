/* engine: the daemon's loop; consume -> enrich on the worker pool -> produce in input order,
 * with offsets stored only for the delivered prefix of each partition. */
#ifndef ENRICHD_DAEMON_ENGINE_H
#define ENRICHD_DAEMON_ENGINE_H

#include "config/conf.h"
#include "stages/pipeline.h"

/* What one engine_run did, for the closing log line and the tests. */
struct engine_stats {
    unsigned long consumed;      /* messages taken from the input topics */
    unsigned long enriched;      /* delivered to the output topic (exactly-once: aborted too) */
    unsigned long dead_lettered; /* delivered to the dead-letter topic (likewise) */
    unsigned long abandoned;     /* dropped unfinished (revoke, drain deadline); not committed */
    unsigned long pauses;        /* times the partitions were paused for backpressure */
    unsigned long txn_commits;   /* exactly-once: transactions committed */
    unsigned long txn_aborts;    /* exactly-once: transactions aborted (their input redone) */
};

/* How SIGHUP reloads: load() runs on a worker thread and returns 0 with a new config in
 * *conf (allocated; the engine frees it with conf_free and free) and a new pipeline in *pipe
 * (freed with pipeline_free), or -errno with the reason in err. */
struct engine_reload {
    int (*load)(void *arg, struct conf **conf, struct pipeline **pipe, struct errbuf *err);
    void *arg; /* borrowed, passed to load */
};

/* Runs the daemon until SIGTERM/SIGINT (exit status 0) or a fatal Kafka error such as a
 * delivery failure after retries (exit status 1). conf and pipe are borrowed and must outlive
 * the call. On SIGHUP, when reload is not NULL, a new config and pipeline are loaded and
 * swapped in for the messages consumed from then on; in-flight ones finish with the
 * pipeline they started with. Keys that need new Kafka handles ([kafka*], [pipeline]
 * workers, [metrics] listen) keep their start-up values and are logged as needing a
 * restart; a reload that fails keeps the running config. Blocks; installs its own signal
 * handlers. Fills stats when not NULL. Returns the process exit status.
 * With [kafka] processing.guarantee = exactly_once the producer is transactional: a failed
 * delivery aborts the transaction and its input is redone instead, and a fatal transactional
 * error (fenced) gives exit status 1. */
int engine_run(const struct conf *conf, const struct pipeline *pipe,
               const struct engine_reload *reload, struct engine_stats *stats);

#endif
