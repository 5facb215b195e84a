/* fuzz_text: UTF-8 validation against a reference decoder, the tokenizer's and sentence
 * splitter's invariants on every valid input, and chunked tokenization against whole-field. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stages/text/text.h"
#include "tests/fuzz/fuzz.h"

/* An independent, table-free UTF-8 check (RFC 3629 plus "no NUL"). Returns the offset of the
 * first bad sequence, or len when s is valid. */
static size_t ref_first_bad(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint32_t cp, min;

        if (c == 0)
            return i;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 2, cp = c & 0x1Fu, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3, cp = c & 0x0Fu, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4, cp = c & 0x07u, min = 0x10000;
        } else {
            return i;
        }
        if (i + n > len)
            return i;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n;
    }
    return len;
}

static bool is_cont(uint8_t c)
{
    return (c & 0xC0) == 0x80;
}

static void check_field(const struct text_field *f, const uint8_t *s, size_t len)
{
    size_t cp_at = 0, byte_at = 0, prev_end = 0;

    FUZZ_CHECK(f->data == (const char *)s && f->len == len);
    FUZZ_CHECK(f->n_cp == text_count_cp((const char *)s, len));
    FUZZ_CHECK((f->n_tokens == 0) == (f->n_sentences == 0));
    FUZZ_CHECK(f->n_tokens <= f->n_cp);
    for (size_t i = 0; i < f->n_tokens; i++) {
        const struct text_token *t = &f->tokens[i];

        FUZZ_CHECK(t->start_byte < t->end_byte && t->end_byte <= len);
        FUZZ_CHECK(t->start_byte >= prev_end);
        FUZZ_CHECK(t->start_cp < t->end_cp && t->end_cp <= f->n_cp);
        FUZZ_CHECK(!is_cont(s[t->start_byte]));
        FUZZ_CHECK(t->end_byte == len || !is_cont(s[t->end_byte]));
        FUZZ_CHECK(t->kind >= TEXT_TOK_WORD && t->kind <= TEXT_TOK_OTHER);
        FUZZ_CHECK(t->sentence < f->n_sentences);
        /* code-point offsets agree with the bytes: count forward from the previous token */
        cp_at += text_count_cp((const char *)s + byte_at, t->start_byte - byte_at);
        FUZZ_CHECK(t->start_cp == cp_at);
        cp_at += text_count_cp((const char *)s + t->start_byte, text_tok_len(t));
        FUZZ_CHECK(t->end_cp == cp_at);
        byte_at = prev_end = t->end_byte;
        FUZZ_CHECK(text_tok_ptr(f, t) == f->data + t->start_byte);
    }
    /* the sentences tile the tokens: contiguous, non-empty, bounded, and each token names
     * the one sentence that holds it */
    size_t next = 0;
    for (size_t k = 0; k < f->n_sentences; k++) {
        const struct text_sentence *se = &f->sentences[k];

        FUZZ_CHECK(se->first == next);
        FUZZ_CHECK(se->n_tokens >= 1 && se->n_tokens <= TEXT_MAX_SENTENCE_TOKENS);
        FUZZ_CHECK(se->first + se->n_tokens <= f->n_tokens);
        for (size_t i = se->first; i < se->first + se->n_tokens; i++) {
            FUZZ_CHECK(f->tokens[i].sentence == k);
            FUZZ_CHECK(!!(f->tokens[i].flags & TEXT_F_SENT_START) == (i == se->first));
        }
        next = se->first + se->n_tokens;
    }
    FUZZ_CHECK(next == f->n_tokens);
}

/* A chunker gives the tokens of the whole field, whatever the chunk size (the first input
 * byte picks it). */
static void check_chunks(const struct text_field *f, const uint8_t *s, size_t len)
{
    struct text_chunker c;
    size_t want = len > 0 ? (size_t)s[0] % 64 + 1 : 1;
    int rc;

    text_chunker_init(&c, (const char *)s, len);
    while ((rc = text_chunker_next(&c, want)) == 1)
        ;
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(c.n_tokens == f->n_tokens);
    for (size_t i = 0; i < c.n_tokens; i++) {
        const struct text_token *a = &c.tokens[i], *b = &f->tokens[i];

        FUZZ_CHECK(a->start_byte == b->start_byte && a->end_byte == b->end_byte);
        FUZZ_CHECK(a->start_cp == b->start_cp && a->end_cp == b->end_cp);
        FUZZ_CHECK(a->kind == b->kind);
        FUZZ_CHECK(a->flags == (b->flags & ~(unsigned)TEXT_F_SENT_START));
    }
    text_chunker_fini(&c);
}

/* Case folding never writes past its buffer and reports -ENOSPC instead of truncating. */
static void check_fold(const struct text_field *f)
{
    char small[8], big[256];

    for (size_t i = 0; i < f->n_tokens && i < 64; i++) {
        const struct text_token *t = &f->tokens[i];
        long n = text_fold(text_tok_ptr(f, t), text_tok_len(t), big, sizeof(big));
        long m = text_fold(text_tok_ptr(f, t), text_tok_len(t), small, sizeof(small));

        FUZZ_CHECK(n == -ENOSPC || (n >= 0 && (size_t)n < sizeof(big) && big[n] == '\0'));
        FUZZ_CHECK(m == -ENOSPC || (m >= 0 && (size_t)m < sizeof(small) && small[m] == '\0'));
        if (n >= 0 && (size_t)n < sizeof(small))
            FUZZ_CHECK(m == n && memcmp(small, big, (size_t)n) == 0);
        if (n >= 0)
            FUZZ_CHECK(text_validate_utf8(big, (size_t)n, NULL) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t bad_at = (size_t)-1;
    size_t ref = ref_first_bad(data, size);
    int rc = text_validate_utf8((const char *)data, size, &bad_at);
    struct text_field f;
    struct errbuf err = {{0}};

    if (ref < size) {
        FUZZ_CHECK(rc == -EILSEQ);
        FUZZ_CHECK(bad_at == ref);
        return 0;
    }
    FUZZ_CHECK(rc == 0);
    /* decoding walks the input one code point at a time */
    size_t i = 0, ncp = 0;
    while (i < size) {
        size_t before = i;
        int32_t cp = text_next_cp((const char *)data, size, &i);
        FUZZ_CHECK(i > before && i <= size && cp > 0 && cp <= 0x10FFFF);
        ncp++;
    }
    FUZZ_CHECK(ncp == text_count_cp((const char *)data, size));
    FUZZ_CHECK(text_field_init(&f, "text", (const char *)data, size, &err) == 0);
    check_field(&f, data, size);
    check_chunks(&f, data, size);
    check_fold(&f);
    text_field_fini(&f);
    return 0;
}
