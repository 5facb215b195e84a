/* lang_stage: the "lang" pipeline stage; writes enrichment.language and doc->lang.
 * [stage.lang] keys: model = path (default <model dir>/lang/lang.bin);
 * hint = trust | prior | ignore (default prior): how the article's "lang" hint is used. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/lang/lang.h"
#include "stages/stage.h"

struct lang_stage {
    struct lang_model *model; /* owned */
    enum lang_hint_mode hint;
};

static void lang_stage_fini(void *ctx)
{
    struct lang_stage *ls = ctx;

    if (ls == NULL)
        return;
    lang_model_free(ls->model);
    free(ls);
}

static int lang_stage_init(void **ctx, const struct conf_section *conf, struct errbuf *err)
{
    const char *hint = conf_section_get(conf, "hint");
    const char *path = conf_section_get(conf, "model");
    char buf[4096];
    struct lang_stage *ls;
    int rc;

    *ctx = NULL;
    ls = calloc(1, sizeof *ls);
    if (ls == NULL)
        return errbuf_set(err, -ENOMEM, "out of memory");
    ls->hint = LANG_HINT_PRIOR;
    if (hint != NULL) {
        if (strcmp(hint, "trust") == 0) {
            ls->hint = LANG_HINT_TRUST;
        } else if (strcmp(hint, "prior") == 0) {
            ls->hint = LANG_HINT_PRIOR;
        } else if (strcmp(hint, "ignore") == 0) {
            ls->hint = LANG_HINT_IGNORE;
        } else {
            free(ls);
            return errbuf_set(err, -EINVAL, "hint: must be trust, prior or ignore, not \"%s\"",
                              hint);
        }
    }
    if (path == NULL || path[0] == '\0') {
        if ((size_t)snprintf(buf, sizeof buf, "%s/lang/lang.bin", stage_model_dir()) >=
            sizeof buf) {
            free(ls);
            return errbuf_set(err, -ENAMETOOLONG, "model directory path too long");
        }
        path = buf;
    }
    rc = lang_model_load(&ls->model, path, err);
    if (rc != 0) {
        free(ls);
        return rc;
    }
    *ctx = ls;
    return 0;
}

static json_t *lang_stage_json(const struct lang_result *r)
{
    json_t *obj = json_object(), *cands = json_array();

    if (obj == NULL || cands == NULL)
        goto fail;
    for (size_t i = 0; i < r->n_candidates; i++) {
        json_t *c = json_pack("{s:s, s:f}", "code", r->candidates[i].code, "confidence",
                              round(r->candidates[i].confidence * 1000.0) / 1000.0);

        if (c == NULL || json_array_append_new(cands, c) != 0)
            goto fail;
    }
    if (json_object_set_new(obj, "code", json_string(r->code)) != 0 ||
        json_object_set_new(obj, "name", json_string(r->name)) != 0 ||
        json_object_set_new(obj, "script", json_string(r->script)) != 0 ||
        json_object_set_new(obj, "confidence", json_real(round(r->confidence * 1000.0) / 1000.0)) !=
            0)
        goto fail;
    if (json_object_set_new(obj, "candidates", cands) != 0) {
        cands = NULL;
        goto fail;
    }
    return obj;
fail:
    json_decref(cands);
    json_decref(obj);
    return NULL;
}

static int lang_stage_process(void *ctx, struct doc *doc, struct errbuf *err)
{
    const struct lang_stage *ls = ctx;
    struct lang_result r;
    int rc;

    rc = lang_detect(ls->model, doc->fields, doc->n_fields, doc->lang_hint, ls->hint, &r);
    if (rc != 0)
        return errbuf_set(err, rc, "out of memory while tokenizing");
    snprintf(doc->lang, sizeof doc->lang, "%s", r.code);
    rc = doc_set_result(doc, "language", lang_stage_json(&r));
    if (rc != 0)
        return errbuf_set(err, rc, "language: out of memory");
    return 0;
}

const struct stage_ops lang_stage_ops = {
    .name = "lang",
    .init = lang_stage_init,
    .process = lang_stage_process,
    .fini = lang_stage_fini,
    .raw_text = 1, /* lang_detect tokenizes what it reads of an untokenized field */
};
