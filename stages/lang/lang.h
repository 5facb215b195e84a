/* lang: language identification from script votes and hashed character n-gram and word costs. */
#ifndef ENRICHD_STAGES_LANG_LANG_H
#define ENRICHD_STAGES_LANG_LANG_H

#include <stddef.h>

#include "stages/errbuf.h"
#include "stages/text/text.h"

#define LANG_MAX_CANDIDATES 3

struct lang_model;

struct lang_candidate {
    const char *code;  /* borrowed ISO 639-1 code (static or from the model) */
    double confidence; /* in [0,1] */
};

struct lang_result {
    const char *code;   /* borrowed: ISO 639-1 code, or "und" */
    const char *name;   /* borrowed: English name, "Undetermined" for und */
    const char *script; /* borrowed: ISO 15924 code ("Latn", "Cyrl", ...), "Zyyy" for und */
    double confidence;
    struct lang_candidate candidates[LANG_MAX_CANDIDATES];
    size_t n_candidates;
    size_t n_letters; /* letters read before the decision (early stop makes it smaller) */
};

/* How a caller-supplied language hint is used. */
enum lang_hint_mode {
    LANG_HINT_IGNORE = 0,
    LANG_HINT_PRIOR = 1, /* a bonus for the hinted language when the text allows it */
    LANG_HINT_TRUST = 2  /* the hint is the answer when the model knows the language */
};

/* Maps the model file at path read-only (shared by all threads). Returns 0 and a new *model
 * (free with lang_model_free), or negative errno with detail in err. */
int lang_model_load(struct lang_model **model, const char *path, struct errbuf *err);

/* Unmaps and frees model. Accepts NULL. */
void lang_model_free(struct lang_model *model);

/* Number of languages the model knows, and the code of language i (borrowed). */
size_t lang_model_n_langs(const struct lang_model *model);
const char *lang_model_code(const struct lang_model *model, size_t i);

/* Detects the language of the fields (borrowed; read in order, e.g. title then text; at most
 * the first 8). A field built by text_field_init_untokenized is tokenized chunk by chunk only
 * as far as the detector reads it (it stops once the decision is certain); the result is the
 * same as for the tokenized field. hint (borrowed, may be NULL) is used according to mode.
 * Fills *out. Returns 0, or -ENOMEM when an untokenized field could not be tokenized (*out is
 * then und). A tokenized field never fails. Reentrant. */
int lang_detect(const struct lang_model *model, const struct text_field *fields, size_t n_fields,
                const char *hint, enum lang_hint_mode mode, struct lang_result *out);

/* English name of an ISO 639-1 code, or NULL when unknown. */
const char *lang_name(const char *code);

#endif
