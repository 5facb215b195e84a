/* numfacts: the numeric-facts stage. A deterministic grammar over the shared tokens finds
 * numbers, measures, money, percentages, dates, ranges and changes, and writes them to
 * enrichment.numeric_facts. One left-to-right pass per sentence with bounded look-ahead. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stages/numfacts/lexicon.h"
#include "stages/stage.h"

#define NF_BUCKETS 4096u
#define NF_MAX_WORDS 4
#define NF_N_LANGS 2
#define NF_SUBJECT_MAX 8

enum nf_kind {
    NF_K_COUNT = 0,
    NF_K_MEASURE,
    NF_K_MONEY,
    NF_K_PERCENT,
    NF_K_PP,
    NF_K_ORDINAL,
    NF_K_YEAR,
    NF_K_DATE,
    NF_K_DURATION
};

static const char *const nf_kind_names[] = {
    "count", "measure", "money", "percent", "percent_point", "ordinal", "year", "date", "duration"};
static const char *const nf_qual_names[] = {"exact",     "approx",   "more_than",
                                            "less_than", "at_least", "at_most"};

enum nf_grain { NF_G_NONE = 0, NF_G_DAY, NF_G_MONTH, NF_G_QUARTER, NF_G_YEAR };
static const char *const nf_grain_names[] = {NULL, "day", "month", "quarter", "year"};

static const struct nf_language *const nf_langs[NF_N_LANGS] = {&nf_lang_de, &nf_lang_en};

/* One lexicon row with its folded form, chained in a hash bucket by its first word. */
struct nf_entry {
    const struct nf_lex *lex;
    char *form;    /* folded, words separated by one space */
    uint32_t hash; /* of the first word */
    int32_t next;  /* next entry in the bucket, -1 at the end */
    uint8_t lang;  /* index into nf_langs */
    uint8_t n_words;
};

struct nf_morph {
    char *form; /* folded */
    size_t len;
    double value; /* < 0 for "und" */
};

struct nf_ctx {
    struct nf_entry *e;
    size_t n;
    int32_t bucket[NF_BUCKETS];
    struct nf_morph *morph[NF_N_LANGS];
    size_t n_morph[NF_N_LANGS];
};

/* A token as the grammar sees it: "2.5bn" and "10km" are split into number and word. */
struct vtok {
    uint32_t sb, eb, sc, ec;
    uint32_t fold; /* offset of the folded text in nf_run.fold */
    uint32_t fold_len;
    uint32_t hash;
    uint32_t types;    /* bit per enum nf_lex_type of the rows whose first word this is */
    double word_value; /* cached nf_word_value result */
    uint16_t flags;
    uint8_t kind;
    int8_t verb;       /* cached nf_verb_dir: -2 none, -1, 0, +1; 3 not yet known */
    int8_t word_state; /* cached nf_word_value: 0 not yet known, 1 number, 2 number needing a
                          determiner, 3 not a number */
};

/* Per-field scratch of one process call. */
struct nf_run {
    const struct nf_ctx *ctx;
    const struct text_field *f;
    struct vtok *t;
    size_t n;
    char *fold;
    int lang; /* primary language index */
    int has_ref;
    int ry, rm, rd;
    long rdays; /* reference day number */
};

struct nf_num {
    size_t t0, t1;
    double v, raw;
    int scaled, words, plain4, art;
    int dd, dm, dy; /* "31.10.1974" */
};

struct nf_atom {
    size_t t0, t1; /* tokens [t0, t1) including qualifier and currency */
    double v, raw;
    int scaled, words, plain4;
    int kind;
    const struct nf_lex *unit;
    int qual, approx, inferred;
    int grain, y, m, d, resolved; /* dates */
    int used;
};

/* ---- hashing and folding ---- */

static uint32_t nf_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Folds s[0..n) into out (cap bytes) like text_fold does: ASCII and Latin-1 by hand ("Ä" to
 * "ä", "ß" to "ss"), anything else through text_fold (which allocates). */
static long nf_fold(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 && c != 0xC2 && c != 0xC3 && c != 0xE2 && (c & 0xC0) != 0x80)
            return text_fold(s, n, out, cap);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 3 > cap)
            return -ENOSPC;
        if (c >= 'A' && c <= 'Z') {
            out[o++] = (char)(c - 'A' + 'a');
        } else if (c == 0xC3 && i + 1 < n) {
            unsigned char d = (unsigned char)s[++i];
            if (d == 0x9F) {
                out[o++] = 's';
                out[o++] = 's';
            } else {
                out[o++] = (char)c;
                out[o++] = (char)(d >= 0x80 && d <= 0x9E && d != 0x97 ? d + 0x20 : d);
            }
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return (long)o;
}

static char *nf_fold_dup(const char *s)
{
    size_t n = strlen(s);
    size_t cap = 3 * n + 8;
    char *out = malloc(cap);

    if (out == NULL)
        return NULL;
    if (nf_fold(s, n, out, cap) < 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- context ---- */

static void nf_fini(void *vctx)
{
    struct nf_ctx *ctx = vctx;

    if (ctx == NULL)
        return;
    for (size_t i = 0; i < ctx->n; i++)
        free(ctx->e[i].form);
    free(ctx->e);
    for (int l = 0; l < NF_N_LANGS; l++) {
        for (size_t i = 0; i < ctx->n_morph[l]; i++)
            free(ctx->morph[l][i].form);
        free(ctx->morph[l]);
    }
    free(ctx);
}

static int nf_init(void **out, const struct conf_section *conf, struct errbuf *err)
{
    struct nf_ctx *ctx = calloc(1, sizeof(*ctx));
    size_t total = 0;

    (void)conf;
    *out = NULL;
    if (ctx == NULL)
        return errbuf_set(err, -ENOMEM, "numfacts: out of memory");
    for (size_t b = 0; b < NF_BUCKETS; b++)
        ctx->bucket[b] = -1;
    for (int l = 0; l < NF_N_LANGS; l++)
        for (const struct nf_lex *x = nf_langs[l]->lex; x->form != NULL; x++)
            total++;
    ctx->e = calloc(total, sizeof(*ctx->e));
    if (ctx->e == NULL)
        goto nomem;
    for (int l = 0; l < NF_N_LANGS; l++) {
        for (const struct nf_lex *x = nf_langs[l]->lex; x->form != NULL; x++) {
            struct nf_entry *e = &ctx->e[ctx->n];
            const char *sp;

            e->form = nf_fold_dup(x->form);
            if (e->form == NULL)
                goto nomem;
            ctx->n++;
            e->lex = x;
            e->lang = (uint8_t)l;
            e->n_words = 1;
            for (const char *p = e->form; *p; p++)
                if (*p == ' ')
                    e->n_words++;
            if (e->n_words > NF_MAX_WORDS) {
                nf_fini(ctx);
                return errbuf_set(err, -EINVAL, "numfacts: lexicon form too long: %s", x->form);
            }
            sp = strchr(e->form, ' ');
            e->hash = nf_hash(e->form, sp ? (size_t)(sp - e->form) : strlen(e->form));
            /* append to the bucket so earlier rows win among equals */
            int32_t *link = &ctx->bucket[e->hash % NF_BUCKETS];
            while (*link >= 0)
                link = &ctx->e[*link].next;
            e->next = -1;
            *link = (int32_t)(e - ctx->e);
        }
        const struct nf_lex *m = nf_langs[l]->compound;
        if (m != NULL) {
            size_t k = 0;
            while (m[k].form != NULL)
                k++;
            ctx->morph[l] = calloc(k, sizeof(struct nf_morph));
            if (ctx->morph[l] == NULL)
                goto nomem;
            for (size_t i = 0; i < k; i++) {
                ctx->morph[l][i].form = nf_fold_dup(m[i].form);
                if (ctx->morph[l][i].form == NULL)
                    goto nomem;
                ctx->n_morph[l]++;
                ctx->morph[l][i].len = strlen(ctx->morph[l][i].form);
                ctx->morph[l][i].value = m[i].type == NF_LEX_NUM ? m[i].value : -1;
            }
        }
    }
    *out = ctx;
    return 0;
nomem:
    nf_fini(ctx);
    return errbuf_set(err, -ENOMEM, "numfacts: out of memory");
}

/* ---- dates ---- */

static long nf_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void nf_civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* ISO weekday 1 (Monday) .. 7 of a day number. */
static int nf_weekday(long days)
{
    return (int)(((days % 7) + 7 + 3) % 7) + 1;
}

/* Year of month m nearest to the reference: rel -1 the last one before, +1 the next one. */
static int nf_year_for_month(const struct nf_run *r, int m, int rel)
{
    if (rel < 0)
        return m < r->rm ? r->ry : r->ry - 1;
    if (rel > 0)
        return m > r->rm ? r->ry : r->ry + 1;
    int diff = m - r->rm;
    if (diff > 3)
        return r->ry - 1;
    if (diff <= -9)
        return r->ry + 1;
    return r->ry;
}

/* ---- token access ---- */

static const char *nf_tf(const struct nf_run *r, size_t i)
{
    return r->fold + r->t[i].fold;
}

static int nf_is(const struct nf_run *r, size_t i, const char *s)
{
    return r->t[i].fold_len > 0 && nf_tf(r, i)[0] == s[0] && r->t[i].fold_len == strlen(s) &&
           memcmp(nf_tf(r, i), s, r->t[i].fold_len) == 0;
}

static int nf_glued(const struct nf_run *r, size_t i)
{
    return (r->t[i].flags & TEXT_F_SPACE_BEFORE) == 0;
}

/* Longest lexicon entry of a type in mask that matches tokens from i (before end); prefers
 * the primary language among equally long matches. Sets *n_tok. */
static const struct nf_entry *nf_match(const struct nf_run *r, size_t i, size_t end, unsigned mask,
                                       size_t *n_tok)
{
    const struct nf_ctx *ctx = r->ctx;
    const struct nf_entry *best = NULL;
    size_t best_n = 0;

    if (i >= end || r->t[i].fold_len == 0 || (r->t[i].types & mask) == 0)
        return NULL;
    for (int32_t k = ctx->bucket[r->t[i].hash % NF_BUCKETS]; k >= 0; k = ctx->e[k].next) {
        const struct nf_entry *e = &ctx->e[k];
        if (e->hash != r->t[i].hash || !(mask & (1u << e->lex->type)))
            continue;
        if (i + e->n_words > end)
            continue;
        const char *p = e->form;
        size_t w = 0;
        int ok = 1;
        for (; w < e->n_words; w++) {
            const char *sp = strchr(p, ' ');
            size_t len = sp ? (size_t)(sp - p) : strlen(p);
            if (r->t[i + w].fold_len != len || memcmp(nf_tf(r, i + w), p, len) != 0) {
                ok = 0;
                break;
            }
            p = sp ? sp + 1 : p + len;
        }
        if (!ok)
            continue;
        if (e->n_words > best_n ||
            (e->n_words == best_n && best != NULL && best->lang != r->lang && e->lang == r->lang)) {
            best = e;
            best_n = e->n_words;
        }
    }
    *n_tok = best_n;
    return best;
}

#define M(t) (1u << (t))

static const struct nf_lex *nf_lex1(const struct nf_run *r, size_t i, size_t end, unsigned mask)
{
    size_t n;
    const struct nf_entry *e = nf_match(r, i, end, mask, &n);

    return e != NULL && n == 1 ? e->lex : NULL;
}

/* ---- numbers ---- */

/* The value of the leading decimal digits of s[0..n) (at most 9 of them), 0 if none. A token
 * is not NUL-terminated: its field's data is len bytes, so libc's atoi and strtod, which read
 * to a non-digit, must not be given it. */
static int nf_uint_n(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n && i < 9 && s[i] >= '0' && s[i] <= '9'; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* strtod over s[0..n) only (see nf_uint_n); n is at most 40 where it is used. */
static double nf_strtod_n(const char *s, size_t n)
{
    char buf[64];

    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return strtod(buf, NULL);
}

/* Whether s[0..n) reads "D.M." (one or two digits each), setting *dd and *dm. sscanf needs a
 * string, and the field is not NUL-terminated (see nf_uint_n), so it scans a copy. */
static int nf_day_month_dot(const char *s, size_t n, int *dd, int *dm)
{
    char buf[8], tail;

    if (n >= sizeof(buf))
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return sscanf(buf, "%2d.%2d%c", dd, dm, &tail) == 3 && tail == '.';
}

/* Parses a digit token: German and English separators, decided by shape, and by the language
 * only when "500.000" or "500,000" could be either. Returns 0, or -1 for a non-number like
 * "1.2.3". A d.m.yyyy date sets *dd, *dm, *dy instead. */
static int nf_parse_digits(const char *s, size_t n, int decimal_comma, double *out, int *plain,
                           int *dd, int *dm, int *dy)
{
    size_t glen[16];
    char sep[16];
    size_t ng = 0, cur = 0;
    char buf[64];
    size_t bl = 0;

    *plain = 0;
    *dd = *dm = *dy = 0;
    if (n == 0 || n > 40)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            cur++;
        } else {
            if (ng >= 15)
                return -1;
            sep[ng] = s[i];
            glen[ng++] = cur;
            cur = 0;
        }
    }
    glen[ng] = cur;
    if (ng == 0) {
        *plain = 1;
        *out = nf_strtod_n(s, n);
        return 0;
    }
    /* which separator is the decimal mark: index of the decimal separator, or ng (none) */
    size_t dec = ng;
    char c0 = sep[0];
    int same = 1;
    for (size_t k = 1; k < ng; k++)
        if (sep[k] != c0)
            same = 0;
    if (same) {
        int groups3 = glen[0] >= 1 && glen[0] <= 3;
        for (size_t k = 1; k <= ng; k++)
            if (glen[k] != 3)
                groups3 = 0;
        if (c0 == '\'') {
            if (!groups3)
                return -1;
        } else if (ng >= 2) {
            if (!groups3) {
                if (c0 == '.' && ng == 2 && glen[0] <= 2 && glen[1] <= 2 &&
                    (glen[2] == 4 || glen[2] == 2)) {
                    *dd = nf_uint_n(s, glen[0]);
                    *dm = nf_uint_n(s + glen[0] + 1, glen[1]);
                    *dy = nf_uint_n(s + glen[0] + glen[1] + 2, glen[2]);
                    if (glen[2] == 2)
                        *dy += *dy < 50 ? 2000 : 1900;
                    if (*dd >= 1 && *dd <= 31 && *dm >= 1 && *dm <= 12)
                        return 0;
                }
                return -1;
            }
        } else if (groups3 && !(glen[0] == 1 && s[0] == '0')) {
            int thousands = c0 == '.' ? decimal_comma : !decimal_comma;
            dec = thousands ? ng : 0;
        } else {
            dec = 0;
        }
    } else {
        dec = ng - 1;
        for (size_t k = 0; k < dec; k++)
            if (sep[k] == sep[dec])
                return -1;
    }
    size_t g = 0;
    for (size_t i = 0; i < n && bl < sizeof(buf) - 1; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            buf[bl++] = s[i];
        } else {
            if (g == dec)
                buf[bl++] = '.';
            g++;
        }
    }
    buf[bl] = '\0';
    *out = strtod(buf, NULL);
    return 0;
}

/* Evaluates a sequence of number-word values ("two hundred twenty" = 2, 100, 20). */
static double nf_eval_words(const double *v, size_t n)
{
    double total = 0, cur = 0;

    for (size_t i = 0; i < n; i++) {
        if (v[i] == 100) {
            cur = (cur == 0 ? 1 : cur) * 100;
        } else if (v[i] >= 1000) {
            total += (cur == 0 ? 1 : cur) * v[i];
            cur = 0;
        } else {
            cur += v[i];
        }
    }
    return total + cur;
}

/* Splits a folded German compound ("zweiundzwanzig") into morphemes. Returns the value or -1. */
static double nf_compound(const struct nf_ctx *ctx, int l, const char *s, size_t n)
{
    double vals[16];
    size_t nv = 0, i = 0;
    int last_und = 0;

    if (ctx->morph[l] == NULL || n < 6)
        return -1;
    while (i < n) {
        const struct nf_morph *best = NULL;
        for (size_t k = 0; k < ctx->n_morph[l]; k++) {
            const struct nf_morph *m = &ctx->morph[l][k];
            if (m->form[0] == s[i] && m->len <= n - i && memcmp(s + i, m->form, m->len) == 0 &&
                (best == NULL || m->len > best->len))
                best = m;
        }
        if (best == NULL || nv >= 16)
            return -1;
        i += best->len;
        if (best->value < 0) {
            if (nv == 0 || last_und)
                return -1;
            last_und = 1;
            continue;
        }
        last_und = 0;
        vals[nv++] = best->value;
    }
    if (nv == 0 || last_und || (nv == 1 && (vals[0] == 100 || vals[0] == 1000)))
        return -1;
    return nf_eval_words(vals, nv);
}

/* Value of one spelled-out number token; *det set when it needs "a"/a number before it. */
static int nf_word_value_uncached(const struct nf_run *r, size_t i, size_t end, double *v, int *det)
{
    const struct nf_lex *x = nf_lex1(r, i, end, M(NF_LEX_NUM));
    const char *s = nf_tf(r, i);
    size_t n = r->t[i].fold_len;

    *det = 0;
    if (r->t[i].kind != TEXT_TOK_WORD)
        return -1;
    if (x != NULL) {
        *v = x->value;
        *det = x->arg == 1;
        return 0;
    }
    for (int l = 0; l < NF_N_LANGS; l++) {
        double c = nf_compound(r->ctx, l, s, n);
        if (c >= 0) {
            *v = c;
            return 0;
        }
    }
    /* "twenty-one": every hyphen part is a number word */
    if (r->t[i].flags & TEXT_F_HYPHENATED) {
        double vals[8];
        size_t nv = 0, a = 0;
        for (size_t b = 0; b <= n; b++) {
            if (b < n && s[b] != '-')
                continue;
            int found = 0;
            for (int l = 0; l < NF_N_LANGS && !found; l++)
                for (const struct nf_lex *e = nf_langs[l]->lex; e->form != NULL; e++)
                    if (e->type == NF_LEX_NUM && strlen(e->form) == b - a &&
                        memcmp(e->form, s + a, b - a) == 0) {
                        if (nv >= 8)
                            return -1;
                        vals[nv++] = e->value;
                        found = 1;
                        break;
                    }
            if (!found)
                return -1;
            a = b + 1;
        }
        if (nv >= 2) {
            *v = nf_eval_words(vals, nv);
            return 0;
        }
    }
    return -1;
}

static int nf_word_value(const struct nf_run *r, size_t i, size_t end, double *v, int *det)
{
    struct vtok *t = &r->t[i];

    if (t->word_state == 0) {
        if (t->kind != TEXT_TOK_WORD || !(t->flags & TEXT_F_HAS_ALPHA)) {
            t->word_state = 3;
        } else {
            int d = 0;
            double x = 0;
            int rc = nf_word_value_uncached(r, i, r->n, &x, &d);
            t->word_state = rc != 0 ? 3 : d ? 2 : 1;
            t->word_value = x;
        }
    }
    (void)end;
    if (t->word_state == 3)
        return -1;
    *v = t->word_value;
    *det = t->word_state == 2;
    return 0;
}

/* Parses the number at token i: digits, fraction "1/2", number words, "a dozen", "eine
 * Million", then scale words. money enables "$5m". Returns 0 and fills *num, or -1. */
static int nf_parse_number(const struct nf_run *r, size_t i, size_t end, int money,
                           struct nf_num *num)
{
    const struct vtok *t = &r->t[i];
    size_t j = i;
    int det;
    double v;

    memset(num, 0, sizeof(*num));
    num->t0 = i;
    if ((nf_is(r, i, ".") || nf_is(r, i, ",")) && i + 1 < end &&
        r->t[i + 1].kind == TEXT_TOK_NUMBER && nf_glued(r, i + 1) &&
        (i == 0 || !nf_glued(r, i) || r->t[i - 1].kind != TEXT_TOK_NUMBER)) {
        char buf[48];
        size_t n = r->t[i + 1].eb - r->t[i + 1].sb;
        if (n > 40)
            return -1;
        buf[0] = '0';
        buf[1] = '.';
        memcpy(buf + 2, r->f->data + r->t[i + 1].sb, n);
        buf[n + 2] = '\0';
        num->v = strtod(buf, NULL);
        j = i + 2;
    } else if (t->kind == TEXT_TOK_NUMBER) {
        const char *s = r->f->data + t->sb;
        if (nf_parse_digits(s, t->eb - t->sb, nf_langs[r->lang]->decimal_comma, &num->v,
                            &num->plain4, &num->dd, &num->dm, &num->dy) != 0)
            return -1;
        num->plain4 = num->plain4 && t->eb - t->sb == 4;
        j = i + 1;
        if (j + 1 < end && nf_is(r, j, "/") && nf_glued(r, j) &&
            r->t[j + 1].kind == TEXT_TOK_NUMBER && nf_glued(r, j + 1)) {
            double den = nf_strtod_n(r->f->data + r->t[j + 1].sb, r->t[j + 1].eb - r->t[j + 1].sb);
            if (den > 0 && num->dd == 0) {
                num->v /= den;
                num->plain4 = 0;
                j += 2;
            }
        }
    } else if (t->kind == TEXT_TOK_WORD && nf_lex1(r, i, end, M(NF_LEX_ART)) != NULL &&
               i + 1 < end) {
        /* "a dozen", "eine Million", "ein Drittel", "a kilogram" */
        num->art = 1;
        num->v = 1;
        j = i + 1;
        if (nf_word_value(r, j, end, &v, &det) == 0) {
            double vals[8];
            size_t nv = 0;
            while (j < end && nv < 8 && nf_word_value(r, j, end, &v, &det) == 0) {
                vals[nv++] = v;
                j++;
            }
            num->v = nf_eval_words(vals, nv);
            num->art = 0;
            num->words = 1;
        }
    } else if (t->kind == TEXT_TOK_WORD && nf_word_value(r, i, end, &v, &det) == 0) {
        double vals[8];
        size_t nv = 0;
        if (det)
            return -1;
        while (j < end && nv < 8) {
            if (nf_word_value(r, j, end, &v, &det) == 0) {
                if (det && v != 100 && v != 1000)
                    break; /* "two dozen": a multiplier, applied below */
                vals[nv++] = v;
                j++;
            } else if (j + 1 < end && (nf_is(r, j, "and") || nf_is(r, j, "und")) &&
                       nf_word_value(r, j + 1, end, &v, &det) == 0 && v < 100) {
                j++;
            } else {
                break;
            }
        }
        num->v = nf_eval_words(vals, nv);
        num->words = 1;
    } else if (t->kind == TEXT_TOK_WORD && i + 1 < end &&
               nf_lex1(r, i, end, M(NF_LEX_FRAC)) != NULL &&
               nf_lex1(r, i, end, M(NF_LEX_FRAC))->value == 0.5) {
        /* "half an hour", "half a day", "half hour": needs a unit after it */
        num->v = 0.5;
        num->art = 1;
        j = i + 1;
        if (nf_lex1(r, j, end, M(NF_LEX_ART)) != NULL)
            j++;
    } else {
        return -1;
    }
    /* "two and a half", "5 and a half" */
    if (j + 2 < end && !num->art && (nf_is(r, j, "and") || nf_is(r, j, "und"))) {
        size_t k = j + 1;
        if (nf_lex1(r, k, end, M(NF_LEX_ART)) != NULL)
            k++;
        const struct nf_lex *x = nf_lex1(r, k, end, M(NF_LEX_FRAC));
        if (x != NULL) {
            num->v += x->value;
            num->plain4 = 0;
            j = k + 1;
        }
    }
    /* "zwei Drittel", "two dozen" */
    if (j < end) {
        const struct nf_lex *x = nf_lex1(r, j, end, M(NF_LEX_FRAC) | M(NF_LEX_NUM));
        if (x != NULL && (x->type == NF_LEX_FRAC || x->arg == 1) &&
            (num->art || num->words || r->t[i].kind == TEXT_TOK_NUMBER)) {
            if (x->type == NF_LEX_FRAC && !(num->art || num->words))
                ; /* "3 quarters" is rare; "2 thirds" too: keep digits out */
            else {
                num->v *= x->value;
                num->art = 0;
                num->words = 1;
                j++;
            }
        }
    }
    num->raw = num->v;
    while (j < end) {
        const struct nf_lex *x = nf_lex1(r, j, end, M(NF_LEX_SCALE));
        if (x == NULL)
            break;
        if ((x->arg & NF_SCALE_GLUED_ONLY) && !nf_glued(r, j))
            break;
        if ((x->arg & NF_SCALE_MONEY_ONLY) && !money &&
            !(nf_glued(r, j) && r->f->data[r->t[j].sb] == 'M'))
            break;
        num->v *= x->value;
        num->scaled = 1;
        num->art = 0;
        num->plain4 = 0;
        j++;
    }
    if (num->scaled && num->words && j < end && nf_word_value(r, j, end, &v, &det) == 0 && !det) {
        double vals[8];
        size_t nv = 0, k = j;
        while (k < end && nv < 8 && nf_word_value(r, k, end, &v, &det) == 0 && !det) {
            vals[nv++] = v;
            k++;
        }
        double rest = nf_eval_words(vals, nv);
        if (rest < num->v / num->raw) {
            num->v += rest;
            j = k;
        }
    }
    num->t1 = j;
    return 0;
}

/* ---- atoms: one quantity with its qualifier, currency and unit ---- */

static int nf_sign_at(const struct nf_run *r, size_t i, size_t end)
{
    if (i + 1 >= end || r->t[i + 1].kind != TEXT_TOK_NUMBER || !nf_glued(r, i + 1))
        return 0;
    if (i > 0 && nf_glued(r, i) && r->t[i - 1].kind != TEXT_TOK_PUNCT &&
        r->t[i - 1].kind != TEXT_TOK_SYMBOL)
        return 0; /* "100-1000": a range dash */
    if (nf_is(r, i, "-") || nf_is(r, i, "\xe2\x88\x92"))
        return -1;
    if (nf_is(r, i, "+"))
        return 1;
    return 0;
}

/* A word that names what a bare number counts, or 0. */
static int nf_nounish(const struct nf_run *r, size_t i, size_t end)
{
    if (i >= end || r->t[i].kind != TEXT_TOK_WORD || !(r->t[i].flags & TEXT_F_HAS_ALPHA))
        return 0;
    if (nf_lex1(r, i, end,
                M(NF_LEX_STOP) | M(NF_LEX_MARK) | M(NF_LEX_QUAL) | M(NF_LEX_YEARCUE) |
                    M(NF_LEX_ART) | M(NF_LEX_REL)) != NULL)
        return 0;
    return 1;
}

static int nf_parse_date(const struct nf_run *r, size_t i, size_t s0, size_t end,
                         struct nf_atom *a);

static int nf_parse_atom(const struct nf_run *r, size_t i, size_t s0, size_t end, struct nf_atom *a)
{
    size_t j = i, n;
    const struct nf_entry *e;
    const struct nf_lex *cur = NULL;
    struct nf_num num;
    int sign = 1;

    memset(a, 0, sizeof(*a));
    a->t0 = i;
    if (nf_parse_date(r, i, s0, end, a) == 0)
        return 0;
    e = nf_match(r, j, end, M(NF_LEX_QUAL), &n);
    if (e != NULL) {
        a->qual = e->lex->arg;
        a->approx = e->lex->value != 0;
        j += n;
    }
    if (j < end && nf_lex1(r, j, end, M(NF_LEX_MARK)) != NULL &&
        nf_lex1(r, j, end, M(NF_LEX_MARK))->arg == NF_M_MINUS) {
        sign = -1;
        j++;
    }
    if (nf_sign_at(r, j, end) != 0) {
        sign = nf_sign_at(r, j, end);
        j++;
    }
    e = nf_match(r, j, end, M(NF_LEX_CUR), &n);
    if (e != NULL && (e->lex->arg & NF_CUR_PREFIX)) {
        cur = e->lex;
        j += n;
        if (nf_sign_at(r, j, end) != 0) {
            sign = nf_sign_at(r, j, end);
            j++;
        }
    }
    if (j >= end || nf_parse_number(r, j, end, cur != NULL, &num) != 0)
        return -1;
    if (num.dd != 0) {
        if (cur != NULL)
            return -1;
        a->kind = NF_K_DATE;
        a->grain = NF_G_DAY;
        a->y = num.dy;
        a->m = num.dm;
        a->d = num.dd;
        a->resolved = 1;
        a->t1 = num.t1;
        return 0;
    }
    a->v = sign * num.v;
    a->raw = sign * num.raw;
    a->scaled = num.scaled;
    a->words = num.words;
    a->plain4 = num.plain4 && sign > 0 && a->qual == NF_Q_EXACT;
    j = num.t1;
    if (cur != NULL) {
        a->kind = NF_K_MONEY;
        a->unit = cur;
        a->inferred = (cur->arg & NF_CUR_INFERRED) != 0;
    } else {
        e = nf_match(r, j, end,
                     M(NF_LEX_UNIT) | M(NF_LEX_CUR) | M(NF_LEX_PCT) | M(NF_LEX_PP) | M(NF_LEX_DUR),
                     &n);
        if (e != NULL && e->lex->type == NF_LEX_CUR && !(e->lex->arg & NF_CUR_SUFFIX))
            e = NULL;
        /* "5 m" after a scale is "5 million", never metres; "5 min" is not "5 m in" */
        if (e != NULL) {
            const struct nf_lex *x = e->lex;
            a->unit = x;
            j += n;
            switch (x->type) {
            case NF_LEX_CUR:
                a->kind = NF_K_MONEY;
                a->inferred = (x->arg & NF_CUR_INFERRED) != 0;
                break;
            case NF_LEX_PCT:
                a->kind = NF_K_PERCENT;
                break;
            case NF_LEX_PP:
                a->kind = NF_K_PP;
                break;
            case NF_LEX_DUR:
                a->kind = NF_K_DURATION;
                break;
            default:
                a->kind = NF_K_MEASURE;
            }
            if (x->type == NF_LEX_CUR || x->type == NF_LEX_PCT || x->type == NF_LEX_PP)
                a->v *= x->value, a->raw *= x->value;
        } else {
            a->kind = NF_K_COUNT;
        }
    }
    int half = num.art && num.v == 0.5; /* "half an hour" */
    if (num.art && a->kind != NF_K_MEASURE && a->kind != NF_K_MONEY && !num.scaled && !num.words &&
        !(half && a->kind == NF_K_DURATION))
        return -1;
    a->t1 = j;
    /* "$4.20 a gallon", "für ein Barrel": a unit after "a" is a rate, unless it stands alone */
    if (num.art && !half && !num.scaled && !num.words && a->t0 == num.t0 &&
        !(a->t0 == s0 && (j == end || (j + 1 == end && r->t[j].kind == TEXT_TOK_PUNCT))))
        return -1;
    if (a->kind == NF_K_COUNT) {
        size_t b = num.t0;
        /* labels: "Seite 5", "Section 427", "Nr. 3" */
        if (b > s0 && a->t0 == b && nf_lex1(r, b - 1, end, M(NF_LEX_LABEL)) != NULL)
            return -1;
        /* times of day "14:30" and phone-like digit runs */
        if (j < end && nf_is(r, j, ":") && j + 1 < end && r->t[j + 1].kind == TEXT_TOK_NUMBER)
            return -1;
        if (b > s0 && nf_is(r, b - 1, ":") && nf_glued(r, b))
            return -1;
        if (j < end && r->t[j].kind == TEXT_TOK_NUMBER)
            return -1;
        if (b > s0 && r->t[b - 1].kind == TEXT_TOK_NUMBER)
            return -1; /* "0800 555 111" */
        /* decades: "die 2000er Jahre", "the 1990s" */
        if (!a->words && j < end && nf_glued(r, j) &&
            (nf_is(r, j, "er") || nf_is(r, j, "s") || nf_is(r, j, "er-jahre") ||
             nf_is(r, j, "er-jahren") || nf_is(r, j, "'s")))
            return -1;
        /* "19th", "125th": an ordinal */
        if (!a->words && j < end && nf_glued(r, j) &&
            (nf_is(r, j, "st") || nf_is(r, j, "nd") || nf_is(r, j, "rd") || nf_is(r, j, "th") ||
             nf_is(r, j, "te") || nf_is(r, j, "ter") || nf_is(r, j, "ten"))) {
            a->kind = NF_K_ORDINAL;
            a->t1 = j + 1;
            return 0;
        }
        /* "17-year-old", "10-Jahres-Plan": the number measures the compound's first word */
        if (!a->words && j + 1 < end && nf_is(r, j, "-") && nf_glued(r, j) && nf_glued(r, j + 1) &&
            r->t[j + 1].kind == TEXT_TOK_WORD) {
            const char *w = nf_tf(r, j + 1);
            const char *h = memchr(w, '-', r->t[j + 1].fold_len);
            size_t wl = h ? (size_t)(h - w) : r->t[j + 1].fold_len;
            const struct nf_lex *u = NULL;
            for (int l = 0; l < NF_N_LANGS && u == NULL; l++)
                for (const struct nf_lex *x = nf_langs[l]->lex; x->form != NULL; x++)
                    if ((x->type == NF_LEX_DUR || x->type == NF_LEX_UNIT) &&
                        strlen(x->form) == wl && memcmp(x->form, w, wl) == 0) {
                        u = x;
                        break;
                    }
            if (u == NULL)
                return -1;
            a->unit = u;
            a->kind = u->type == NF_LEX_DUR ? NF_K_DURATION : NF_K_MEASURE;
            a->t1 = j + 2;
            return 0;
        }
        if (j < end &&
            (nf_is(r, j, "uhr") || nf_is(r, j, "a.m") || nf_is(r, j, "p.m") || nf_is(r, j, "am") ||
             nf_is(r, j, "pm")) &&
            !a->words)
            return -1;
        /* a spelled-out number is a fact only when it counts something, or stands alone */
        int alone = a->t0 == s0 && (j == end || (j + 1 == end && r->t[j].kind == TEXT_TOK_PUNCT));
        if (a->words && !num.scaled && !alone && !nf_nounish(r, j, end))
            return -1;
        if (a->words && !num.scaled && !alone && a->v == 1)
            return -1;
        if (num.art && !alone && !num.scaled)
            return -1;
        /* a German ordinal "der 2. Weltkrieg" */
        if (!a->words && j + 1 < end && nf_is(r, j, ".") && nf_glued(r, j) && r->t[j + 1].sb > 0 &&
            r->lang == 0 && a->v == floor(a->v) && a->v < 1000 &&
            (r->t[j + 1].kind == TEXT_TOK_WORD)) {
            a->kind = NF_K_ORDINAL;
            a->t1 = j + 1;
            return 0;
        }
        if (a->plain4 && a->v >= 1900 && a->v <= 2100 && a->t0 == b) {
            int cue =
                b > s0 && (nf_lex1(r, b - 1, end,
                                   M(NF_LEX_YEARCUE) | M(NF_LEX_MARK) | M(NF_LEX_MONTH)) != NULL);
            /* "2000 Menschen", "2000 people" count; "2017 eröffnet", "2017 Olympics" do not */
            int counted = nf_nounish(r, j, end) &&
                          (r->lang == 0 ? (r->t[j].flags & TEXT_F_UPPER_INITIAL) != 0
                                        : (r->t[j].flags & TEXT_F_UPPER_INITIAL) == 0);
            /* "Act 2017", "Euro 2024": a name's year */
            int named = b > s0 && r->t[b - 1].kind == TEXT_TOK_WORD &&
                        (r->t[b - 1].flags & TEXT_F_UPPER_INITIAL) &&
                        !(r->t[b - 1].flags & TEXT_F_SENT_START);
            if (cue || named || !counted) {
                a->kind = NF_K_YEAR;
                a->grain = NF_G_YEAR;
                a->y = (int)a->v;
                a->m = 1;
                a->d = 1;
                a->resolved = 1;
            }
        }
    }
    return 0;
}

/* Day of month at token k: "9", "9th". Returns the day and sets *next, or 0. */
static int nf_day_at(const struct nf_run *r, size_t k, size_t end, size_t *next)
{
    if (k >= end || r->t[k].kind != TEXT_TOK_NUMBER || r->t[k].eb - r->t[k].sb > 2)
        return 0;
    int d = nf_uint_n(r->f->data + r->t[k].sb, r->t[k].eb - r->t[k].sb);
    if (d < 1 || d > 31)
        return 0;
    *next = k + 1;
    if (k + 1 < end && nf_glued(r, k + 1) &&
        (nf_is(r, k + 1, "st") || nf_is(r, k + 1, "nd") || nf_is(r, k + 1, "rd") ||
         nf_is(r, k + 1, "th")))
        *next = k + 2;
    return d;
}

static int nf_year_at(const struct nf_run *r, size_t k, size_t end)
{
    if (k >= end || r->t[k].kind != TEXT_TOK_NUMBER || r->t[k].eb - r->t[k].sb != 4)
        return 0;
    int y = nf_uint_n(r->f->data + r->t[k].sb, r->t[k].eb - r->t[k].sb);
    return y >= 1800 && y <= 2200 ? y : 0;
}

static int nf_month_at(const struct nf_run *r, size_t k, size_t end)
{
    const struct nf_lex *x = nf_lex1(r, k, end, M(NF_LEX_MONTH));

    if (x == NULL)
        return 0;
    /* English "may", "march" are verbs when lower case */
    if (r->t[k].kind != TEXT_TOK_WORD ||
        (!(r->t[k].flags & TEXT_F_UPPER_INITIAL) &&
         (nf_is(r, k, "may") || nf_is(r, k, "march") || nf_is(r, k, "mar"))))
        return 0;
    return x->arg;
}

/* Dates: "9. August [2023]", "August 9[, 2023]", "9 August", "November 2023",
 * "im vergangenen November", "seit Montag", "gestern", "im dritten Quartal", "Q3 2023". */
static int nf_parse_date(const struct nf_run *r, size_t i, size_t s0, size_t end, struct nf_atom *a)
{
    size_t k = i, nx;
    int d, m, y = 0, rel = 2;
    const struct nf_lex *x;

    a->kind = NF_K_DATE;
    if (r->t[i].kind == TEXT_TOK_NUMBER) {
        const char *p = r->f->data + r->t[i].sb;
        size_t n = r->t[i].eb - r->t[i].sb;
        int dd, dm;
        /* "15.2." and "am 10.10.": day and month with a closing dot */
        if (n >= 3 && n <= 5 && i + 1 < end && nf_is(r, i + 1, ".") && nf_glued(r, i + 1) &&
            nf_day_month_dot(p, n + 1, &dd, &dm) && dd >= 1 && dd <= 31 && dm >= 1 && dm <= 12 &&
            memchr(p, ',', n) == NULL) {
            a->grain = NF_G_DAY;
            a->d = dd;
            a->m = dm;
            k = i + 2;
            if ((a->y = nf_year_at(r, k, end)) != 0)
                k++;
            goto resolve;
        }
        /* "2018-08-31" */
        if (n == 4 && i + 4 < end && nf_is(r, i + 1, "-") && nf_is(r, i + 3, "-") &&
            nf_glued(r, i + 1) && nf_glued(r, i + 2) && nf_glued(r, i + 3) && nf_glued(r, i + 4) &&
            r->t[i + 2].kind == TEXT_TOK_NUMBER && r->t[i + 4].kind == TEXT_TOK_NUMBER &&
            r->t[i + 2].eb - r->t[i + 2].sb <= 2 && r->t[i + 4].eb - r->t[i + 4].sb <= 2) {
            a->y = nf_uint_n(p, n);
            a->m = nf_uint_n(r->f->data + r->t[i + 2].sb, r->t[i + 2].eb - r->t[i + 2].sb);
            a->d = nf_uint_n(r->f->data + r->t[i + 4].sb, r->t[i + 4].eb - r->t[i + 4].sb);
            if (a->m >= 1 && a->m <= 12 && a->d >= 1 && a->d <= 31 && a->y >= 1800) {
                a->grain = NF_G_DAY;
                k = i + 5;
                goto resolve;
            }
            a->y = a->m = a->d = 0;
        }
    }
    /* day first */
    if ((d = nf_day_at(r, i, end, &nx)) != 0) {
        k = nx;
        if (k < end && nf_is(r, k, ".") && nf_glued(r, k))
            k++;
        else if (k < end && nf_is(r, k, "of"))
            k++;
        if ((m = nf_month_at(r, k, end)) != 0) {
            k++;
            if ((y = nf_year_at(r, k, end)) != 0)
                k++;
            a->grain = NF_G_DAY;
            a->d = d;
            a->m = m;
            a->y = y;
            goto resolve;
        }
        /* "3. Quartal" */
        if (k > nx && nf_lex1(r, k, end, M(NF_LEX_QUARTER)) != NULL && d <= 4) {
            m = 3 * (d - 1) + 1;
            k++;
            goto quarter;
        }
        return -1;
    }
    x = nf_lex1(r, i, end, M(NF_LEX_REL));
    if (x != NULL) {
        rel = x->arg;
        k++;
    }
    if ((m = nf_month_at(r, k, end)) != 0) {
        int prev_cue = i > s0 && nf_lex1(r, i - 1, end, M(NF_LEX_MARK) | M(NF_LEX_YEARCUE)) != NULL;
        k++;
        if ((d = nf_day_at(r, k, end, &nx)) != 0 && nf_year_at(r, k, end) == 0) {
            k = nx;
            if (k + 1 < end && nf_is(r, k, ",") && nf_year_at(r, k + 1, end))
                k++;
            if ((y = nf_year_at(r, k, end)) != 0)
                k++;
            a->grain = NF_G_DAY;
            a->d = d;
            a->m = m;
            a->y = y;
            goto resolve;
        }
        if ((y = nf_year_at(r, k, end)) != 0) {
            k++;
        } else if (rel == 2 && !prev_cue) {
            return -1;
        }
        a->grain = NF_G_MONTH;
        a->m = m;
        a->d = 1;
        a->y = y;
        goto resolve;
    }
    if (rel != 2 && (x = nf_lex1(r, k, end, M(NF_LEX_DUR))) != NULL &&
        (strcmp(x->unit, "a") == 0 || strcmp(x->unit, "mo") == 0) && x->value < 4e7) {
        a->t0 = i;
        a->t1 = k + 1;
        if (strcmp(x->unit, "a") == 0) {
            a->kind = NF_K_YEAR;
            a->grain = NF_G_YEAR;
            if (r->has_ref) {
                a->y = r->ry + rel;
                a->m = a->d = 1;
                a->resolved = 1;
            }
        } else {
            a->grain = NF_G_MONTH;
            if (r->has_ref) {
                int mm = r->rm + rel;
                a->y = r->ry + (mm < 1 ? -1 : mm > 12 ? 1 : 0);
                a->m = mm < 1 ? 12 : mm > 12 ? 1 : mm;
                a->d = 1;
                a->resolved = 1;
            }
        }
        return 0;
    }
    if ((x = nf_lex1(r, k, end, M(NF_LEX_WDAY))) != NULL) {
        int prev_cue = i > s0 && nf_lex1(r, i - 1, end, M(NF_LEX_MARK)) != NULL;
        if (rel == 2 && !prev_cue)
            return -1;
        k++;
        a->grain = NF_G_DAY;
        a->t0 = i;
        a->t1 = k;
        if (r->has_ref) {
            int rwd = nf_weekday(r->rdays);
            long day;
            if (rel == 1) {
                int delta = (x->arg - rwd + 7) % 7;
                day = r->rdays + (delta == 0 ? 7 : delta);
            } else {
                int delta = (rwd - x->arg + 7) % 7;
                if (rel == -1 && delta == 0)
                    delta = 7;
                day = r->rdays - delta;
            }
            nf_civil_from_days(day, &a->y, &a->m, &a->d);
            a->resolved = 1;
        }
        return 0;
    }
    if (rel == 2 && (x = nf_lex1(r, i, end, M(NF_LEX_DAYREL))) != NULL) {
        if (r->t[i].flags & TEXT_F_UPPER_INITIAL && x->arg == 1 && r->lang == 0)
            return -1; /* "Morgen" is the morning */
        a->grain = NF_G_DAY;
        a->t1 = i + 1;
        if (r->has_ref) {
            nf_civil_from_days(r->rdays + x->arg, &a->y, &a->m, &a->d);
            a->resolved = 1;
        }
        return 0;
    }
    /* quarters */
    if ((x = nf_lex1(r, k, end, M(NF_LEX_ORD))) != NULL &&
        nf_lex1(r, k + 1, end, M(NF_LEX_QUARTER)) != NULL) {
        m = 3 * (x->arg - 1) + 1;
        k += 2;
        goto quarter;
    }
    if (r->t[i].kind == TEXT_TOK_WORD && r->t[i].fold_len == 2 && nf_tf(r, i)[0] == 'q' &&
        nf_tf(r, i)[1] >= '1' && nf_tf(r, i)[1] <= '4') {
        m = 3 * (nf_tf(r, i)[1] - '1') + 1;
        k = i + 1;
        goto quarter;
    }
    return -1;
quarter:
    if (k < end && nf_is(r, k, "of"))
        k++;
    if ((y = nf_year_at(r, k, end)) != 0)
        k++;
    a->grain = NF_G_QUARTER;
    a->m = m;
    a->d = 1;
    a->y = y;
resolve:
    a->t0 = i;
    a->t1 = k;
    if (a->y != 0) {
        a->resolved = 1;
    } else if (r->has_ref) {
        a->y = nf_year_for_month(r, a->m, rel == 2 ? 0 : rel);
        a->resolved = 1;
    }
    return 0;
}

/* ---- facts ---- */

struct nf_fact {
    size_t t0, t1;
    int form; /* 0 single, 1 range, 2 change */
    struct nf_atom *one, *from, *to, *by;
    int dir;        /* +1, -1, 0 unknown */
    size_t trigger; /* token index + 1 of the change verb, 0 when none */
};

/* Direction of a change verb or noun at token k, or -2 when it is none. */
static int nf_verb_dir_uncached(const struct nf_run *r, size_t k)
{
    if (r->t[k].kind != TEXT_TOK_WORD)
        return -2;
    const char *s = nf_tf(r, k);
    size_t n = r->t[k].fold_len;
    if (n == 0)
        return -2;
    for (int l = 0; l < NF_N_LANGS; l++)
        for (const struct nf_verb *v = nf_langs[l]->verbs; v->stem != NULL; v++) {
            if (v->stem[0] != s[0])
                continue;
            size_t sl = strlen(v->stem);
            if (sl <= n && memcmp(s, v->stem, sl) == 0)
                return v->dir;
        }
    return -2;
}

static int nf_verb_dir(const struct nf_run *r, size_t k)
{
    if (r->t[k].verb == 3)
        r->t[k].verb = (int8_t)nf_verb_dir_uncached(r, k);
    return r->t[k].verb;
}

/* Nearest change verb in the sentence [s0, s1) to tokens [a, b); index + 1 or 0. */
static size_t nf_find_verb(const struct nf_run *r, size_t s0, size_t s1, size_t a, size_t b)
{
    size_t best = 0, best_d = SIZE_MAX;

    for (size_t k = s0; k < s1; k++) {
        if (k >= a && k < b)
            continue;
        if (nf_verb_dir(r, k) == -2)
            continue;
        size_t d = k < a ? a - k : k - b;
        if (d < best_d) {
            best_d = d;
            best = k + 1;
        }
    }
    return best;
}

static int nf_mark_at(const struct nf_run *r, size_t k, size_t end)
{
    const struct nf_lex *x = nf_lex1(r, k, end, M(NF_LEX_MARK));

    return x != NULL ? x->arg : 0;
}

static int nf_numeric(const struct nf_atom *a)
{
    return a->kind <= NF_K_PP || a->kind == NF_K_DURATION;
}

/* Gives b the unit of a where b has none ("zwischen 1 und 5 Millionen Tonnen"). */
static void nf_share_unit(struct nf_atom *dst, const struct nf_atom *src)
{
    if (dst->kind == NF_K_COUNT && src->kind != NF_K_COUNT) {
        dst->kind = src->kind;
        dst->unit = src->unit;
        dst->inferred = src->inferred;
        if (src->unit != NULL && (src->unit->type == NF_LEX_CUR || src->unit->type == NF_LEX_PCT ||
                                  src->unit->type == NF_LEX_PP))
            dst->v *= src->unit->value, dst->raw *= src->unit->value;
    }
    /* "between 1 and 5 million": the scale carries over when the numbers say so */
    if (!dst->scaled && src->scaled && src->raw != 0 && fabs(dst->raw) < fabs(src->raw) &&
        dst->v == dst->raw) {
        dst->v = dst->raw * (src->v / src->raw);
        dst->scaled = 1;
    }
}

/* ---- output ---- */

static json_t *nf_number(double v)
{
    double r = nearbyint(v);

    if (fabs(v - r) <= 1e-9 * fabs(v) && fabs(r) < 9e15)
        return json_integer((json_int_t)r);
    char buf[32];
    snprintf(buf, sizeof(buf), "%.12g", v);
    return json_real(strtod(buf, NULL));
}

static json_t *nf_span_text(const struct nf_run *r, size_t a, size_t b)
{
    return json_stringn(r->f->data + r->t[a].sb, r->t[b - 1].eb - r->t[a].sb);
}

static json_t *nf_bound(const struct nf_atom *a)
{
    json_t *o = json_object();

    json_object_set_new(o, "value", nf_number(a->v));
    json_object_set_new(o, "qualifier", json_string(nf_qual_names[a->qual]));
    return o;
}

/* Subject heuristic: the noun phrase left of the change verb, or left of the quantity. */
static json_t *nf_subject(const struct nf_run *r, size_t s0, size_t anchor)
{
    size_t a = anchor, b = anchor;

    while (a > s0 && anchor - a < NF_SUBJECT_MAX) {
        size_t k = a - 1;
        const struct vtok *t = &r->t[k];
        if (t->kind != TEXT_TOK_WORD || !(t->flags & TEXT_F_HAS_ALPHA))
            break;
        int conn = nf_is(r, k, "der") || nf_is(r, k, "des") || nf_is(r, k, "of") ||
                   nf_is(r, k, "the") || nf_is(r, k, "'s") || nf_is(r, k, "’s") ||
                   (k + 1 < anchor && (nf_is(r, k, "in") || nf_is(r, k, "im") ||
                                       nf_is(r, k, "für") || nf_is(r, k, "for")));
        if (!conn) {
            if (nf_lex1(r, k, r->n,
                        M(NF_LEX_STOP) | M(NF_LEX_MARK) | M(NF_LEX_QUAL) | M(NF_LEX_ART) |
                            M(NF_LEX_YEARCUE)) != NULL)
                break;
            if (nf_verb_dir(r, k) != -2 && nf_langs[r->lang]->decimal_comma == 0)
                break;
            if (r->lang == 0 && !(t->flags & TEXT_F_UPPER_INITIAL))
                break;
        }
        a = k;
    }
    /* trim connectors at both ends and a leading change noun ("Erweiterung der") */
    for (;;) {
        while (a < b &&
               (nf_is(r, a, "der") || nf_is(r, a, "des") || nf_is(r, a, "of") ||
                nf_is(r, a, "the") || nf_is(r, a, "'s") || nf_is(r, a, "’s") || nf_is(r, a, "in") ||
                nf_is(r, a, "im") || nf_is(r, a, "für") || nf_is(r, a, "for")))
            a++;
        if (a + 1 < b && nf_verb_dir(r, a) != -2 && r->t[a].flags & TEXT_F_UPPER_INITIAL &&
            (nf_is(r, a + 1, "der") || nf_is(r, a + 1, "des") || nf_is(r, a + 1, "of"))) {
            a++;
            continue;
        }
        break;
    }
    while (b > a && (nf_is(r, b - 1, "der") || nf_is(r, b - 1, "des") || nf_is(r, b - 1, "of") ||
                     nf_is(r, b - 1, "the")))
        b--;
    if (a >= b)
        return json_null();
    return nf_span_text(r, a, b);
}

/* The counted noun after a count: English plural made singular, German kept. */
static json_t *nf_counted(const struct nf_run *r, size_t j, size_t end)
{
    size_t pick = SIZE_MAX;

    for (size_t k = j; k < end && k < j + 3; k++) {
        if (!nf_nounish(r, k, end))
            break;
        if (r->lang == 0) {
            if (r->t[k].flags & TEXT_F_UPPER_INITIAL) {
                pick = k;
                break;
            }
        } else {
            const char *s = nf_tf(r, k);
            size_t n = r->t[k].fold_len;
            if (pick == SIZE_MAX)
                pick = k;
            if (n > 2 && s[n - 1] == 's' && s[n - 2] != 's') {
                pick = k;
                break;
            }
        }
    }
    if (pick == SIZE_MAX)
        return json_null();
    const char *s = nf_tf(r, pick);
    size_t n = r->t[pick].fold_len;
    if (r->lang == 0)
        return json_stringn(r->f->data + r->t[pick].sb, r->t[pick].eb - r->t[pick].sb);
    char buf[128];
    if (n >= sizeof(buf) - 2)
        return json_null();
    memcpy(buf, s, n);
    if (n > 4 && memcmp(s + n - 3, "ies", 3) == 0) {
        n -= 3;
        buf[n++] = 'y';
    } else if (n > 4 && (memcmp(s + n - 4, "ches", 4) == 0 || memcmp(s + n - 4, "shes", 4) == 0 ||
                         memcmp(s + n - 3, "ses", 3) == 0 || memcmp(s + n - 3, "xes", 3) == 0)) {
        n -= 2;
    } else if (n > 3 && s[n - 1] == 's' && s[n - 2] != 's' && s[n - 2] != 'u' && s[n - 2] != 'i') {
        n -= 1;
    }
    return json_stringn(buf, n);
}

static void nf_date_value(const struct nf_atom *a, char *buf, size_t cap)
{
    if (a->grain == NF_G_YEAR)
        snprintf(buf, cap, "%04d", a->y);
    else if (a->grain == NF_G_MONTH || a->grain == NF_G_QUARTER)
        snprintf(buf, cap, "%04d-%02d", a->y, a->m);
    else
        snprintf(buf, cap, "%04d-%02d-%02d", a->y, a->m, a->d);
}

static int nf_emit(const struct nf_run *r, const struct nf_fact *fc, size_t s0, size_t s1,
                   size_t *next_id, json_t *arr)
{
    const struct nf_atom *main = fc->one != NULL ? fc->one : fc->to != NULL ? fc->to : fc->by;
    const struct nf_atom *first = fc->from != NULL ? fc->from : main;
    json_t *o = json_object();
    const struct vtok *ta = &r->t[fc->t0], *tb = &r->t[fc->t1 - 1];
    const char *unit = NULL, *dim = NULL;

    if (o == NULL)
        return -ENOMEM;
    if (fc->form == 2 && fc->to == NULL && fc->from == NULL)
        main = fc->by;
    if (main->unit != NULL) {
        switch (main->unit->type) {
        case NF_LEX_CUR:
            unit = main->unit->unit;
            dim = "money";
            break;
        case NF_LEX_PCT:
            unit = "%";
            dim = "ratio";
            break;
        case NF_LEX_PP:
            unit = "pp";
            dim = "ratio";
            break;
        default:
            unit = main->unit->unit;
            dim = main->unit->dim;
        }
    } else if (main->kind == NF_K_YEAR || main->kind == NF_K_DATE) {
        dim = "time";
    }
    json_object_set_new(o, "id", json_integer((json_int_t)(*next_id)++));
    json_object_set_new(o, "field", json_string(r->f->name));
    json_object_set_new(o, "start", json_integer(ta->sc));
    json_object_set_new(o, "end", json_integer(tb->ec));
    json_object_set_new(o, "start_byte", json_integer(ta->sb));
    json_object_set_new(o, "end_byte", json_integer(tb->eb));
    json_object_set_new(o, "text", nf_span_text(r, fc->t0, fc->t1));
    json_object_set_new(o, "kind", json_string(nf_kind_names[main->kind]));
    json_object_set_new(o, "form",
                        json_string(fc->form == 0   ? "single"
                                    : fc->form == 1 ? "range"
                                                    : "change"));
    json_object_set_new(o, "dimension", dim ? json_string(dim) : json_null());
    json_object_set_new(o, "unit", unit ? json_string(unit) : json_null());
    if (main->kind == NF_K_MONEY)
        json_object_set_new(o, "unit_inferred", json_boolean(main->inferred));
    if (fc->form == 0) {
        if (main->kind == NF_K_DATE || main->kind == NF_K_YEAR) {
            char buf[32];
            nf_date_value(main, buf, sizeof(buf));
            json_object_set_new(o, "value", main->resolved ? json_string(buf) : json_null());
        } else {
            json_object_set_new(o, "value", nf_number(main->v));
        }
    } else {
        if (fc->from)
            json_object_set_new(o, "from", nf_bound(fc->from));
        if (fc->to)
            json_object_set_new(o, "to", nf_bound(fc->to));
        if (fc->by) {
            json_t *b = nf_bound(fc->by);
            if (fc->by->kind != main->kind && fc->by->unit != NULL)
                json_object_set_new(b, "unit",
                                    json_string(fc->by->unit->type == NF_LEX_PCT ? "%"
                                                : fc->by->unit->type == NF_LEX_PP
                                                    ? "pp"
                                                    : fc->by->unit->unit));
            json_object_set_new(o, "by", b);
        }
    }
    int qual = first->qual, approx = first->approx;
    if (fc->to != NULL && qual == NF_Q_EXACT)
        qual = fc->to->qual;
    if (fc->to != NULL)
        approx = approx || fc->to->approx;
    if (fc->by != NULL && qual == NF_Q_EXACT)
        qual = fc->by->qual, approx = approx || fc->by->approx;
    json_object_set_new(o, "qualifier", json_string(nf_qual_names[qual]));
    json_object_set_new(o, "approx", json_boolean(approx));
    if (fc->form == 2) {
        json_object_set_new(o, "direction",
                            fc->dir > 0   ? json_string("up")
                            : fc->dir < 0 ? json_string("down")
                                          : json_null());
        json_object_set_new(o, "trigger",
                            fc->trigger ? nf_span_text(r, fc->trigger - 1, fc->trigger)
                                        : json_null());
    }
    if (main->kind == NF_K_YEAR || main->kind == NF_K_DATE) {
        json_object_set_new(o, "subject", json_null());
    } else {
        /* German noun phrases are capitalised, so the words left of the quantity will do;
         * otherwise take the phrase left of the change verb */
        json_t *subj = r->lang == 0 ? nf_subject(r, s0, fc->t0) : json_null();
        /* "Die Zahl ... ist auf 832 gestiegen": step over one auxiliary */
        if (json_is_null(subj) && r->lang == 0 && fc->t0 > s0 + 1 &&
            nf_lex1(r, fc->t0 - 1, s1, M(NF_LEX_STOP)) != NULL &&
            !(r->t[fc->t0 - 1].flags & TEXT_F_UPPER_INITIAL)) {
            json_decref(subj);
            subj = nf_subject(r, s0, fc->t0 - 1);
        }
        if (json_is_null(subj) && fc->trigger && fc->trigger - 1 < fc->t0) {
            json_decref(subj);
            subj = nf_subject(r, s0, fc->trigger - 1);
        }
        json_object_set_new(o, "subject", subj);
    }
    json_object_set_new(o, "counted",
                        main->kind == NF_K_COUNT ? nf_counted(r, fc->t1, s1) : json_null());
    if (main->grain != NF_G_NONE)
        json_object_set_new(o, "grain", json_string(nf_grain_names[main->grain]));
    if (main->kind == NF_K_MEASURE && fc->form == 0 && main->unit->si_unit != NULL) {
        if (main->unit->dim != NULL && strcmp(main->unit->dim, "temperature") != 0)
            json_object_set_new(o, "si_value", nf_number(main->v * main->unit->value));
        json_object_set_new(o, "si_unit", json_string(main->unit->si_unit));
    }
    if (json_array_append_new(arr, o) != 0)
        return -ENOMEM;
    return 0;
}

/* Groups the atoms of one sentence into ranges and changes and emits them. */
static int nf_sentence(const struct nf_run *r, size_t s0, size_t s1, struct nf_atom *at, size_t na,
                       size_t *next_id, json_t *arr)
{
    size_t verb_cache = SIZE_MAX;
    int rc;

    for (size_t k = 0; k < na; k++) {
        struct nf_atom *a = &at[k], *b = k + 1 < na ? &at[k + 1] : NULL;
        struct nf_fact fc = {a->t0, a->t1, 0, a, NULL, NULL, NULL, 0, 0};
        int pre = a->t0 > s0 ? nf_mark_at(r, a->t0 - 1, s1) : 0;
        int mid = 0;

        if (!nf_numeric(a)) {
            if ((rc = nf_emit(r, &fc, s0, s1, next_id, arr)) != 0)
                return rc;
            continue;
        }
        if (b != NULL && nf_numeric(b)) {
            if (b->t0 == a->t1 + 1)
                mid = nf_mark_at(r, a->t1, s1);
            else if (b->t0 == a->t1 && b->qual == NF_Q_AT_MOST && nf_is(r, b->t0, "bis"))
                mid = NF_M_UNTIL;
        }
        /* the sentence's change verb, looked for only when a change is possible */
        int may_change = mid != 0 || pre == NF_M_BY || pre == NF_M_TO_CHANGE || pre == NF_M_TO ||
                         (pre == 0 && (a->kind == NF_K_PERCENT || a->kind == NF_K_PP));
        if (verb_cache == SIZE_MAX && may_change)
            verb_cache = nf_find_verb(r, s0, s1, a->t0, a->t0);
        size_t verb = may_change ? verb_cache : 0;
        int has_verb = verb != 0;
        int form = 0;
        struct nf_atom *from = NULL, *to = NULL, *by = NULL;

        if (mid != 0) {
            if ((pre == NF_M_FROM && mid == NF_M_TO_CHANGE) ||
                (pre == NF_M_FROM && mid == NF_M_TO && has_verb)) {
                form = 2, from = a, to = b;
            } else if (pre == NF_M_BY && (mid == NF_M_TO_CHANGE || mid == NF_M_TO)) {
                form = 2, by = a, to = b;
            } else if ((pre == NF_M_BETWEEN && (mid == NF_M_AND || mid == NF_M_DASH)) ||
                       (pre == NF_M_FROM &&
                        (mid == NF_M_UNTIL || mid == NF_M_TO || mid == NF_M_DASH)) ||
                       (pre != NF_M_BY && pre != NF_M_TO_CHANGE && pre != NF_M_TO &&
                        (mid == NF_M_UNTIL || mid == NF_M_DASH || (mid == NF_M_TO && !has_verb)))) {
                form = 1, from = a, to = b;
            } else if (mid == NF_M_TO && has_verb &&
                       ((a->kind == NF_K_PERCENT && b->kind != NF_K_PERCENT) ||
                        (a->kind == NF_K_PP && b->kind != NF_K_PP))) {
                form = 2, by = a, to = b;
            } else if (mid == NF_M_TO_CHANGE || mid == NF_M_TO) {
                form = 2, from = a, to = b;
            }
        }
        if (form == 0 && has_verb) {
            if (pre == NF_M_BY)
                form = 2, by = a;
            else if (pre == 0 && a->t0 > s0 && verb == a->t0 &&
                     (a->kind == NF_K_PERCENT || a->kind == NF_K_PP) &&
                     nf_verb_dir(r, a->t0 - 1) != 0 &&
                     !(r->t[a->t0 - 1].flags & TEXT_F_UPPER_INITIAL))
                form = 2, by = a;
            else if (pre == NF_M_TO_CHANGE || (pre == NF_M_TO && a->t0 > s0))
                form = 2, to = a;
        }
        if (form == 0) {
            if ((rc = nf_emit(r, &fc, s0, s1, next_id, arr)) != 0)
                return rc;
            continue;
        }
        if (from != NULL && to != NULL) {
            nf_share_unit(from, to);
            nf_share_unit(to, from);
        }
        if (by != NULL && to != NULL && by->kind == NF_K_COUNT)
            nf_share_unit(by, to);
        fc.form = form;
        fc.one = NULL;
        fc.from = from;
        fc.to = to;
        fc.by = by;
        fc.t0 = a->t0;
        fc.t1 = (to != NULL ? to : a)->t1;
        if (pre == NF_M_FROM || pre == NF_M_BETWEEN || pre == NF_M_BY || pre == NF_M_TO_CHANGE ||
            pre == NF_M_TO)
            fc.t0 = a->t0 - 1;
        if (form == 2) {
            fc.trigger = verb;
            fc.dir = verb ? nf_verb_dir(r, verb - 1) : 0;
            if (fc.dir == 0 && from != NULL && to != NULL && from->v != to->v)
                fc.dir = to->v > from->v ? 1 : -1;
            if (fc.dir == 0 && by != NULL && by->v < 0)
                fc.dir = -1;
        }
        if ((rc = nf_emit(r, &fc, s0, s1, next_id, arr)) != 0)
            return rc;
        if (to == b && b != NULL)
            k++;
    }
    return 0;
}

/* ---- driver ---- */

/* Bits of the lexicon types whose rows start with the folded word w[0..n). */
static uint32_t nf_types_of(const struct nf_ctx *ctx, const char *w, size_t n, uint32_t *hash)
{
    uint32_t h = nf_hash(w, n), types = 0;

    for (int32_t e = ctx->bucket[h % NF_BUCKETS]; e >= 0; e = ctx->e[e].next)
        if (ctx->e[e].hash == h)
            types |= 1u << ctx->e[e].lex->type;
    *hash = h;
    return types;
}

/* Splits "2.5bn", "10km", "9th" into a number and a word token, and "USD3.14" into a
 * currency and a number. */
static int nf_vtoks(struct nf_run *r)
{
    const struct text_field *f = r->f;
    size_t cap = f->n_tokens * 2 + 1, fcap = f->len * 3 + f->n_tokens * 2 + 16, fl = 0;

    r->t = malloc(cap * sizeof(*r->t));
    r->fold = malloc(fcap);
    if (r->t == NULL || r->fold == NULL)
        return -ENOMEM;
    r->n = 0;
    for (size_t i = 0; i < f->n_tokens; i++) {
        const struct text_token *tk = &f->tokens[i];
        struct vtok v = {tk->start_byte,
                         tk->end_byte,
                         tk->start_cp,
                         tk->end_cp,
                         0,
                         0,
                         0,
                         0,
                         0,
                         tk->flags,
                         tk->kind,
                         3,
                         0};
        const char *s = f->data + tk->start_byte;
        size_t n = tk->end_byte - tk->start_byte;
        size_t split = 0;
        int cur_first = 0;

        if (tk->kind == TEXT_TOK_WORD && n > 0 && s[0] >= '0' && s[0] <= '9') {
            while (split < n && ((s[split] >= '0' && s[split] <= '9') ||
                                 ((s[split] == '.' || s[split] == ',') && split + 1 < n &&
                                  s[split + 1] >= '0' && s[split + 1] <= '9')))
                split++;
        } else if (tk->kind == TEXT_TOK_WORD && n >= 3 && n < 24 && s[n - 1] >= '0' &&
                   s[n - 1] <= '9') {
            size_t p = n;
            char low[8];
            uint32_t h;
            while (p > 0 && s[p - 1] >= '0' && s[p - 1] <= '9')
                p--;
            if (p >= 2 && p <= 3) {
                for (size_t c = 0; c < p; c++)
                    low[c] = (s[c] >= 'A' && s[c] <= 'Z') ? (char)(s[c] - 'A' + 'a') : s[c];
                if (nf_types_of(r->ctx, low, p, &h) & (1u << NF_LEX_CUR)) {
                    split = p;
                    cur_first = 1;
                }
            }
        }
        for (int part = 0; part < 2; part++) {
            struct vtok w = v;
            if (split > 0 && split < n) {
                if (part == 0) {
                    w.eb = w.sb + (uint32_t)split;
                    w.ec = w.sc + (uint32_t)split;
                    w.kind = cur_first ? TEXT_TOK_WORD : TEXT_TOK_NUMBER;
                } else {
                    w.sb += (uint32_t)split;
                    w.sc += (uint32_t)split;
                    w.flags &= (uint16_t) ~(TEXT_F_SPACE_BEFORE | TEXT_F_NEWLINE_BEFORE |
                                            TEXT_F_SENT_START);
                    if (cur_first) {
                        w.kind = TEXT_TOK_NUMBER;
                        /* "USD3" "." "14": the decimals are the next tokens */
                        while (i + 2 < f->n_tokens && f->tokens[i + 1].kind == TEXT_TOK_PUNCT &&
                               (f->data[f->tokens[i + 1].start_byte] == '.' ||
                                f->data[f->tokens[i + 1].start_byte] == ',') &&
                               f->tokens[i + 1].start_byte == w.eb &&
                               f->tokens[i + 2].kind == TEXT_TOK_NUMBER &&
                               f->tokens[i + 2].start_byte == f->tokens[i + 1].end_byte) {
                            w.eb = f->tokens[i + 2].end_byte;
                            w.ec = f->tokens[i + 2].end_cp;
                            i += 2;
                        }
                    }
                }
            } else if (part == 1) {
                break;
            }
            w.fold = (uint32_t)fl;
            if (w.kind != TEXT_TOK_NUMBER) {
                size_t wl = w.eb - w.sb;
                long k = wl < 200 ? nf_fold(f->data + w.sb, wl, r->fold + fl, fcap - fl) : -1;
                if (k < 0)
                    k = 0;
                r->fold[fl + (size_t)k] = '\0';
                /* "Mio." and "ca." match the rows without their dot */
                if (k > 1 && w.kind == TEXT_TOK_WORD && r->fold[fl + (size_t)k - 1] == '.')
                    k--;
                w.fold_len = (uint32_t)k;
                w.types = nf_types_of(r->ctx, r->fold + fl, (size_t)k, &w.hash);
                fl += (size_t)k + 1;
            }
            r->t[r->n++] = w;
        }
    }
    return 0;
}

/* Picks the rule language: the lang stage's choice, else the one whose cue words are frequent. */
static int nf_pick_lang(const struct doc *doc)
{
    int score[NF_N_LANGS] = {0};
    const char *code = doc->lang[0] != '\0' && strcmp(doc->lang, "und") != 0 ? doc->lang
                       : doc->lang_hint != NULL                              ? doc->lang_hint
                                                                             : "";

    for (int l = 0; l < NF_N_LANGS; l++)
        if (strncmp(code, nf_langs[l]->code, 2) == 0)
            return l;
    for (size_t fi = 0; fi < doc->n_fields; fi++) {
        const struct text_field *f = &doc->fields[fi];
        for (size_t i = 0; i < f->n_tokens && i < 400; i++) {
            const struct text_token *t = &f->tokens[i];
            size_t n = t->end_byte - t->start_byte;
            char buf[16];
            if (t->kind != TEXT_TOK_WORD || n >= sizeof(buf))
                continue;
            for (size_t c = 0; c < n; c++) {
                char ch = f->data[t->start_byte + c];
                buf[c] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
            }
            buf[n] = '\0';
            for (int l = 0; l < NF_N_LANGS; l++)
                for (const char *const *q = nf_langs[l]->cues; *q != NULL; q++)
                    if (strcmp(*q, buf) == 0)
                        score[l]++;
        }
    }
    return score[1] > score[0] ? 1 : 0;
}

static int nf_field(struct nf_run *r, size_t *next_id, json_t *arr)
{
    const struct text_field *f = r->f;
    struct nf_atom *at = NULL;
    size_t cap = 0;
    int rc;

    if ((rc = nf_vtoks(r)) != 0)
        return rc;
    /* sentence boundaries on the split tokens: map through the original sentence index */
    size_t s0 = 0;
    while (s0 < r->n) {
        size_t s1 = s0 + 1;
        /* tokens of one original sentence share the sentence number of their source */
        while (s1 < r->n && !(r->t[s1].flags & TEXT_F_SENT_START))
            s1++;
        size_t na = 0;
        for (size_t i = s0; i < s1;) {
            struct nf_atom a;
            /* most tokens start nothing: no lexicon row, not a number */
            if (r->t[i].types == 0 && r->t[i].kind != TEXT_TOK_NUMBER) {
                double v;
                int det;
                const char c = r->f->data[r->t[i].sb];
                int sign_or_dot = c == '.' || c == ',' || c == '+' || c == '-' ||
                                  (unsigned char)c == 0xE2; /* U+2212 minus */
                if ((r->t[i].kind != TEXT_TOK_WORD && !sign_or_dot) ||
                    (r->t[i].kind == TEXT_TOK_WORD && !(r->t[i].flags & TEXT_F_HAS_DIGIT) &&
                     nf_word_value(r, i, s1, &v, &det) != 0)) {
                    i++;
                    continue;
                }
            }
            if (nf_parse_atom(r, i, s0, s1, &a) == 0 && a.t1 > i) {
                if (na == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    struct nf_atom *p = realloc(at, nc * sizeof(*at));
                    if (p == NULL) {
                        free(at);
                        return -ENOMEM;
                    }
                    at = p;
                    cap = nc;
                }
                at[na++] = a;
                i = a.t1;
            } else {
                i++;
            }
        }
        if (na > 0 && (rc = nf_sentence(r, s0, s1, at, na, next_id, arr)) != 0) {
            free(at);
            return rc;
        }
        s0 = s1;
    }
    (void)f;
    free(at);
    return 0;
}

static int nf_process(void *vctx, struct doc *doc, struct errbuf *err)
{
    const struct nf_ctx *ctx = vctx;
    json_t *arr = json_array();
    size_t next_id = 0;
    int lang = nf_pick_lang(doc), rc = 0;
    int has_ref = 0, ry = 0, rm = 0, rd = 0;

    if (arr == NULL)
        return errbuf_set(err, -ENOMEM, "numfacts: out of memory");
    if (doc->published_at != NULL && sscanf(doc->published_at, "%4d-%2d-%2d", &ry, &rm, &rd) == 3 &&
        rm >= 1 && rm <= 12 && rd >= 1 && rd <= 31)
        has_ref = 1;
    for (size_t fi = 0; fi < doc->n_fields && rc == 0; fi++) {
        struct nf_run r = {ctx, &doc->fields[fi], NULL, 0, NULL, lang, has_ref, ry, rm, rd, 0};
        if (has_ref)
            r.rdays = nf_days_from_civil(ry, rm, rd);
        rc = nf_field(&r, &next_id, arr);
        free(r.t);
        free(r.fold);
    }
    if (rc != 0) {
        json_decref(arr);
        return errbuf_set(err, rc, "numfacts: out of memory");
    }
    rc = doc_set_result(doc, "numeric_facts", arr);
    if (rc != 0)
        return errbuf_set(err, rc, "numfacts: out of memory");
    return 0;
}

const struct stage_ops numfacts_stage_ops = {
    .name = "numfacts",
    .init = nf_init,
    .process = nf_process,
    .fini = nf_fini,
};
