/* fuzz_article: article ingest end to end: pipeline_process with every registered stage, in
 * strict JSON mode and in plain-text mode, checking the result contract on every input. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/pipeline.h"
#include "stages/stage.h"
#include "tests/fuzz/fuzz.h"

static struct pipeline *strict_pipe, *plain_pipe;

static void free_pipes(void)
{
    pipeline_free(strict_pipe);
    pipeline_free(plain_pipe);
    strict_pipe = plain_pipe = NULL;
}

/* A pipeline with all registered stages in registry order, or with the comma-separated list
 * in $ENRICHD_FUZZ_STAGES ("" for none); aborts when a stage fails to load. */
static struct pipeline *all_stages(int accept_plain_text)
{
    const char *names[8];
    char list[256];
    size_t n = 0;
    struct pipeline_options opts = {.max_bytes = 1u << 20, .accept_plain_text = accept_plain_text};
    struct errbuf err = {{0}};
    struct pipeline *p;
    const char *env = getenv("ENRICHD_FUZZ_STAGES");

    if (env != NULL) {
        char *save = NULL;
        snprintf(list, sizeof(list), "%s", env);
        for (char *tok = strtok_r(list, ",", &save); tok != NULL && n < 8;
             tok = strtok_r(NULL, ",", &save))
            names[n++] = tok;
    } else {
        for (size_t i = 0; stage_registry[i] != NULL && n < 8; i++)
            names[n++] = stage_registry[i]->name;
    }
    p = pipeline_new(names, n, NULL, 0, &opts, &err);
    if (p == NULL) {
        fprintf(stderr, "fuzz_article: pipeline_new: %s\n", err.msg);
        abort();
    }
    return p;
}

static void setup(void)
{
    if (strict_pipe != NULL)
        return;
    strict_pipe = all_stages(0);
    plain_pipe = all_stages(1);
    atexit(free_pipes);
}

/* The output is one JSON object (huge integers allowed, as in the input) whose enrichment
 * member says schema_version 1. */
static void check_output(const struct pipeline_result *res)
{
    json_error_t jerr;
    json_t *root, *enr;

    FUZZ_CHECK(res->out != NULL && res->out_len > 0);
    FUZZ_CHECK(strlen(res->out) == res->out_len);
    FUZZ_CHECK(text_validate_utf8(res->out, res->out_len, NULL) == 0);
    root = json_loadb(res->out, res->out_len, 0, &jerr);
    if (root == NULL && json_error_code(&jerr) == json_error_numeric_overflow)
        root = json_loadb(res->out, res->out_len, JSON_DECODE_INT_AS_REAL, &jerr);
    if (root == NULL)
        fprintf(stderr, "output is not JSON (%s): %.200s\n", jerr.text, res->out);
    FUZZ_CHECK(root != NULL);
    FUZZ_CHECK(json_is_object(root));
    enr = json_object_get(root, "enrichment");
    FUZZ_CHECK(json_is_object(enr));
    /* a real when huge integers forced JSON_DECODE_INT_AS_REAL */
    FUZZ_CHECK(json_number_value(json_object_get(enr, "schema_version")) == 1.0);
    json_decref(root);
    FUZZ_CHECK(res->id != NULL && res->id[0] != '\0');
}

static void run(const struct pipeline *p, const uint8_t *data, size_t size)
{
    struct pipeline_result res;
    int rc = pipeline_process(p, (const char *)data, size, NULL, &res);

    FUZZ_CHECK((rc == 0) == (res.reason == ARTICLE_OK));
    FUZZ_CHECK(res.reason >= ARTICLE_OK && res.reason < ARTICLE_REASON_COUNT);
    FUZZ_CHECK(strcmp(article_reason_name(res.reason), "unknown") != 0);
    FUZZ_CHECK(memchr(res.detail, '\0', sizeof(res.detail)) != NULL);
    if (rc == 0) {
        check_output(&res);
    } else {
        FUZZ_CHECK(res.out == NULL && res.out_len == 0);
        FUZZ_CHECK(res.detail[0] != '\0');
        /* a stage must handle every valid text; its failure here is a finding */
        if (res.reason == ARTICLE_STAGE_FAILED)
            fprintf(stderr, "stage failed: %s\n", res.detail);
        FUZZ_CHECK(res.reason != ARTICLE_STAGE_FAILED);
    }
    pipeline_result_fini(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    run(strict_pipe, data, size);
    run(plain_pipe, data, size);
    return 0;
}
