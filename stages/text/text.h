/* text: the shared text layer. UTF-8 validation, one tokenization per field with byte and
 * code-point offsets, sentence splitting, case folding. Every stage reads this, none redoes it;
 * the one exception is a pipeline of the language stage alone, which tokenizes with a
 * text_chunker only the part of an untokenized field that it reads. */
#ifndef ENRICHD_STAGES_TEXT_TEXT_H
#define ENRICHD_STAGES_TEXT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "stages/errbuf.h"

/* Token kinds. */
enum text_tok_kind {
    TEXT_TOK_WORD = 1,   /* letters (and marks), maybe with inner hyphens, apostrophes, digits */
    TEXT_TOK_NUMBER = 2, /* starts with a digit: "2023", "1.000.000", "1,5", "3.5", "10-Jährige"?
                            no: digits plus inner [.,] digits only */
    TEXT_TOK_PUNCT = 3,  /* one punctuation character: . , ; : ! ? " ' ( ) - – … */
    TEXT_TOK_SYMBOL = 4, /* one symbol character: $ € % + = / & § ° and other S* categories */
    TEXT_TOK_OTHER = 5   /* anything else (e.g. a control or private-use character) */
};

/* Token flags (bit set). */
enum text_tok_flag {
    TEXT_F_UPPER_INITIAL = 1u << 0, /* first character is upper or title case */
    TEXT_F_ALL_UPPER = 1u << 1,     /* every letter is upper case and there are >= 1 letters */
    TEXT_F_HAS_DIGIT = 1u << 2,
    TEXT_F_HAS_ALPHA = 1u << 3,
    TEXT_F_SPACE_BEFORE = 1u << 4,   /* white space (or the field start) precedes the token */
    TEXT_F_NEWLINE_BEFORE = 1u << 5, /* a line break lies between the previous token and this one */
    TEXT_F_ABBREV = 1u << 6, /* a word that ends with its abbreviation dot ("Dr.", "U.S.", "z.") */
    TEXT_F_HYPHENATED = 1u << 7, /* contains an inner hyphen ("Baku-Tiflis-Kars") */
    TEXT_F_SENT_START = 1u << 8  /* first token of a sentence */
};

struct text_token {
    uint32_t start_byte; /* half-open byte range within the field */
    uint32_t end_byte;
    uint32_t start_cp; /* half-open code-point range within the field */
    uint32_t end_cp;
    uint32_t sentence; /* index into text_field.sentences */
    uint16_t flags;    /* enum text_tok_flag bits */
    uint8_t kind;      /* enum text_tok_kind */
    uint8_t pad;
};

struct text_sentence {
    uint32_t first;    /* index of the first token */
    uint32_t n_tokens; /* >= 1 */
};

struct text_field {
    const char *name;          /* borrowed: "title" or "text" */
    const char *data;          /* borrowed: valid UTF-8, no NUL, len bytes */
    size_t len;                /* bytes */
    size_t n_cp;               /* code points; 0 in an untokenized field (and only there, or
                                  when len is 0) */
    struct text_token *tokens; /* owned by the field */
    size_t n_tokens;
    struct text_sentence *sentences; /* owned by the field */
    size_t n_sentences;
};

/* Longest sentence the splitter emits, in tokens: a longer run is cut. */
#define TEXT_MAX_SENTENCE_TOKENS 400

/* Checks that buf[0..len) is well-formed UTF-8: no overlongs, no surrogates, nothing above
 * U+10FFFF, and no NUL. Returns 0, or -EILSEQ with the byte offset of the first bad sequence
 * in *bad_at (may be NULL). */
int text_validate_utf8(const char *buf, size_t len, size_t *bad_at);

/* Tokenizes and sentence-splits data (borrowed; must outlive f) into f. The data must have
 * passed text_validate_utf8. Returns 0 or -ENOMEM, -EINVAL (with detail in err).
 * Release with text_field_fini. */
int text_field_init(struct text_field *f, const char *name, const char *data, size_t len,
                    struct errbuf *err);

/* Fills f with data (borrowed) but no tokens, sentences or code-point count: for a reader
 * of the raw text only. The language detector tokenizes what it reads of such a field with a
 * text_chunker and stops early; a pipeline whose stages need no tokens builds its fields so.
 * Returns 0 or -EINVAL (longer than 4 GiB, detail in err). Release with text_field_fini. */
int text_field_init_untokenized(struct text_field *f, const char *name, const char *data,
                                size_t len, struct errbuf *err);

/* Tokenizes a text a chunk at a time, for a reader that may stop before the end. The tokens
 * are exactly those text_field_init makes (a chunk ends at white space, which no token spans,
 * and the scanners look no further); there are no sentences (token.sentence is 0 and no token
 * has TEXT_F_SENT_START). */
struct text_chunker {
    const char *data; /* borrowed, valid UTF-8 */
    size_t len;
    size_t pos, pos_cp;        /* where the next chunk starts, in bytes and code points */
    int newline;               /* a line break since the last token */
    struct text_token *tokens; /* owned: the tokens of every chunk so far, in order */
    size_t n_tokens, cap;
};

/* Starts c on data[0..len) (borrowed: valid UTF-8 that outlives c, less than 4 GiB as
 * text_field_init_untokenized checks). */
void text_chunker_init(struct text_chunker *c, const char *data, size_t len);

/* Appends the tokens of the next chunk to c->tokens: at least want bytes (1 when want is 0; up
 * to the next ASCII white space), or the rest of the text. Returns 1, 0 at the end of the text, or
 * -ENOMEM (the chunker is then as before the call). */
int text_chunker_next(struct text_chunker *c, size_t want);

/* Frees the tokens. Accepts a zeroed chunker. */
void text_chunker_fini(struct text_chunker *c);

/* Frees what text_field_init allocated. Accepts NULL and zeroed fields. */
void text_field_fini(struct text_field *f);

/* Pointer to and length of token t's bytes (borrowed from f->data). */
static inline const char *text_tok_ptr(const struct text_field *f, const struct text_token *t)
{
    return f->data + t->start_byte;
}
static inline size_t text_tok_len(const struct text_token *t)
{
    return (size_t)(t->end_byte - t->start_byte);
}

/* Case-folds and NFC-normalises s[0..len) into out (capacity cap, NUL-terminated) with
 * utf8proc. Returns the length written, or -ENOSPC when it does not fit, -EILSEQ when s is
 * not valid UTF-8. */
long text_fold(const char *s, size_t len, char *out, size_t cap);

/* Decodes one code point at s[*i] (valid UTF-8 assumed), advancing *i. */
int32_t text_next_cp(const char *s, size_t len, size_t *i);

/* Code points below this have their utf8proc category in text_category_table(). */
#define TEXT_FAST_CP 0x3000

/* The utf8proc category (utf8proc_category_t) of every code point below TEXT_FAST_CP: a
 * shared read-only table, filled on first use (thread-safe). */
const uint8_t *text_category_table(void);

/* Number of code points in valid UTF-8 s[0..len). */
size_t text_count_cp(const char *s, size_t len);

#endif
