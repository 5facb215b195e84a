/* engine: the daemon's loop; consume -> enrich on the worker pool -> produce in input order,
 * with offsets stored only for the delivered prefix of each partition. */
#ifndef ENRICHD_DAEMON_ENGINE_H
#define ENRICHD_DAEMON_ENGINE_H

#include "config/conf.h"
#include "stages/pipeline.h"

/* What one engine_run did, for the closing log line and the tests. */
struct engine_stats {
    unsigned long consumed;      /* messages taken from the input topics */
    unsigned long enriched;      /* delivered to the output topic */
    unsigned long dead_lettered; /* delivered to the dead-letter topic */
    unsigned long abandoned;     /* dropped unfinished (revoke, drain deadline); not committed */
    unsigned long pauses;        /* times the partitions were paused for backpressure */
};

/* Runs the daemon until SIGTERM/SIGINT (exit status 0) or a fatal Kafka error such as a
 * delivery failure after retries (exit status 1). conf and pipe are borrowed and must outlive
 * the call. Blocks; installs its own signal handlers. Fills stats when not NULL. Returns the
 * process exit status. */
int engine_run(const struct conf *conf, const struct pipeline *pipe, struct engine_stats *stats);

#endif
