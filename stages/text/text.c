/* text: UTF-8 validation, tokenization with byte and code-point offsets, sentence splitting. */
#include "stages/text/text.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

int text_validate_utf8(const char *buf, size_t len, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;

        if (c == 0)
            goto bad;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            goto bad;
        }
        if (len - i <= n)
            goto bad;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* overlongs, surrogates and code points above U+10FFFF */
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += n + 1;
    }
    return 0;
bad:
    if (bad_at != NULL)
        *bad_at = i;
    return -EILSEQ;
}

static int32_t text_next_cp_slow(const char *s, size_t len, size_t *i);

int32_t text_next_cp(const char *s, size_t len, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s + *i;
    size_t left = len - *i;

    /* ASCII and well-formed two- and three-byte sequences inline; the rest through utf8proc */
    if (u[0] < 0x80) {
        (*i)++;
        return u[0];
    }
    if (u[0] >= 0xC2 && u[0] <= 0xDF && left >= 2 && (u[1] & 0xC0) == 0x80) {
        *i += 2;
        return (int32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3F);
    }
    if (u[0] >= 0xE0 && u[0] <= 0xEF && left >= 3 && (u[1] & 0xC0) == 0x80 &&
        (u[2] & 0xC0) == 0x80) {
        int32_t cp = (int32_t)(u[0] & 0x0F) << 12 | (int32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);

        if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
            *i += 3;
            return cp;
        }
    }
    return text_next_cp_slow(s, len, i);
}

static int32_t text_next_cp_slow(const char *s, size_t len, size_t *i)
{
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n =
        utf8proc_iterate((const utf8proc_uint8_t *)s + *i, (utf8proc_ssize_t)(len - *i), &cp);

    if (n <= 0) { /* not reached for validated input; step one byte to stay linear */
        (*i)++;
        return 0xFFFD;
    }
    *i += (size_t)n;
    return cp;
}

size_t text_count_cp(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

long text_fold(const char *s, size_t len, char *out, size_t cap)
{
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &dst,
                                      UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STABLE);

    if (n < 0)
        return n == UTF8PROC_ERROR_NOMEM ? -ENOMEM : -EILSEQ;
    if ((size_t)n + 1 > cap) {
        free(dst);
        return -ENOSPC;
    }
    memcpy(out, dst, (size_t)n + 1);
    free(dst);
    return (long)n;
}

/* Character classes the tokenizer works with. */
enum cclass { C_SPACE, C_NEWLINE, C_LETTER, C_MARK, C_DIGIT, C_PUNCT, C_SYMBOL, C_OTHER };

static enum cclass classify_cat(int32_t cp, utf8proc_category_t cat);

/* Categories and classes of the code points below TEXT_FAST_CP, filled once. */
static uint8_t fast_category[TEXT_FAST_CP];
static uint8_t fast_class[TEXT_FAST_CP];
static uint8_t fast_lower[TEXT_FAST_CP]; /* utf8proc_islower */
static pthread_once_t fast_once = PTHREAD_ONCE_INIT;

static void fast_init(void)
{
    for (int32_t cp = 0; cp < TEXT_FAST_CP; cp++) {
        fast_category[cp] = (uint8_t)utf8proc_category(cp);
        fast_class[cp] = (uint8_t)classify_cat(cp, utf8proc_category(cp));
        fast_lower[cp] = (uint8_t)utf8proc_islower(cp);
    }
}

const uint8_t *text_category_table(void)
{
    pthread_once(&fast_once, fast_init);
    return fast_category;
}

static enum cclass classify_cat(int32_t cp, utf8proc_category_t cat)
{
    if (cp == '\n' || cp == 0x2028 || cp == 0x2029 || cp == 0x85)
        return C_NEWLINE;
    if (cp == '\r')
        return C_SPACE;
    switch (cat) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return C_LETTER;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return C_MARK;
    case UTF8PROC_CATEGORY_ND:
        return C_DIGIT;
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return C_LETTER;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return C_SPACE;
    case UTF8PROC_CATEGORY_CC:
        return (cp == '\t' || cp == '\v' || cp == '\f') ? C_SPACE : C_OTHER;
    case UTF8PROC_CATEGORY_CF:
        return C_MARK; /* zero-width joiners and soft hyphens stay inside words */
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return C_PUNCT;
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
        return C_SYMBOL;
    default:
        return C_OTHER;
    }
}

/* Ranges up to this many bytes are decoded into a buffer on the stack. */
#define TEXT_SMALL_FIELD 256

/* A decoded field: one entry per code point. */
struct cpinfo {
    uint32_t byte; /* byte offset of the code point */
    int32_t cp;
    uint8_t cls; /* enum cclass */
    uint8_t cat; /* utf8proc_category_t */
};

static bool is_word_class(uint8_t c)
{
    return c == C_LETTER || c == C_MARK || c == C_DIGIT;
}

static bool is_hyphen(int32_t cp)
{
    return cp == '-' || cp == 0x2010 || cp == 0x2011;
}

static bool is_apostrophe(int32_t cp)
{
    return cp == '\'' || cp == 0x2019;
}

/* Abbreviations that keep their dot, compared case-sensitively without the dot. German and
 * English news. Single letters ("J.", "z.", "B.") are handled separately. */
static const char *const abbreviations[] = {
    "Nr",   "Dr",   "Prof", "St",   "Str",    "bzw", "ca",   "vgl",  "usw",  "etc",  "Mio",
    "Mrd",  "Tsd",  "Mr",   "Mrs",  "Ms",     "Jr",  "Sr",   "Inc",  "Ltd",  "Co",   "Corp",
    "Gen",  "Sen",  "Rep",  "Gov",  "Jan",    "Feb", "Mär",  "Apr",  "Jun",  "Jul",  "Aug",
    "Sep",  "Sept", "Okt",  "Oct",  "Nov",    "Dez", "Dec",  "No",   "vs",   "bspw", "ggf",
    "inkl", "evtl", "Abs",  "Art",  "Hr",     "Fr",  "Hrsg", "Mill", "Bd",   "Abb",  "Tel",
    "zB",   "Rs",   "Mt",   "Ft",   "approx", "est", "Dipl", "Ing",  "Univ", "Min",  "Stv",
    "Ex",   "Präs", "geb",  "gest", "Kap",    "S",   "ff",   "Verf", "max",  "min",  "bzgl",
    "u",    "a",    "o",    "d",    "h",      "v",   "Chr",  "Jh",   "Jhd",  NULL,
};

static bool is_abbreviation(const char *s, size_t len)
{
    for (size_t i = 0; abbreviations[i] != NULL; i++)
        if (strlen(abbreviations[i]) == len && memcmp(abbreviations[i], s, len) == 0)
            return true;
    return false;
}

/* Month names after which "9." is an ordinal date, not a sentence end. */
static const char *const months[] = {
    "Januar",    "Jänner",  "Februar",  "März",     "April", "Mai",  "Juni", "Juli", "August",
    "September", "Oktober", "November", "Dezember", "Jan.",  "Feb.", "Mär.", "Apr.", "Jun.",
    "Jul.",      "Aug.",    "Sep.",     "Sept.",    "Okt.",  "Nov.", "Dez.", NULL,
};

static bool is_month(const char *s, size_t len)
{
    for (size_t i = 0; months[i] != NULL; i++)
        if (strlen(months[i]) == len && memcmp(months[i], s, len) == 0)
            return true;
    return false;
}

/* Words after which "21." is read as an ordinal even before a capitalised noun. */
static const char *const ordinal_cues[] = {
    "am",     "im",    "zum",    "vom",  "beim", "der",  "die",    "das",
    "den",    "dem",   "des",    "seit", "bis",  "ab",   "an",     "ihrem",
    "seinem", "ihren", "seinen", "zur",  "ihr",  "sein", "dieser", NULL,
};

static bool is_ordinal_cue(const char *s, size_t len)
{
    for (size_t i = 0; ordinal_cues[i] != NULL; i++)
        if (strlen(ordinal_cues[i]) == len && strncasecmp(ordinal_cues[i], s, len) == 0)
            return true;
    return false;
}

struct tok_vec {
    struct text_token *v;
    size_t n, cap;
};

static int tok_push(struct tok_vec *tv, const struct text_token *t)
{
    if (tv->n == tv->cap) {
        size_t cap = tv->cap ? tv->cap * 2 : 64;
        struct text_token *v = realloc(tv->v, cap * sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        tv->v = v;
        tv->cap = cap;
    }
    tv->v[tv->n++] = *t;
    return 0;
}

static void set_word_flags(struct text_token *t, const struct cpinfo *ci, size_t a, size_t b)
{
    bool any_alpha = false, all_upper = true;

    for (size_t k = a; k < b; k++) {
        if (ci[k].cls == C_LETTER) {
            utf8proc_category_t cat = (utf8proc_category_t)ci[k].cat;
            any_alpha = true;
            if (all_upper &&
                (cat == UTF8PROC_CATEGORY_LL ||
                 (cat != UTF8PROC_CATEGORY_LU && cat != UTF8PROC_CATEGORY_LT &&
                  (ci[k].cp < TEXT_FAST_CP ? fast_lower[ci[k].cp] : utf8proc_islower(ci[k].cp)))))
                all_upper = false;
            if (k == a && (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT))
                t->flags |= TEXT_F_UPPER_INITIAL;
        } else if (ci[k].cls == C_DIGIT) {
            t->flags |= TEXT_F_HAS_DIGIT;
        } else if (is_hyphen(ci[k].cp)) {
            t->flags |= TEXT_F_HYPHENATED;
        }
    }
    if (any_alpha) {
        t->flags |= TEXT_F_HAS_ALPHA;
        /* only upper case letters: but a lone capital ("A") is just an initial */
        if (all_upper && b - a > 1)
            t->flags |= TEXT_F_ALL_UPPER;
    }
}

/* Scans one token starting at code point i; returns its end (exclusive) and kind. */
static size_t scan_token(const struct cpinfo *ci, size_t n, size_t i, uint8_t *kind)
{
    size_t j = i;

    if (ci[i].cls == C_DIGIT) {
        /* digits with inner [.,'] groups: 1.000.000, 1,5, 3.5, 1'000 */
        j = i + 1;
        for (;;) {
            while (j < n && ci[j].cls == C_DIGIT)
                j++;
            if (j + 1 < n && (ci[j].cp == '.' || ci[j].cp == ',' || ci[j].cp == '\'') &&
                ci[j + 1].cls == C_DIGIT) {
                j++;
                continue;
            }
            break;
        }
        /* digits glued to letters ("5G", "3D", "10km") stay a word-like number token */
        if (j < n && (ci[j].cls == C_LETTER)) {
            while (j < n && is_word_class(ci[j].cls))
                j++;
            *kind = TEXT_TOK_WORD;
            return j;
        }
        *kind = TEXT_TOK_NUMBER;
        return j;
    }
    if (ci[i].cls == C_LETTER || ci[i].cls == C_MARK) {
        j = i + 1;
        for (;;) {
            while (j < n && is_word_class(ci[j].cls))
                j++;
            /* inner hyphen: "Baku-Tiflis-Kars", "CDU-Chef", "twenty-one" */
            if (j + 1 < n && is_hyphen(ci[j].cp) && is_word_class(ci[j + 1].cls)) {
                j++;
                continue;
            }
            /* inner apostrophe, but "'s" stays apart so "Germany's" keeps its name */
            if (j + 1 < n && is_apostrophe(ci[j].cp) && ci[j + 1].cls == C_LETTER &&
                !((ci[j + 1].cp == 's' || ci[j + 1].cp == 'S') &&
                  (j + 2 >= n || !is_word_class(ci[j + 2].cls)))) {
                j++;
                continue;
            }
            break;
        }
        *kind = TEXT_TOK_WORD;
        return j;
    }
    *kind = ci[i].cls == C_PUNCT    ? TEXT_TOK_PUNCT
            : ci[i].cls == C_SYMBOL ? TEXT_TOK_SYMBOL
                                    : TEXT_TOK_OTHER;
    /* "'s" after a name is one token */
    if (is_apostrophe(ci[i].cp) && i + 1 < n && (ci[i + 1].cp == 's' || ci[i + 1].cp == 'S') &&
        (i + 2 >= n || !is_word_class(ci[i + 2].cls))) {
        *kind = TEXT_TOK_WORD;
        return i + 2;
    }
    /* "..." stays one token */
    if (ci[i].cp == '.') {
        while (j + 1 < n && ci[j + 1].cp == '.')
            j++;
    }
    return j + 1;
}

/* Extends a word ending at end (exclusive) over an abbreviation dot: "Dr.", "U.S.", "z.". */
static size_t absorb_dot(const char *data, const struct cpinfo *ci, size_t n, size_t start,
                         size_t end, bool *abbrev)
{
    *abbrev = false;
    if (end >= n || ci[end].cp != '.')
        return end;
    size_t wlen_cp = end - start;
    /* U.S., U.K., e.g. : single letters separated by dots */
    if (wlen_cp == 1 && end + 2 < n + 1 && end + 1 < n && ci[end + 1].cls == C_LETTER) {
        size_t j = end;
        while (j + 2 < n && ci[j].cp == '.' && ci[j + 1].cls == C_LETTER && ci[j + 2].cp == '.' &&
               (j + 3 >= n || !is_word_class(ci[j + 3].cls)))
            j += 2;
        if (j > end) {
            *abbrev = true;
            return j + 1;
        }
    }
    size_t b0 = ci[start].byte, b1 = ci[end].byte;
    if (wlen_cp == 1 && ci[start].cls == C_LETTER) {
        *abbrev = true; /* an initial: "J. F. Kennedy", "z. B." */
        return end + 1;
    }
    if (is_abbreviation(data + b0, b1 - b0)) {
        *abbrev = true;
        return end + 1;
    }
    return end;
}

static bool starts_upper_or_digit(const struct text_field *f, const struct text_token *t)
{
    if (t->kind == TEXT_TOK_NUMBER)
        return true;
    if (t->flags & TEXT_F_UPPER_INITIAL)
        return true;
    if (t->kind == TEXT_TOK_WORD && (t->flags & TEXT_F_HAS_ALPHA) == 0)
        return true;
    if (t->kind == TEXT_TOK_PUNCT) {
        const char *p = text_tok_ptr(f, t);
        /* opening quotes and brackets */
        return p[0] == '"' || p[0] == '(' || p[0] == '[' ||
               (text_tok_len(t) == 3 && (unsigned char)p[0] == 0xE2 &&
                (unsigned char)p[1] == 0x80 &&
                ((unsigned char)p[2] == 0x9C || (unsigned char)p[2] == 0x9E ||
                 (unsigned char)p[2] == 0x98));
    }
    if (t->kind == TEXT_TOK_WORD) {
        size_t i = 0;
        int32_t cp = text_next_cp(f->data + t->start_byte, text_tok_len(t), &i);
        /* scripts without case never get UPPER_INITIAL: treat them as sentence starts */
        return !utf8proc_islower(cp) && !utf8proc_isupper(cp);
    }
    return false;
}

static bool is_terminal(const struct text_field *f, const struct text_token *t)
{
    const char *p = text_tok_ptr(f, t);
    size_t len = text_tok_len(t);

    if (t->kind != TEXT_TOK_PUNCT)
        return false;
    if (len >= 1 && (p[0] == '.' || p[0] == '!' || p[0] == '?'))
        return true;
    /* … U+2026, 。U+3002, ！U+FF01, ？U+FF1F, । U+0964, ؟ U+061F */
    size_t i = 0;
    int32_t cp = text_next_cp(p, len, &i);
    return cp == 0x2026 || cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F || cp == 0x0964 ||
           cp == 0x061F;
}

static bool is_closing(const struct text_field *f, const struct text_token *t)
{
    const char *p = text_tok_ptr(f, t);
    size_t len = text_tok_len(t);

    if (t->kind != TEXT_TOK_PUNCT)
        return false;
    if (p[0] == '"' || p[0] == ')' || p[0] == ']' || p[0] == '\'')
        return true;
    /* ” U+201D, “ U+201C (German closing), ’ U+2019, » « */
    size_t i = 0;
    int32_t cp = text_next_cp(p, len, &i);
    return cp == 0x201D || cp == 0x201C || cp == 0x2019 || cp == 0xBB || cp == 0xAB;
}

static int split_sentences(struct text_field *f)
{
    size_t cap = 16, n = 0, first = 0;
    struct text_sentence *s = malloc(cap * sizeof(*s));

    if (s == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < f->n_tokens; i++) {
        struct text_token *t = &f->tokens[i];
        bool end = false;

        if (i + 1 == f->n_tokens || i + 1 - first >= TEXT_MAX_SENTENCE_TOKENS) {
            end = true;
        } else if (f->tokens[i + 1].flags & TEXT_F_NEWLINE_BEFORE) {
            /* a line break ends a sentence unless the line clearly goes on in lower case */
            end = starts_upper_or_digit(f, &f->tokens[i + 1]) || is_terminal(f, t);
        } else if (is_terminal(f, t)) {
            size_t k = i + 1;
            while (k < f->n_tokens && k - first < TEXT_MAX_SENTENCE_TOKENS &&
                   is_closing(f, &f->tokens[k]) && !(f->tokens[k].flags & TEXT_F_NEWLINE_BEFORE))
                k++;
            if (k >= f->n_tokens) {
                i = k - 1;
                end = true;
            } else {
                const struct text_token *nx = &f->tokens[k];
                bool ordinal = false;
                if (text_tok_ptr(f, t)[0] == '.' && i > 0 &&
                    f->tokens[i - 1].kind == TEXT_TOK_NUMBER &&
                    f->tokens[i - 1].end_byte == t->start_byte &&
                    text_tok_len(&f->tokens[i - 1]) <= 2) {
                    /* "9. August", "am 21. Geburtstag": a German ordinal */
                    ordinal = is_month(text_tok_ptr(f, nx), text_tok_len(nx)) ||
                              !(nx->flags & TEXT_F_UPPER_INITIAL) ||
                              (i >= 2 && f->tokens[i - 2].kind == TEXT_TOK_WORD &&
                               (!(f->tokens[i - 2].flags & TEXT_F_UPPER_INITIAL) ||
                                is_ordinal_cue(text_tok_ptr(f, &f->tokens[i - 2]),
                                               text_tok_len(&f->tokens[i - 2]))));
                    if (nx->kind == TEXT_TOK_NUMBER)
                        ordinal = false;
                }
                if (!ordinal && starts_upper_or_digit(f, nx)) {
                    i = k - 1;
                    end = true;
                }
            }
        }
        if (end) {
            if (n == cap) {
                cap *= 2;
                struct text_sentence *ns = realloc(s, cap * sizeof(*s));
                if (ns == NULL) {
                    free(s);
                    return -ENOMEM;
                }
                s = ns;
            }
            s[n].first = (uint32_t)first;
            s[n].n_tokens = (uint32_t)(i + 1 - first);
            for (size_t k = first; k <= i; k++)
                f->tokens[k].sentence = (uint32_t)n;
            f->tokens[first].flags |= TEXT_F_SENT_START;
            n++;
            first = i + 1;
        }
    }
    f->sentences = s;
    f->n_sentences = n;
    return 0;
}

/* Tokenizes data[from..to) (to is the field's end or a white-space code point) onto tv; the
 * code point at from has offset cp_base in the field, and *newline says whether a line break
 * lies between the last token before from and from (false at the field start); on return, it
 * says so for to. Returns the code points decoded, or -ENOMEM. A token never spans white space
 * and the scanners look no further than the next one, so a range cut at white space gets
 * exactly the tokens a whole-field pass makes there. */
static ptrdiff_t tokenize_range(const char *data, size_t from, size_t to, size_t cp_base,
                                struct tok_vec *tv, bool *newline)
{
    struct cpinfo small[TEXT_SMALL_FIELD + 1], *ci; /* short ranges decode on the stack */
    size_t n = 0, i = from;
    bool space_before = true, newline_before = *newline;

    ci = to - from <= TEXT_SMALL_FIELD ? small : malloc((to - from + 1) * sizeof(*ci));
    if (ci == NULL)
        return -ENOMEM;
    pthread_once(&fast_once, fast_init);
    while (i < to) {
        ci[n].byte = (uint32_t)i;
        int32_t cp =
            (uint8_t)data[i] < 0x80 ? (int32_t)(uint8_t)data[i++] : text_next_cp(data, to, &i);

        ci[n].cp = cp;
        if (cp < TEXT_FAST_CP) {
            ci[n].cat = fast_category[cp];
            ci[n].cls = fast_class[cp];
        } else {
            ci[n].cat = (uint8_t)utf8proc_category(cp);
            ci[n].cls = (uint8_t)classify_cat(cp, (utf8proc_category_t)ci[n].cat);
        }
        n++;
    }
    ci[n].byte = (uint32_t)to;
    for (i = 0; i < n;) {
        if (ci[i].cls == C_SPACE || ci[i].cls == C_NEWLINE) {
            space_before = true;
            if (ci[i].cls == C_NEWLINE)
                newline_before = true;
            i++;
            continue;
        }
        uint8_t kind;
        size_t j = scan_token(ci, n, i, &kind);
        bool abbrev = false;
        struct text_token t = {0};
        if (kind == TEXT_TOK_WORD && ci[i].cls != C_DIGIT)
            j = absorb_dot(data, ci, n, i, j, &abbrev);
        t.start_cp = (uint32_t)(cp_base + i);
        t.end_cp = (uint32_t)(cp_base + j);
        t.start_byte = ci[i].byte;
        t.end_byte = ci[j].byte;
        t.kind = kind;
        if (kind == TEXT_TOK_WORD || kind == TEXT_TOK_NUMBER)
            set_word_flags(&t, ci, i, j);
        if (abbrev)
            t.flags |= TEXT_F_ABBREV;
        if (space_before)
            t.flags |= TEXT_F_SPACE_BEFORE;
        if (newline_before)
            t.flags |= TEXT_F_NEWLINE_BEFORE;
        if (tok_push(tv, &t) != 0) {
            if (ci != small)
                free(ci);
            return -ENOMEM;
        }
        space_before = newline_before = false;
        i = j;
    }
    if (ci != small)
        free(ci);
    *newline = newline_before;
    return (ptrdiff_t)n;
}

int text_field_init(struct text_field *f, const char *name, const char *data, size_t len,
                    struct errbuf *err)
{
    struct tok_vec tv = {0};
    bool newline = false;
    ptrdiff_t n;
    int rc;

    if ((rc = text_field_init_untokenized(f, name, data, len, err)) != 0)
        return rc;
    if ((n = tokenize_range(data, 0, len, 0, &tv, &newline)) < 0) {
        rc = (int)n;
        goto fail;
    }
    f->n_cp = (size_t)n;
    f->tokens = tv.v;
    f->n_tokens = tv.n;
    tv.v = NULL;
    if ((rc = split_sentences(f)) != 0)
        goto fail;
    return 0;
fail:
    free(tv.v);
    text_field_fini(f);
    return errbuf_set(err, rc, "%s: out of memory while tokenizing", name);
}

int text_field_init_untokenized(struct text_field *f, const char *name, const char *data,
                                size_t len, struct errbuf *err)
{
    memset(f, 0, sizeof(*f));
    f->name = name;
    f->data = data;
    f->len = len;
    if (len > UINT32_MAX - 1)
        return errbuf_set(err, -EINVAL, "%s: longer than 4 GiB", name);
    return 0;
}

void text_chunker_init(struct text_chunker *c, const char *data, size_t len)
{
    memset(c, 0, sizeof(*c));
    c->data = data;
    c->len = len < UINT32_MAX - 1 ? len : UINT32_MAX - 1;
}

int text_chunker_next(struct text_chunker *c, size_t want)
{
    struct tok_vec tv = {c->tokens, c->n_tokens, c->cap};
    bool newline = c->newline;
    size_t to;
    ptrdiff_t n;

    if (c->pos >= c->len)
        return 0;
    /* Cut at the first ASCII white space from pos + want on: never inside a multi-byte
     * sequence, and never inside a token. */
    if (want == 0)
        want = 1;
    to = want < c->len - c->pos ? c->pos + want : c->len;
    while (to < c->len && c->data[to] != ' ' && c->data[to] != '\n' && c->data[to] != '\t' &&
           c->data[to] != '\r')
        to++;
    n = tokenize_range(c->data, c->pos, to, c->pos_cp, &tv, &newline);
    c->tokens = tv.v; /* a grown vector, also after a failure */
    c->cap = tv.cap;
    if (n < 0)
        return (int)n;
    c->n_tokens = tv.n;
    c->newline = newline;
    c->pos = to;
    c->pos_cp += (size_t)n;
    return 1;
}

void text_chunker_fini(struct text_chunker *c)
{
    free(c->tokens);
    memset(c, 0, sizeof(*c));
}

void text_field_fini(struct text_field *f)
{
    if (f == NULL)
        return;
    free(f->tokens);
    free(f->sentences);
    f->tokens = NULL;
    f->sentences = NULL;
    f->n_tokens = f->n_sentences = 0;
}
