/* Tests for the text layer: UTF-8 validation, tokens with byte and code-point offsets,
 * sentence splitting with abbreviations and German ordinals. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <utf8proc.h>

#include "stages/text/text.h"

static struct text_field field;

static void tokenize(const char *s)
{
    struct errbuf err = {{0}};

    cr_assert_eq(text_validate_utf8(s, strlen(s), NULL), 0);
    cr_assert_eq(text_field_init(&field, "text", s, strlen(s), &err), 0, "%s", err.msg);
}

static void teardown(void)
{
    text_field_fini(&field);
}

static int tok_is(size_t i, const char *want)
{
    const struct text_token *t = &field.tokens[i];
    return text_tok_len(t) == strlen(want) &&
           memcmp(text_tok_ptr(&field, t), want, strlen(want)) == 0;
}

TestSuite(text, .fini = teardown);

Test(text, rejects_overlong_and_surrogate_and_nul_bytes)
{
    size_t at = 99;
    cr_expect_eq(text_validate_utf8("ab\xc0\xaf", 4, &at), -EILSEQ);
    cr_expect_eq(at, 2);
    cr_expect_eq(text_validate_utf8("\xed\xa0\x80", 3, NULL), -EILSEQ);
    cr_expect_eq(text_validate_utf8("a\0b", 3, &at), -EILSEQ);
    cr_expect_eq(at, 1);
    cr_expect_eq(text_validate_utf8("\xf4\x90\x80\x80", 4, NULL), -EILSEQ);
    cr_expect_eq(text_validate_utf8("\xe2\x82", 2, NULL), -EILSEQ);
    cr_expect_eq(text_validate_utf8("Grüße €", strlen("Grüße €"), NULL), 0);
}

Test(text, gives_byte_and_code_point_offsets)
{
    tokenize("Grüße aus Baku");
    cr_assert_eq(field.n_tokens, 3);
    cr_expect_eq(field.tokens[0].start_byte, 0);
    cr_expect_eq(field.tokens[0].end_byte, 7);
    cr_expect_eq(field.tokens[0].end_cp, 5);
    cr_expect_eq(field.tokens[2].start_cp, 10);
    cr_expect_eq(field.tokens[2].start_byte, 12);
    cr_expect(field.tokens[2].flags & TEXT_F_UPPER_INITIAL);
    cr_expect_eq(field.n_cp, 14);
}

Test(text, keeps_numbers_and_hyphenated_names_whole)
{
    tokenize("von 1.000.000 auf 1,5 Mio. Tonnen an der Baku-Tiflis-Kars-Linie");
    cr_expect(tok_is(1, "1.000.000"));
    cr_expect_eq(field.tokens[1].kind, TEXT_TOK_NUMBER);
    cr_expect(tok_is(3, "1,5"));
    cr_expect(tok_is(4, "Mio."));
    cr_expect(field.tokens[4].flags & TEXT_F_ABBREV);
    cr_expect(tok_is(8, "Baku-Tiflis-Kars-Linie"));
    cr_expect(field.tokens[8].flags & TEXT_F_HYPHENATED);
}

Test(text, splits_possessive_s_from_the_name)
{
    tokenize("Germany's chancellor");
    cr_expect(tok_is(0, "Germany"));
    cr_expect(tok_is(1, "'s"));
}

Test(text, does_not_split_after_abbreviations)
{
    tokenize("Dr. Müller kam z. B. mit Nr. 5 an. Die U.S. Army blieb. Sie ging.");
    cr_expect_eq(field.n_sentences, 3);
    cr_expect(tok_is(0, "Dr."));
    cr_expect(tok_is(field.sentences[1].first, "Die"));
}

Test(text, does_not_split_german_ordinal_dates)
{
    tokenize("Am 9. August kam er an. Am 21. Geburtstag feierte sie.");
    cr_expect_eq(field.n_sentences, 2);
    cr_expect(tok_is(field.sentences[1].first, "Am"));
}

Test(text, splits_at_line_breaks_and_question_marks)
{
    tokenize("Ein Titel\nDer Text beginnt hier? Ja! \"Gut.\" Dann endet er");
    cr_expect_eq(field.n_sentences, 5);
}

Test(text, caps_very_long_sentences)
{
    static char buf[8000];
    size_t o = 0;
    for (int i = 0; i < 1000; i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "wort ");
    tokenize(buf);
    for (size_t i = 0; i < field.n_sentences; i++)
        cr_expect_leq(field.sentences[i].n_tokens, TEXT_MAX_SENTENCE_TOKENS);
    cr_expect_eq(field.n_sentences, 3);
}

Test(text, folds_case_with_utf8proc)
{
    char out[64];
    long n = text_fold("STRAßE Übung", strlen("STRAßE Übung"), out, sizeof(out));
    cr_assert_gt(n, 0);
    cr_expect_str_eq(out, "strasse übung");
}

Test(text, handles_empty_and_space_only_fields)
{
    tokenize("");
    cr_expect_eq(field.n_tokens, 0);
    cr_expect_eq(field.n_sentences, 0);
    text_field_fini(&field);
    tokenize(" \n\t ");
    cr_expect_eq(field.n_tokens, 0);
}

Test(text, category_table_and_decoder_agree_with_utf8proc)
{
    const uint8_t *cat = text_category_table();

    for (int32_t cp = 0; cp < TEXT_FAST_CP; cp++)
        cr_assert_eq(cat[cp], (uint8_t)utf8proc_category(cp), "U+%04X", (unsigned)cp);
    for (int32_t cp = 1; cp <= 0x10FFFF; cp += cp < 0x3000 ? 1 : 7) {
        utf8proc_uint8_t buf[4];
        utf8proc_ssize_t n;
        size_t i = 0;

        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        n = utf8proc_encode_char(cp, buf);
        cr_assert_eq(text_next_cp((const char *)buf, (size_t)n, &i), cp, "U+%04X", (unsigned)cp);
        cr_assert_eq(i, (size_t)n);
    }
}

/* Tokenizes s whole and with a text_chunker of chunk size want: the same tokens, offsets and
 * flags (but sentences, which the chunker leaves out). */
static void expect_chunks_match(const char *s, size_t want)
{
    struct text_chunker c;
    int rc;

    tokenize(s);
    text_chunker_init(&c, s, strlen(s));
    while ((rc = text_chunker_next(&c, want)) == 1)
        ;
    cr_assert_eq(rc, 0);
    cr_assert_eq(c.pos, strlen(s));
    cr_assert_eq(c.pos_cp, field.n_cp, "want %zu: %zu code points, not %zu", want, c.pos_cp,
                 field.n_cp);
    cr_assert_eq(c.n_tokens, field.n_tokens, "want %zu: %zu tokens, not %zu: %s", want, c.n_tokens,
                 field.n_tokens, s);
    for (size_t i = 0; i < c.n_tokens; i++) {
        const struct text_token *a = &c.tokens[i], *b = &field.tokens[i];

        cr_assert(a->start_byte == b->start_byte && a->end_byte == b->end_byte &&
                      a->start_cp == b->start_cp && a->end_cp == b->end_cp && a->kind == b->kind &&
                      a->flags == (b->flags & ~(unsigned)TEXT_F_SENT_START),
                  "want %zu, token %zu differs: %s", want, i, s);
    }
    text_chunker_fini(&c);
    text_field_fini(&field);
}

Test(text, chunks_give_the_tokens_of_the_whole_field)
{
    static const char *const texts[] = {
        "Die U.S. Army und Dr. Müller trafen sich am 9. August in Baku-Tiflis-Kars.",
        "Germany's GDP rose 1.000.000 or 3,5 % ... \"Really?\" she asked.\nNew line\there.",
        "Ilham Alijew's Präsident Alijew: e-mail info@example.org https://x.y/z?a=1 10km 5G",
        "汤姆想去安慰玛丽。 Он сказал: «Хорошо».  Ελληνικά και עברית و العربية",
        "z. B. J. F. Kennedy, St. Louis, approx. 5 ft ... ’s ' s 'n' rock-’n’-roll",
        "",
        "   \n\t  ",
        "word",
        "Ende.\n  Neue Zeile \n\n  und weiter\u2028 dann\r\n Schluss",
    };

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        for (size_t want = 0; want <= 64; want++)
            expect_chunks_match(texts[i], want);
}
