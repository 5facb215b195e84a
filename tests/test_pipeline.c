/* Tests for article ingest and the output splice: every kind of bad input gets its reason,
 * other fields pass through byte for byte. */
#include <criterion/criterion.h>
#include <string.h>

#include "stages/pipeline.h"

static struct pipeline *pipe_;
static struct pipeline_result res;

static void setup(void)
{
    struct errbuf err = {{0}};
    struct pipeline_options opts = {.max_bytes = 1000};
    pipe_ = pipeline_new(NULL, 0, NULL, 0, &opts, &err);
    cr_assert_not_null(pipe_, "%s", err.msg);
}

static void teardown(void)
{
    pipeline_result_fini(&res);
    pipeline_free(pipe_);
}

TestSuite(pipeline, .init = setup, .fini = teardown);

static enum article_reason run(const char *s, size_t len)
{
    pipeline_result_fini(&res);
    pipeline_process(pipe_, s, len, NULL, &res);
    return res.reason;
}

#define RUN(s) run(s, sizeof(s) - 1)

Test(pipeline, names_each_kind_of_bad_input)
{
    cr_expect_eq(RUN(""), ARTICLE_EMPTY);
    cr_expect_eq(RUN(" \n "), ARTICLE_EMPTY);
    cr_expect_eq(RUN("not json"), ARTICLE_NOT_JSON);
    cr_expect_eq(RUN("{\"text\": \"abc\""), ARTICLE_NOT_JSON);
    cr_expect_eq(RUN("[1,2]"), ARTICLE_NOT_OBJECT);
    cr_expect_eq(RUN("42"), ARTICLE_NOT_OBJECT);
    cr_expect_eq(RUN("null"), ARTICLE_NOT_OBJECT);
    cr_expect_eq(RUN("{\"text\": 5}"), ARTICLE_BAD_FIELD);
    cr_expect_eq(RUN("{\"title\": [], \"text\": \"a\"}"), ARTICLE_BAD_FIELD);
    cr_expect_eq(RUN("{\"id\": 1}"), ARTICLE_MISSING_TEXT);
    cr_expect_eq(RUN("{\"text\": \"  \"}"), ARTICLE_MISSING_TEXT);
    cr_expect_eq(RUN("{\"text\": \"\xff\"}"), ARTICLE_INVALID_UTF8);
    cr_expect_eq(RUN("{\"text\": \"\xc0\xaf\"}"), ARTICLE_INVALID_UTF8);
    cr_expect_eq(RUN("{\"text\": \"a\\u0000b\"}"), ARTICLE_NUL_BYTE);
    cr_expect_eq(RUN("{\"text\": \"a\0b\"}"), ARTICLE_NUL_BYTE);
    cr_expect_eq(RUN("{\"text\": \"\\ud800\"}"), ARTICLE_NOT_JSON);
    cr_expect_str_eq(article_reason_name(ARTICLE_NOT_JSON), "not_json");
}

Test(pipeline, rejects_oversized_and_deeply_nested_values)
{
    static char big[2000], deep[5000];
    memset(big, ' ', sizeof(big));
    big[0] = '{';
    big[sizeof(big) - 1] = '}';
    cr_expect_eq(run(big, sizeof(big)), ARTICLE_OVERSIZED);
    struct errbuf err = {{0}};
    struct pipeline_options opts = {.max_bytes = 100000};
    struct pipeline *p = pipeline_new(NULL, 0, NULL, 0, &opts, &err);
    memset(deep, '[', sizeof(deep));
    struct pipeline_result r;
    pipeline_process(p, deep, sizeof(deep), NULL, &r);
    cr_expect_eq(r.reason, ARTICLE_TOO_DEEP, "%s", r.detail);
    pipeline_result_fini(&r);
    pipeline_free(p);
}

Test(pipeline, passes_other_fields_through_byte_for_byte)
{
    const char in[] = "{\"id\":\"a\",\"n\":123456789012345678901234567890,\"x\":1.50,"
                      "\"text\":\"Hallo\"}";
    cr_assert_eq(RUN(in), ARTICLE_OK, "%s", res.detail);
    cr_expect_eq(strncmp(res.out, in, sizeof(in) - 2), 0);
    cr_expect_not_null(strstr(res.out, ",\"enrichment\":{\"schema_version\":1,"));
    cr_expect_eq(res.out[res.out_len - 1], '}');
    cr_expect_str_eq(res.id, "a");
}

Test(pipeline, derives_a_stable_id_from_the_content)
{
    cr_assert_eq(RUN("{\"text\":\"Hallo\"}"), ARTICLE_OK);
    char *first = strdup(res.id);
    cr_assert_eq(RUN("{\"text\":\"Hallo\"}"), ARTICLE_OK);
    cr_expect_str_eq(res.id, first);
    cr_assert_eq(RUN("{\"text\":\"Hallo!\"}"), ARTICLE_OK);
    cr_expect_str_neq(res.id, first);
    free(first);
}

Test(pipeline, replaces_an_existing_enrichment_member)
{
    cr_assert_eq(RUN("{\"text\":\"Hallo\",\"enrichment\":{\"old\":1}}"), ARTICLE_OK);
    cr_expect_null(strstr(res.out, "old"));
    cr_expect_not_null(strstr(res.out, "\"enrichment\":{\"schema_version\":1"));
}

Test(pipeline, takes_plain_text_only_when_configured)
{
    cr_expect_eq(RUN("Ein Satz ohne JSON."), ARTICLE_NOT_JSON);
    struct errbuf err = {{0}};
    struct pipeline_options opts = {.accept_plain_text = 1};
    struct pipeline *p = pipeline_new(NULL, 0, NULL, 0, &opts, &err);
    struct pipeline_result r;
    cr_assert_eq(pipeline_process(p, "Ein Satz ohne JSON.", 19, NULL, &r), 0, "%s", r.detail);
    cr_expect_not_null(strstr(r.out, "\"text\":\"Ein Satz ohne JSON.\""));
    pipeline_result_fini(&r);
    pipeline_free(p);
}

Test(pipeline, refuses_unknown_and_repeated_stages)
{
    struct errbuf err = {{0}};
    const char *names[] = {"nosuchstage"};
    cr_expect_null(pipeline_new(names, 1, NULL, 0, NULL, &err));
    cr_expect_not_null(strstr(err.msg, "unknown stage 'nosuchstage'"));
}
