/* stage: the interface every enrichment stage implements, and the document they share. */
#ifndef ENRICHD_STAGES_STAGE_H
#define ENRICHD_STAGES_STAGE_H

#include <jansson.h>
#include <stddef.h>

#include "config/conf_section.h"
#include "stages/errbuf.h"
#include "stages/text/text.h"

#define DOC_MAX_FIELDS 2

/* One article as the stages see it: decoded, validated, tokenized once. */
struct doc {
    const char *id;           /* borrowed, never NULL */
    const char *lang_hint;    /* borrowed ISO 639-1 hint from input or CLI, NULL if none */
    const char *published_at; /* borrowed ISO 8601 reference time, NULL if none */
    /* "title" (if present) then "text"; tokenized unless every stage has raw_text set */
    struct text_field fields[DOC_MAX_FIELDS];
    size_t n_fields;
    /* Language chosen by the lang stage ("de", "en", ... or "und"); "" before it runs or when
     * it is not configured. Later stages choose their rules from it. */
    char lang[8];
    /* The "enrichment" object under construction (owned by the pipeline). Stages add their
     * members only through doc_set_result. */
    json_t *enrichment;
};

/* The one output builder: sets enrichment.<member> = value. Steals value (also on error).
 * Returns 0 or -ENOMEM. */
int doc_set_result(struct doc *doc, const char *member, json_t *value);

/* Finds a field by name ("title" or "text"); NULL when the article has none. */
const struct text_field *doc_field(const struct doc *doc, const char *name);

struct stage_ops {
    const char *name; /* "lang": config section [stage.lang], log prefix, metric label */
    /* Builds the stage context from its config section (may be NULL: defaults). Loads models.
     * Returns 0, or negative errno with detail in err. *ctx is new, freed with fini. */
    int (*init)(void **ctx, const struct conf_section *conf, struct errbuf *err);
    /* Processes one document. Called concurrently from several threads with the same ctx:
     * ctx is read-only after init; all scratch memory is per call. Returns 0, or negative
     * errno with detail in err (the article then goes to the dead-letter topic). */
    int (*process)(void *ctx, struct doc *doc, struct errbuf *err);
    /* Frees ctx. Accepts NULL and a half-built ctx. */
    void (*fini)(void *ctx);
    /* 1 when the stage reads the fields' raw text only and tokenizes what it needs itself:
     * a pipeline of such stages alone leaves the fields untokenized
     * (text_field_init_untokenized). 0, the default, gives every stage tokenized fields. */
    int raw_text;
};

/* The static registry, in default pipeline order. NULL-terminated. */
extern const struct stage_ops *const stage_registry[];

/* Looks a stage up by name; NULL when unknown. */
const struct stage_ops *stage_find(const char *name);

/* Directory the stages load their default models from: $ENRICHD_MODEL_DIR when set, else the
 * build-time default. Borrowed. */
const char *stage_model_dir(void);

#endif
