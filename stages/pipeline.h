/* pipeline: article ingest (parse, validate, tokenize), the configured stages in order, and
 * the enriched output. Shared by the daemon, the batch mode, tests, benchmarks and fuzzers. */
#ifndef ENRICHD_STAGES_PIPELINE_H
#define ENRICHD_STAGES_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "config/conf_section.h"
#include "stages/errbuf.h"
#include "stages/stage.h"

/* Why an input was rejected. The names (article_reason_name) are stable: the dead-letter
 * header, the batch mode's stderr lines and the metrics labels all use them. */
enum article_reason {
    ARTICLE_OK = 0,
    ARTICLE_EMPTY,          /* empty or white-space-only value */
    ARTICLE_OVERSIZED,      /* larger than max_bytes */
    ARTICLE_INVALID_UTF8,   /* bytes that are not UTF-8 (also overlongs, surrogates) */
    ARTICLE_NUL_BYTE,       /* a NUL byte or a \u0000 escape */
    ARTICLE_NOT_JSON,       /* not parseable as JSON (and plain text not accepted) */
    ARTICLE_TOO_DEEP,       /* nesting deeper than the parser allows */
    ARTICLE_NOT_OBJECT,     /* valid JSON whose top level is not an object */
    ARTICLE_MISSING_TEXT,   /* neither text nor title present, or both empty */
    ARTICLE_BAD_FIELD,      /* a known field has the wrong type (text not a string, ...) */
    ARTICLE_STAGE_FAILED,   /* a stage returned an error */
    ARTICLE_NO_MEMORY,      /* allocation failed */
    ARTICLE_REASON_COUNT
};

/* Stable snake_case name of a reason ("not_json"). */
const char *article_reason_name(enum article_reason r);

struct pipeline_options {
    size_t max_bytes;        /* largest accepted input value; 0 = 4 MiB */
    const char *id_field;    /* default "id" */
    const char *title_field; /* default "title" */
    const char *text_field;  /* default "text" */
    int accept_plain_text;   /* a non-JSON UTF-8 value is taken as the text */
    int timing;              /* emit enrichment.timing_us */
};

struct pipeline;

/* Builds a pipeline running the named stages in order (names borrowed; n_stages == 0 means
 * none; pass stage_registry names for all). sections holds the [stage.NAME] sections (may be
 * NULL). Returns a new pipeline (free with pipeline_free), or NULL with detail in err. */
struct pipeline *pipeline_new(const char *const *stage_names, size_t n_stages,
                              const struct conf_section *sections, size_t n_sections,
                              const struct pipeline_options *opts, struct errbuf *err);

/* Frees p. Accepts NULL. */
void pipeline_free(struct pipeline *p);

/* Number of stages and the name of stage i (borrowed). */
size_t pipeline_n_stages(const struct pipeline *p);
const char *pipeline_stage_name(const struct pipeline *p, size_t i);

struct pipeline_result {
    enum article_reason reason; /* ARTICLE_OK on success */
    char detail[256];           /* human detail when reason != ARTICLE_OK */
    char *out;                  /* new: enriched JSON (no newline), out_len bytes; NULL on error */
    size_t out_len;
    char *id;                   /* new: the article id (input's or derived), NULL if unknown */
    uint64_t stage_us[8];       /* per stage wall time, microseconds, in pipeline order */
    size_t stages_run;          /* stages that ran (stage_us[0..stages_run), up to 8) */
    int stage_failed;           /* the last stage that ran returned an error */
};

/* Enriches one input value buf[0..len) (borrowed). lang_hint (may be NULL) overrides the
 * input's lang field. Thread-safe: many threads may call it with the same p. Always fills res;
 * release it with pipeline_result_fini. Returns 0 when res->reason == ARTICLE_OK, else -1. */
int pipeline_process(const struct pipeline *p, const char *buf, size_t len, const char *lang_hint,
                     struct pipeline_result *res);

/* Frees what pipeline_process put in res. Accepts NULL. */
void pipeline_result_fini(struct pipeline_result *res);

#endif
