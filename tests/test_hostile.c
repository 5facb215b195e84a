/* Hostile-input catalogue: each kind of bad or odd article through pipeline_process with every
 * registered stage. Bad input ends with its specific reason; odd but valid input is enriched,
 * and the output is one JSON object with enrichment.schema_version 1. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/pipeline.h"
#include "stages/stage.h"

static struct pipeline *pipe_;
static struct pipeline_result res;

/* Every registered stage, in registry order, with default options (max_bytes 4 MiB). */
static void setup(void)
{
    const char *names[8];
    size_t n = 0;
    struct errbuf err = {{0}};

    for (size_t i = 0; stage_registry[i] != NULL && n < 8; i++)
        names[n++] = stage_registry[i]->name;
    pipe_ = pipeline_new(names, n, NULL, 0, NULL, &err);
    cr_assert_not_null(pipe_, "%s", err.msg);
}

static void teardown(void)
{
    pipeline_result_fini(&res);
    pipeline_free(pipe_);
}

TestSuite(hostile, .init = setup, .fini = teardown, .timeout = 600);

static enum article_reason run(const char *s, size_t len)
{
    pipeline_result_fini(&res);
    pipeline_process(pipe_, s, len, NULL, &res);
    return res.reason;
}

/* Asserts s is rejected with reason want and leaves no output behind. */
static void expect_reason(const char *s, size_t len, enum article_reason want)
{
    enum article_reason got = run(s, len);

    cr_assert_eq(got, want, "want %s, got %s (%s)", article_reason_name(want),
                 article_reason_name(got), res.detail);
    cr_assert_null(res.out);
    cr_assert_neq(res.detail[0], '\0');
}

/* Asserts s is enriched into valid JSON with enrichment.schema_version 1. Returns the parsed
 * output (new; json_decref). */
static json_t *expect_ok(const char *s, size_t len)
{
    json_error_t jerr;
    json_t *root, *enr;
    enum article_reason got = run(s, len);

    cr_assert_eq(got, ARTICLE_OK, "want ok, got %s (%s)", article_reason_name(got), res.detail);
    cr_assert_not_null(res.out);
    cr_assert_eq(strlen(res.out), res.out_len);
    root = json_loadb(res.out, res.out_len, 0, &jerr);
    if (root == NULL && json_error_code(&jerr) == json_error_numeric_overflow)
        root = json_loadb(res.out, res.out_len, JSON_DECODE_INT_AS_REAL, &jerr);
    cr_assert_not_null(root, "output is not JSON: %s", jerr.text);
    cr_assert(json_is_object(root));
    enr = json_object_get(root, "enrichment");
    cr_assert(json_is_object(enr), "no enrichment object");
    cr_assert(json_number_value(json_object_get(enr, "schema_version")) == 1.0);
    cr_assert_not_null(res.id);
    return root;
}

#define REASON(lit, want) expect_reason(lit, sizeof(lit) - 1, want)
#define OK(lit) json_decref(expect_ok(lit, sizeof(lit) - 1))

/* An article {"id":"hostile","text":"<body>"}: body must already be JSON-escaped. New. */
static char *article(const char *body, size_t body_len, size_t *len)
{
    static const char head[] = "{\"id\":\"hostile\",\"text\":\"", tail[] = "\"}";
    char *s = malloc(sizeof(head) + body_len + sizeof(tail));

    cr_assert_not_null(s);
    memcpy(s, head, sizeof(head) - 1);
    memcpy(s + sizeof(head) - 1, body, body_len);
    memcpy(s + sizeof(head) - 1 + body_len, tail, sizeof(tail));
    *len = sizeof(head) - 1 + body_len + sizeof(tail) - 1;
    return s;
}

/* xorshift64: a fixed-seed byte stream so noise is the same on every run */
static uint64_t noise_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* --- empty and null values --- */

Test(hostile, rejects_an_empty_value_as_empty)
{
    expect_reason("", 0, ARTICLE_EMPTY);
}

Test(hostile, rejects_a_white_space_only_value_as_empty)
{
    REASON(" \t\r\n  \n", ARTICLE_EMPTY);
}

Test(hostile, rejects_json_null_as_not_object)
{
    REASON("null", ARTICLE_NOT_OBJECT);
}

/* --- broken JSON --- */

Test(hostile, rejects_prose_as_not_json)
{
    REASON("Dies ist kein JSON, sondern ein Satz.", ARTICLE_NOT_JSON);
}

Test(hostile, rejects_truncated_json_as_not_json)
{
    REASON("{\"id\":\"a\",\"text\":\"Baku ist die Hauptst", ARTICLE_NOT_JSON);
    REASON("{\"id\":\"a\",\"text\":", ARTICLE_NOT_JSON);
    REASON("{", ARTICLE_NOT_JSON);
}

Test(hostile, rejects_a_byte_order_mark_before_the_object_as_not_json)
{
    REASON("\xef\xbb\xbf{\"text\":\"Hallo\"}", ARTICLE_NOT_JSON);
}

Test(hostile, rejects_trailing_garbage_and_two_objects_as_not_json)
{
    REASON("{\"text\":\"a\"} x", ARTICLE_NOT_JSON);
    REASON("{\"text\":\"a\"}{\"text\":\"b\"}", ARTICLE_NOT_JSON);
}

Test(hostile, rejects_ten_thousand_nested_arrays_as_too_deep)
{
    size_t depth = 10000;
    char *s = malloc(2 * depth);

    cr_assert_not_null(s);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    expect_reason(s, 2 * depth, ARTICLE_TOO_DEEP);
    free(s);
}

Test(hostile, rejects_ten_thousand_nested_objects_as_too_deep)
{
    size_t depth = 10000, len = 0;
    char *s = malloc(depth * 6 + 16);

    cr_assert_not_null(s);
    for (size_t i = 0; i < depth; i++)
        len += (size_t)sprintf(s + len, "{\"a\":");
    s[len++] = '1';
    memset(s + len, '}', depth);
    len += depth;
    expect_reason(s, len, ARTICLE_TOO_DEEP);
    free(s);
}

/* --- valid JSON that is not an article --- */

Test(hostile, rejects_a_top_level_array_as_not_object)
{
    REASON("[{\"id\":\"a\",\"text\":\"Hallo\"}]", ARTICLE_NOT_OBJECT);
}

Test(hostile, rejects_a_top_level_number_as_not_object)
{
    REASON("20240812", ARTICLE_NOT_OBJECT);
    REASON("-1.5e300", ARTICLE_NOT_OBJECT);
}

Test(hostile, rejects_a_top_level_string_as_not_object)
{
    REASON("\"Baku ist die Hauptstadt.\"", ARTICLE_NOT_OBJECT);
}

Test(hostile, rejects_top_level_booleans_as_not_object)
{
    REASON("true", ARTICLE_NOT_OBJECT);
    REASON("false", ARTICLE_NOT_OBJECT);
}

Test(hostile, rejects_a_text_that_is_a_number_as_bad_field)
{
    REASON("{\"id\":\"a\",\"text\":42}", ARTICLE_BAD_FIELD);
}

Test(hostile, rejects_a_text_that_is_an_object_as_bad_field)
{
    REASON("{\"id\":\"a\",\"text\":{\"de\":\"Hallo\"}}", ARTICLE_BAD_FIELD);
}

Test(hostile, rejects_a_text_that_is_an_array_as_bad_field)
{
    REASON("{\"id\":\"a\",\"text\":[\"Hallo\",\"Welt\"]}", ARTICLE_BAD_FIELD);
}

Test(hostile, rejects_a_text_that_is_a_boolean_as_bad_field)
{
    REASON("{\"id\":\"a\",\"text\":true}", ARTICLE_BAD_FIELD);
}

Test(hostile, rejects_a_title_lang_or_id_of_the_wrong_type_as_bad_field)
{
    REASON("{\"title\":[1],\"text\":\"Hallo\"}", ARTICLE_BAD_FIELD);
    REASON("{\"lang\":7,\"text\":\"Hallo\"}", ARTICLE_BAD_FIELD);
    REASON("{\"id\":{\"x\":1},\"text\":\"Hallo\"}", ARTICLE_BAD_FIELD);
    REASON("{\"published_at\":20240812,\"text\":\"Hallo\"}", ARTICLE_BAD_FIELD);
}

Test(hostile, rejects_an_article_without_text_as_missing_text)
{
    REASON("{\"id\":\"a\",\"url\":\"https://example.org/\"}", ARTICLE_MISSING_TEXT);
    REASON("{\"id\":\"a\",\"title\":\"\",\"text\":\" \\n\\t \"}", ARTICLE_MISSING_TEXT);
    REASON("{}", ARTICLE_MISSING_TEXT);
}

/* --- bad bytes --- */

Test(hostile, rejects_invalid_utf8_as_invalid_utf8)
{
    REASON("{\"text\":\"Gr\xfc\xdf" "e\"}", ARTICLE_INVALID_UTF8); /* Latin-1 */
    REASON("{\"text\":\"\xff\xfe\"}", ARTICLE_INVALID_UTF8);
    REASON("{\"text\":\"ab\xe2\x82\"}", ARTICLE_INVALID_UTF8);     /* truncated sequence */
    REASON("{\"text\":\"\x80\"}", ARTICLE_INVALID_UTF8);           /* lone continuation */
    REASON("{\"text\":\"\xf4\x90\x80\x80\"}", ARTICLE_INVALID_UTF8); /* above U+10FFFF */
}

Test(hostile, rejects_overlong_encodings_as_invalid_utf8)
{
    REASON("{\"text\":\"\xc0\xaf\"}", ARTICLE_INVALID_UTF8);         /* '/' in two bytes */
    REASON("{\"text\":\"\xe0\x80\xaf\"}", ARTICLE_INVALID_UTF8);     /* '/' in three bytes */
    REASON("{\"text\":\"\xf0\x80\x80\xaf\"}", ARTICLE_INVALID_UTF8); /* '/' in four bytes */
    REASON("{\"text\":\"\xc1\xbf\"}", ARTICLE_INVALID_UTF8);
}

Test(hostile, rejects_encoded_surrogates_as_invalid_utf8)
{
    REASON("{\"text\":\"\xed\xa0\x80\"}", ARTICLE_INVALID_UTF8);
    REASON("{\"text\":\"\xed\xbf\xbf\"}", ARTICLE_INVALID_UTF8);
}

/* jansson refuses a lone surrogate escape while parsing, so it is a JSON error */
Test(hostile, rejects_a_lone_surrogate_escape_as_not_json)
{
    REASON("{\"text\":\"a\\ud800b\"}", ARTICLE_NOT_JSON);
    REASON("{\"text\":\"a\\udc00\"}", ARTICLE_NOT_JSON);
    REASON("{\"text\":\"\\ud800\\u0041\"}", ARTICLE_NOT_JSON);
}

Test(hostile, rejects_a_raw_nul_byte_as_nul_byte)
{
    REASON("{\"text\":\"a\0b\"}", ARTICLE_NUL_BYTE);
    REASON("\0", ARTICLE_NUL_BYTE);
}

Test(hostile, rejects_a_nul_escape_as_nul_byte)
{
    REASON("{\"text\":\"a\\u0000b\"}", ARTICLE_NUL_BYTE);
    REASON("{\"url\":\"\\u0000\",\"text\":\"Hallo\"}", ARTICLE_NUL_BYTE);
}

Test(hostile, rejects_binary_noise_from_a_fixed_seed_as_invalid_utf8)
{
    size_t len = 1u << 20;
    char *s = malloc(len);
    uint64_t x = 0x9e3779b97f4a7c15ull;

    cr_assert_not_null(s);
    for (size_t i = 0; i < len; i++)
        s[i] = (char)(noise_next(&x) >> 56);
    s[0] = '\xfe'; /* never valid in UTF-8, so the verdict does not hang on the seed */
    expect_reason(s, len, ARTICLE_INVALID_UTF8);
    free(s);
}

Test(hostile, never_accepts_short_binary_noise)
{
    uint64_t x = 42;
    char s[512];

    for (int round = 0; round < 2000; round++) {
        size_t len = 1 + (size_t)(noise_next(&x) % sizeof(s));
        for (size_t i = 0; i < len; i++)
            s[i] = (char)(noise_next(&x) >> 56);
        enum article_reason got = run(s, len);
        cr_assert(got == ARTICLE_INVALID_UTF8 || got == ARTICLE_NUL_BYTE ||
                      got == ARTICLE_NOT_JSON || got == ARTICLE_EMPTY,
                  "round %d: %s (%s)", round, article_reason_name(got), res.detail);
    }
}

Test(hostile, rejects_printable_noise_as_not_json)
{
    uint64_t x = 7;
    char s[4096];

    for (size_t i = 0; i < sizeof(s); i++)
        s[i] = (char)(0x21 + noise_next(&x) % 94);
    s[0] = '#';
    expect_reason(s, sizeof(s), ARTICLE_NOT_JSON);
}

/* --- size --- */

Test(hostile, rejects_a_ten_megabyte_value_as_oversized)
{
    size_t body = 10u << 20, len;
    char *t = malloc(body);

    cr_assert_not_null(t);
    memset(t, 'a', body);
    char *s = article(t, body, &len);
    expect_reason(s, len, ARTICLE_OVERSIZED);
    free(s);
    free(t);
}

Test(hostile, enriches_a_text_of_one_megabyte_token)
{
    size_t body = 1u << 20, len;
    char *t = malloc(body);

    cr_assert_not_null(t);
    memset(t, 'x', body);
    char *s = article(t, body, &len);
    json_decref(expect_ok(s, len));
    free(s);
    free(t);
}

Test(hostile, enriches_a_one_megabyte_number)
{
    size_t body = 1u << 20, len;
    char *t = malloc(body);

    cr_assert_not_null(t);
    memset(t, '9', body);
    char *s = article(t, body, &len);
    json_decref(expect_ok(s, len));
    free(s);
    free(t);
}

/* Bounded work: a stage that is super-linear in the token count would not finish within the
 * ctest timeout here. */
Test(hostile, enriches_a_million_tiny_tokens)
{
    size_t n = 1000000, len;
    char *t = malloc(2 * n);

    cr_assert_not_null(t);
    for (size_t i = 0; i < n; i++) {
        t[2 * i] = "aZ1.,"[i % 5];
        t[2 * i + 1] = ' ';
    }
    char *s = article(t, 2 * n, &len);
    json_decref(expect_ok(s, len));
    free(s);
    free(t);
}

Test(hostile, enriches_a_hundred_thousand_line_breaks)
{
    size_t n = 100000, len;
    char *t = malloc(4 * n);

    cr_assert_not_null(t);
    for (size_t i = 0; i < n; i++)
        memcpy(t + 4 * i, "w\\nW", 4);
    char *s = article(t, 4 * n, &len);
    json_decref(expect_ok(s, len));
    free(s);
    free(t);
}

Test(hostile, enriches_one_sentence_of_many_capitalised_names)
{
    size_t n = 50000, len, off = 0;
    char *t = malloc(n * 8);

    cr_assert_not_null(t);
    for (size_t i = 0; i < n; i++)
        off += (size_t)sprintf(t + off, "%s ", i % 2 ? "Baku" : "Alijew");
    char *s = article(t, off, &len);
    json_decref(expect_ok(s, len));
    free(s);
    free(t);
}

/* --- odd but valid --- */

Test(hostile, passes_huge_numbers_through_byte_for_byte)
{
    static const char in[] =
        "{\"id\":\"n\",\"big\":123456789012345678901234567890123456789012345678901234567890,"
        "\"neg\":-99999999999999999999999999,\"real\":1.7e308,\"tiny\":1e-99999,"
        "\"text\":\"Die Schulden betragen 123456789012345678901234567890 Euro oder "
        "1e308 Dollar, also 99999999999999999999 Prozent.\"}";
    json_t *root = expect_ok(in, sizeof(in) - 1);

    cr_expect_not_null(strstr(res.out, "\"big\":123456789012345678901234567890123456789012345678901234567890,"));
    cr_expect_not_null(strstr(res.out, "\"tiny\":1e-99999,"));
    json_decref(root);
}

/* jansson has no value for a real beyond the double range: such a document is refused whole */
Test(hostile, rejects_a_real_beyond_the_double_range_as_not_json)
{
    REASON("{\"x\":1e99999,\"text\":\"Hallo\"}", ARTICLE_NOT_JSON);
    REASON("{\"x\":-1e309,\"text\":\"Hallo\"}", ARTICLE_NOT_JSON);
}

Test(hostile, enriches_numbers_that_look_like_dates)
{
    OK("{\"id\":\"d\",\"published_at\":\"2024-02-30T25:61:99Z\",\"text\":\"Am 31.02.2023, "
       "am 2023-13-45 und am 12/31/1999 stieg der Wert 20240812 um 1.1.1 Punkte; "
       "um 99:99 Uhr am 0. Januar 0000 waren es 9999-99-99.\"}");
    OK("{\"id\":\"d2\",\"text\":\"On 2024-08-12T09:30:00Z, 08/12/2024 and 12.08.24 the index "
       "hit 1.000.000,00 and 1,000,000.00 points.\"}");
}

Test(hostile, enriches_a_bad_published_at_string)
{
    OK("{\"published_at\":\"gestern\",\"text\":\"Am 9. August stiegen die Exporte.\"}");
    OK("{\"published_at\":\"\",\"text\":\"Am 9. August stiegen die Exporte.\"}");
}

Test(hostile, enriches_right_to_left_text)
{
    OK("{\"id\":\"ar\",\"text\":\"قال الرئيس إلهام علييف في باكو إن الصادرات ارتفعت بنسبة ١٢٪ "
       "في عام ٢٠٢٣.\"}");
    OK("{\"id\":\"he\",\"text\":\"הנשיא אמר בבאקו כי היצוא עלה ב-12 אחוזים בשנת 2023.\"}");
    OK("{\"id\":\"mix\",\"text\":\"\u202eABC\u202c und \u200fעברית\u200e mit English 42.\"}");
}

Test(hostile, enriches_combining_mark_text)
{
    OK("{\"id\":\"zalgo\",\"text\":\"Z\u0351\u0352\u0353\u0354a\u0300\u0301\u0302\u0303\u0304"
       "l\u0305\u0306\u0307g\u0308\u0309o\u030a\u030b\u030c B\u0301aku\u0327.\"}");
    /* a base letter followed by 10,000 combining marks */
    size_t n = 10000, len;
    char *t = malloc(1 + 2 * n);
    cr_assert_not_null(t);
    t[0] = 'e';
    for (size_t i = 0; i < n; i++)
        memcpy(t + 1 + 2 * i, "\xcc\x81", 2);
    char *s = article(t, 1 + 2 * n, &len);
    json_decref(expect_ok(s, len));
    free(s);
    free(t);
}

Test(hostile, enriches_escapes_emoji_and_control_characters)
{
    OK("{\"text\":\"\\ud83d\\ude00 \\u0001\\u001f\\t\\b\\f \\\"Zitat\\\" \\/ \xf0\x9f\x87\xa9"
       "\xf0\x9f\x87\xaa Ende.\"}");
    OK("{\"text\":\"\xef\xbb\xbf\xe2\x80\x8b\xe2\x80\x8d\xee\x80\x80 \xef\xbf\xbd\"}");
}

Test(hostile, enriches_punctuation_only_text)
{
    OK("{\"text\":\"... !!! ??? --- ((( ))) \\\"\\\" '' \xe2\x80\xa6 \xe3\x80\x82\"}");
}

Test(hostile, replaces_an_enrichment_member_of_the_wrong_type)
{
    json_t *root = expect_ok("{\"enrichment\":\"x\",\"text\":\"Hallo Welt.\"}", 39);
    cr_expect(json_is_object(json_object_get(root, "enrichment")));
    json_decref(root);
}

Test(hostile, enriches_an_object_with_many_members_and_deep_but_allowed_nesting)
{
    size_t n = 100000, len = 0;
    char *s = malloc(n * 24 + 4096);

    cr_assert_not_null(s);
    len += (size_t)sprintf(s, "{\"text\":\"Baku ist die Hauptstadt.\"");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(s + len, ",\"k%zu\":%zu", i, i);
    len += (size_t)sprintf(s + len, ",\"meta\":");
    for (int i = 0; i < 500; i++)
        s[len++] = '[';
    for (int i = 0; i < 500; i++)
        s[len++] = ']';
    s[len++] = '}';
    json_decref(expect_ok(s, len));
    free(s);
}

/* One sentence in each script; the lang stage's scripts and more. */
Test(hostile, enriches_one_sentence_in_each_of_many_scripts)
{
    static const char *const sentences[] = {
        "Der Präsident besuchte am Montag Berlin.",                 /* Latin (de) */
        "The president visited Baku on Monday.",                   /* Latin (en) */
        "Le président a visité Paris lundi.",                      /* Latin (fr) */
        "Prezydent odwiedził w poniedziałek Warszawę.",            /* Latin (pl) */
        "Cumhurbaşkanı pazartesi günü Ankara'yı ziyaret etti.",    /* Latin (tr) */
        "Президент посетил Москву в понедельник.",                 /* Cyrillic */
        "Ο πρόεδρος επισκέφθηκε την Αθήνα τη Δευτέρα.",           /* Greek */
        "زار الرئيس القاهرة يوم الاثنين.",                         /* Arabic */
        "رئیس جمهور روز دوشنبه از تهران دیدار کرد.",               /* Arabic (fa) */
        "הנשיא ביקר בירושלים ביום שני.",                           /* Hebrew */
        "राष्ट्रपति ने सोमवार को दिल्ली का दौरा किया।",                 /* Devanagari */
        "রাষ্ট্রপতি সোমবার ঢাকা সফর করেন।",                        /* Bengali */
        "ประธานาธิบดีเยือนกรุงเทพฯ เมื่อวันจันทร์",                    /* Thai */
        "대통령은 월요일에 서울을 방문했다.",                      /* Hangul */
        "大統領は月曜日に東京を訪問した。",                         /* Kana and Han */
        "カタカナとひらがなだけのぶんです。",                       /* Kana only */
        "总统周一访问了北京。",                                     /* Han (zh) */
        "პრეზიდენტი ორშაბათს თბილისს ეწვია.",                     /* Georgian */
        "Նախագահը երկուշաբթի այցելեց Երևան։",                      /* Armenian */
        "ፕሬዚዳንቱ ሰኞ አዲስ አበባን ጎበኙ።",                             /* Ethiopic */
        "ஜனாதிபதி திங்கள்கிழமை சென்னைக்கு விஜயம் செய்தார்.",          /* Tamil */
        "రాష్ట్రపతి సోమవారం హైదరాబాద్‌ను సందర్శించారు.",              /* Telugu */
        "ਰਾਸ਼ਟਰਪਤੀ ਨੇ ਸੋਮਵਾਰ ਨੂੰ ਅੰਮ੍ਰਿਤਸਰ ਦਾ ਦੌਰਾ ਕੀਤਾ।",               /* Gurmukhi */
        "ರಾಷ್ಟ್ರಪತಿ ಸೋಮವಾರ ಬೆಂಗಳೂರಿಗೆ ಭೇಟಿ ನೀಡಿದರು.",                   /* Kannada */
        "ප්‍රේසිඩන්ට් සඳුදා කොළඹට ගියේය.",                        /* Sinhala */
        "ប្រធានាធិបតីបានទៅលេងភ្នំពេញនៅថ្ងៃច័ន្ទ។",                    /* Khmer */
        "သမ္မတသည် တနင်္လာနေ့တွင် ရန်ကုန်သို့ သွားရောက်ခဲ့သည်။",         /* Myanmar */
        "ᠶᠡᠷᠦᠩᠬᠡᠢ ᠶᠢᠨ ᠰᠤᠩᠭᠤᠭᠤᠯᠢ",                                   /* Mongolian */
        "ᐊᖓᔪᖅᑲᖅ ᐃᖃᓗᐃᑦ ᑕᑯᔭᖅᓯᒪᕗᖅ.",                                   /* Canadian syllabics */
        "𐌰𐌽𐌰 𐌰𐍄𐍄𐌰 𐌿𐌽𐍃𐌰𐍂.",                                       /* Gothic, 4-byte */
    };
    for (size_t i = 0; i < sizeof(sentences) / sizeof(sentences[0]); i++) {
        char buf[1024];
        int n = snprintf(buf, sizeof(buf), "{\"id\":\"s%zu\",\"text\":\"%s\"}", i, sentences[i]);
        cr_assert(n > 0 && (size_t)n < sizeof(buf));
        json_t *root = expect_ok(buf, (size_t)n);
        json_decref(root);
    }
}

Test(hostile, enriches_title_only_articles_in_scripts_without_spaces)
{
    OK("{\"title\":\"東京都知事選挙で現職が再選された\"}");
    OK("{\"title\":\"ประธานาธิบดีเยือนกรุงเทพฯ\"}");
}
