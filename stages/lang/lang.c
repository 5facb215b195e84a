/* lang: language identification from script votes and hashed character n-gram and word costs. */
#include "stages/lang/lang.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#define LANG_MAGIC "ELID"
#define LANG_VERSION 3u
#define LANG_MAX_LANGS 96
#define LANG_MAX_GROUPS 8
#define LANG_GROUP_MAX_MEMBERS 64
#define LANG_KINDS 6        /* unigram, bigram, trigram, quadrigram, word, word edge */
#define LANG_SCALE 8.0      /* model cost units per nat (tools/lang/train_lang.py SCALE) */
#define LANG_TABLE_SLACK 64 /* readable bytes after every table (lang_sum_rows) */
#define LANG_MAX_WORD 60    /* letters of a word that are scored (keeps a word's sum in 16 bits) */
#ifndef LANG_STOP_MIN_WORDS
#define LANG_STOP_MIN_WORDS 24 /* early stop: at least this many words read ... */
#endif
#ifndef LANG_STOP_MARGIN
#define LANG_STOP_MARGIN 480u /* ... and the runner-up this many cost units behind (60 nats) */
#endif
#ifndef LANG_SCRIPT_SAMPLE
#define LANG_SCRIPT_SAMPLE 512 /* letters sampled for the script vote */
#endif
#define LANG_MAX_FIELDS 8 /* fields read (a document has a title and a text) */
#ifndef LANG_CHUNK_BYTES
#define LANG_CHUNK_BYTES 240 /* first chunk tokenized of an untokenized field ... */
#endif
#ifndef LANG_CHUNK_MAX
#define LANG_CHUNK_MAX 4096 /* ... doubling up to at most this */
#endif
#define LANG_CJK_VOTE 4    /* script votes of a Han or kana character ... */
#define LANG_HANGUL_VOTE 2 /* ... and of a Hangul syllable (a letter has one) */
#ifndef LANG_UND_CONF
#define LANG_UND_CONF 0.3 /* a single word below this confidence is und */
#endif
#ifndef LANG_EDGE_WEIGHT
#define LANG_EDGE_WEIGHT 1 /* times a word-edge cost counts */
#endif
#ifndef LANG_WORD_WEIGHT
#define LANG_WORD_WEIGHT 3 /* times a whole-word cost counts */
#endif
#ifndef LANG_PRIOR_BONUS
#define LANG_PRIOR_BONUS 64u /* cost units (8 nats) granted to a hinted language */
#endif

enum lang_script_id {
    LS_OTHER = 0,
    LS_LATN,
    LS_CYRL,
    LS_ARAB,
    LS_DEVA,
    LS_GREK,
    LS_HEBR,
    LS_ARMN,
    LS_GEOR,
    LS_HANG,
    LS_KANA,
    LS_HANI,
    LS_THAI,
    LS_BENG,
    LS_GUJR,
    LS_GURU,
    LS_TAML,
    LS_TELU,
    LS_N
};

static const char *const lang_script_names[LS_N] = {"Zyyy", "Latn", "Cyrl", "Arab", "Deva", "Grek",
                                                    "Hebr", "Armn", "Geor", "Hang", "Jpan", "Hani",
                                                    "Thai", "Beng", "Gujr", "Guru", "Taml", "Telu"};

struct lang_group {
    char script[5];
    uint32_t n;                              /* member languages */
    uint8_t members[LANG_GROUP_MAX_MEMBERS]; /* indices into the language table */
    uint32_t mask[LANG_KINDS];               /* bucket count - 1 */
    const uint8_t *table[LANG_KINDS];        /* borrowed from the mapping: buckets x n costs */
};

struct lang_model {
    void *map;
    size_t size;
    uint32_t n_langs;
    uint32_t n_groups;
    char code[LANG_MAX_LANGS][5];
    char script[LANG_MAX_LANGS][5];
    uint8_t group[LANG_MAX_LANGS];    /* 255: a language with a script of its own */
    const char *name[LANG_MAX_LANGS]; /* English name (the code when unknown) */
    uint16_t bias[LANG_MAX_LANGS];    /* cost units every text starts with (a prior) */
    int group_of_script[LS_N];        /* group index of a script, or -1 */
    struct lang_group groups[LANG_MAX_GROUPS];
};

static const char *const lang_names[][2] = {
    {"af", "Afrikaans"},
    {"ar", "Arabic"},
    {"az", "Azerbaijani"},
    {"be", "Belarusian"},
    {"bg", "Bulgarian"},
    {"bn", "Bengali"},
    {"bs", "Bosnian"},
    {"ca", "Catalan"},
    {"cs", "Czech"},
    {"cy", "Welsh"},
    {"da", "Danish"},
    {"de", "German"},
    {"el", "Greek"},
    {"en", "English"},
    {"eo", "Esperanto"},
    {"es", "Spanish"},
    {"et", "Estonian"},
    {"eu", "Basque"},
    {"fa", "Persian"},
    {"fi", "Finnish"},
    {"fr", "French"},
    {"ga", "Irish"},
    {"gu", "Gujarati"},
    {"he", "Hebrew"},
    {"hi", "Hindi"},
    {"hr", "Croatian"},
    {"hu", "Hungarian"},
    {"hy", "Armenian"},
    {"id", "Indonesian"},
    {"is", "Icelandic"},
    {"it", "Italian"},
    {"ja", "Japanese"},
    {"ka", "Georgian"},
    {"kk", "Kazakh"},
    {"ko", "Korean"},
    {"la", "Latin"},
    {"lg", "Ganda"},
    {"lt", "Lithuanian"},
    {"lv", "Latvian"},
    {"mi", "Maori"},
    {"mk", "Macedonian"},
    {"mn", "Mongolian"},
    {"mr", "Marathi"},
    {"ms", "Malay"},
    {"nb", "Norwegian Bokmal"},
    {"nl", "Dutch"},
    {"nn", "Norwegian Nynorsk"},
    {"pa", "Punjabi"},
    {"pl", "Polish"},
    {"pt", "Portuguese"},
    {"ro", "Romanian"},
    {"ru", "Russian"},
    {"sk", "Slovak"},
    {"sl", "Slovenian"},
    {"sn", "Shona"},
    {"so", "Somali"},
    {"sq", "Albanian"},
    {"sr", "Serbian"},
    {"st", "Sotho"},
    {"sv", "Swedish"},
    {"sw", "Swahili"},
    {"ta", "Tamil"},
    {"te", "Telugu"},
    {"th", "Thai"},
    {"tl", "Tagalog"},
    {"tn", "Tswana"},
    {"tr", "Turkish"},
    {"ts", "Tsonga"},
    {"uk", "Ukrainian"},
    {"ur", "Urdu"},
    {"vi", "Vietnamese"},
    {"xh", "Xhosa"},
    {"yo", "Yoruba"},
    {"zh", "Chinese"},
    {"zu", "Zulu"},
};

const char *lang_name(const char *code)
{
    for (size_t i = 0; i < sizeof lang_names / sizeof lang_names[0]; i++)
        if (strcmp(lang_names[i][0], code) == 0)
            return lang_names[i][1];
    return NULL;
}

static uint32_t lang_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void lang_copy_tag(char dst[5], const uint8_t *src)
{
    memcpy(dst, src, 4);
    dst[4] = '\0';
}

static int lang_model_parse(struct lang_model *m, struct errbuf *err)
{
    const uint8_t *p = m->map;
    size_t need = 20;

    if (m->size < need || memcmp(p, LANG_MAGIC, 4) != 0)
        return errbuf_set(err, -EINVAL, "not a language model (bad magic)");
    if (lang_u32(p + 4) != LANG_VERSION)
        return errbuf_set(err, -EINVAL, "language model version %u, expected %u", lang_u32(p + 4),
                          LANG_VERSION);
    m->n_langs = lang_u32(p + 8);
    m->n_groups = lang_u32(p + 12);
    if (m->n_langs == 0 || m->n_langs > LANG_MAX_LANGS || m->n_groups > LANG_MAX_GROUPS ||
        lang_u32(p + 16) != LANG_KINDS)
        return errbuf_set(err, -EINVAL, "language model header out of range");
    need += (size_t)m->n_langs * 12 +
            (size_t)m->n_groups * (8 + LANG_GROUP_MAX_MEMBERS + 8 * LANG_KINDS);
    if (m->size < need)
        return errbuf_set(err, -EINVAL, "language model truncated");
    p += 20;
    for (uint32_t i = 0; i < m->n_langs; i++, p += 12) {
        lang_copy_tag(m->code[i], p);
        lang_copy_tag(m->script[i], p + 4);
        m->group[i] = p[8];
        m->bias[i] = (uint16_t)(p[10] | p[11] << 8);
        if (p[8] != 255 && p[8] >= m->n_groups)
            return errbuf_set(err, -EINVAL, "language %s: bad group %u", m->code[i], p[8]);
    }
    for (uint32_t g = 0; g < m->n_groups; g++) {
        struct lang_group *gr = &m->groups[g];

        lang_copy_tag(gr->script, p);
        gr->n = lang_u32(p + 4);
        if (gr->n == 0 || gr->n > LANG_GROUP_MAX_MEMBERS)
            return errbuf_set(err, -EINVAL, "group %s: bad size %u", gr->script, gr->n);
        memcpy(gr->members, p + 8, LANG_GROUP_MAX_MEMBERS);
        for (uint32_t j = 0; j < gr->n; j++)
            if (gr->members[j] >= m->n_langs)
                return errbuf_set(err, -EINVAL, "group %s: bad member", gr->script);
        p += 8 + LANG_GROUP_MAX_MEMBERS;
        for (int k = 0; k < LANG_KINDS; k++, p += 8) {
            uint32_t lg = lang_u32(p), off = lang_u32(p + 4);

            if (lg > 24 || off > m->size ||
                (((size_t)1 << lg) * gr->n) + LANG_TABLE_SLACK > m->size - off)
                return errbuf_set(err, -EINVAL, "group %s: table %d out of bounds", gr->script, k);
            gr->mask[k] = (1u << lg) - 1;
            gr->table[k] = (const uint8_t *)m->map + off;
        }
    }
    for (uint32_t i = 0; i < m->n_langs; i++)
        m->name[i] = lang_name(m->code[i]) != NULL ? lang_name(m->code[i]) : m->code[i];
    for (int s = 0; s < LS_N; s++) {
        m->group_of_script[s] = -1;
        for (uint32_t g = 0; g < m->n_groups; g++)
            if (strcmp(m->groups[g].script, lang_script_names[s]) == 0)
                m->group_of_script[s] = (int)g;
    }
    return 0;
}

int lang_model_load(struct lang_model **model, const char *path, struct errbuf *err)
{
    struct lang_model *m;
    struct stat st;
    int fd, rc;

    *model = NULL;
    m = calloc(1, sizeof *m);
    if (m == NULL)
        return errbuf_set(err, -ENOMEM, "out of memory");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        free(m);
        return errbuf_set(err, rc, "%s: %s", path, strerror(-rc));
    }
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        rc = errno != 0 ? -errno : -EINVAL;
        close(fd);
        free(m);
        return errbuf_set(err, rc, "%s: cannot stat or empty", path);
    }
    m->size = (size_t)st.st_size;
    m->map = mmap(NULL, m->size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (m->map == MAP_FAILED) {
        rc = -errno;
        free(m);
        return errbuf_set(err, rc, "%s: mmap: %s", path, strerror(-rc));
    }
    rc = lang_model_parse(m, err);
    if (rc != 0) {
        lang_model_free(m);
        return rc;
    }
    *model = m;
    return 0;
}

void lang_model_free(struct lang_model *model)
{
    if (model == NULL)
        return;
    if (model->map != NULL && model->map != MAP_FAILED)
        munmap(model->map, model->size);
    free(model);
}

size_t lang_model_n_langs(const struct lang_model *model)
{
    return model->n_langs;
}

const char *lang_model_code(const struct lang_model *model, size_t i)
{
    return i < model->n_langs ? model->code[i] : NULL;
}

/* Index of the language with this code (and script, unless NULL), or -1. */
static int lang_model_find(const struct lang_model *m, const char *code, const char *script)
{
    for (uint32_t i = 0; i < m->n_langs; i++)
        if (strcmp(m->code[i], code) == 0 && (script == NULL || strcmp(m->script[i], script) == 0))
            return (int)i;
    return -1;
}

static int lang_model_find_script(const struct lang_model *m, const char *script)
{
    for (uint32_t i = 0; i < m->n_langs; i++)
        if (m->group[i] == 255 && strcmp(m->script[i], script) == 0)
            return (int)i;
    return -1;
}

/* Script of a letter; the ranges match script_of() in tools/lang/train_lang.py. */
static enum lang_script_id lang_script(int32_t cp)
{
    if (cp < 0x80)
        return ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') ? LS_LATN : LS_OTHER;
    if (cp <= 0x2af || (cp >= 0x1e00 && cp <= 0x1eff)) /* to IPA Extensions: Azerbaijani schwa */
        return LS_LATN;
    if ((cp >= 0x370 && cp <= 0x3ff) || (cp >= 0x1f00 && cp <= 0x1fff))
        return LS_GREK;
    if (cp >= 0x400 && cp <= 0x52f)
        return LS_CYRL;
    if (cp >= 0x530 && cp <= 0x58f)
        return LS_ARMN;
    if (cp >= 0x590 && cp <= 0x5ff)
        return LS_HEBR;
    if ((cp >= 0x600 && cp <= 0x6ff) || (cp >= 0x750 && cp <= 0x77f) ||
        (cp >= 0xfb50 && cp <= 0xfeff))
        return LS_ARAB;
    if (cp >= 0x900 && cp <= 0x97f)
        return LS_DEVA;
    if (cp >= 0x980 && cp <= 0x9ff)
        return LS_BENG;
    if (cp >= 0xa00 && cp <= 0xa7f)
        return LS_GURU;
    if (cp >= 0xa80 && cp <= 0xaff)
        return LS_GUJR;
    if (cp >= 0xb80 && cp <= 0xbff)
        return LS_TAML;
    if (cp >= 0xc00 && cp <= 0xc7f)
        return LS_TELU;
    if (cp >= 0xe00 && cp <= 0xe7f)
        return LS_THAI;
    if ((cp >= 0x10a0 && cp <= 0x10ff) || (cp >= 0x1c90 && cp <= 0x1cbf))
        return LS_GEOR;
    if ((cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0x3130 && cp <= 0x318f) ||
        (cp >= 0xac00 && cp <= 0xd7af))
        return LS_HANG;
    if ((cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x31f0 && cp <= 0x31ff) ||
        (cp >= 0xff66 && cp <= 0xff9f))
        return LS_KANA;
    if ((cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
        (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x20000 && cp <= 0x2ffff))
        return LS_HANI;
    return LS_OTHER;
}

/* Category of cp, from the text layer's table (cat) when it is there. */
static inline utf8proc_category_t lang_category(const uint8_t *cat, int32_t cp)
{
    return cp < TEXT_FAST_CP ? (utf8proc_category_t)cat[cp] : utf8proc_category(cp);
}

static int lang_is_letter(const uint8_t *cat, int32_t cp)
{
    utf8proc_category_t c;

    if (cp < 0x80)
        return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    c = lang_category(cat, cp);

    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_ME;
}

static int lang_is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\t';
}

/* Whether the white-space-delimited chunk d[s..e) is a URL, e-mail or file path. */
static int lang_is_link(const char *d, size_t s, size_t e)
{
    int colon = 0, at = 0;

    for (size_t i = s; i < e; i++) {
        colon |= d[i] == ':';
        at |= d[i] == '@';
    }
    return at || (colon && memmem(d + s, e - s, "://", 3) != NULL) ||
           (e - s > 4 && (d[s] | 0x20) == 'w' && (d[s + 1] | 0x20) == 'w' &&
            (d[s + 2] | 0x20) == 'w' && d[s + 3] == '.');
}

/* Whether the white-space-delimited chunk around token t is a URL, e-mail or file path. */
static int lang_chunk_is_link(const struct text_field *f, const struct text_token *t,
                              size_t *chunk_end, int *verdict)
{
    const char *d = f->data;
    size_t s = t->start_byte, e;

    if (t->start_byte < *chunk_end)
        return *verdict;
    while (s > 0 && !lang_is_space(d[s - 1]))
        s--;
    for (e = s; e < f->len && !lang_is_space(d[e]); e++)
        ;
    *chunk_end = e;
    *verdict = lang_is_link(d, s, e);
    return *verdict;
}

/* Whether field f may hold a link at all (an '@', "://" or "www."), so that most fields skip
 * the check per token. */
static int lang_field_has_links(const struct text_field *f)
{
    const char *d = f->data, *p = d, *end = d + f->len;

    if (memchr(d, '@', f->len) != NULL ||
        (memchr(d, ':', f->len) != NULL && memmem(d, f->len, "://", 3) != NULL))
        return 1;
    while ((p = memchr(p, '.', (size_t)(end - p))) != NULL) {
        if (p - d >= 3 && (p[-1] | 0x20) == 'w' && (p[-2] | 0x20) == 'w' && (p[-3] | 0x20) == 'w')
            return 1;
        p++;
    }
    return 0;
}

/* The words of one field that the detector reads, in order, links left out: the field's
 * tokens, or, for a field built without them (text_field_init_untokenized), those of a
 * text_chunker, tokenized only as far as they are read, so that an early stop also spares
 * the tokenizer. */
struct lang_words {
    const struct text_field *f;
    const struct text_token *tokens; /* the field's, or the chunker's so far */
    size_t n_tokens, i;              /* tokens available; the next one to look at */
    size_t chunk_end, want;          /* link check: end of the last chunk judged; next chunk size */
    int chunked, links, verdict; /* reading through ch; the field may hold links; last verdict */
    int failed;                  /* -ENOMEM from the chunker, else 0 */
    struct text_chunker ch;
};

static void lang_words_open(struct lang_words *w, const struct text_field *f)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    w->links = lang_field_has_links(f);
    w->tokens = f->tokens;
    w->n_tokens = f->n_tokens;
    if (f->n_cp == 0 && f->len > 0) { /* untokenized (a tokenized field counts its code points) */
        w->chunked = 1;
        w->want = LANG_CHUNK_BYTES;
        text_chunker_init(&w->ch, f->data, f->len);
    }
}

/* Back to the first word (the tokens read so far are kept). */
static void lang_words_rewind(struct lang_words *w)
{
    w->i = w->chunk_end = 0;
    w->verdict = 0;
}

/* The next word, or NULL at the end of the field, or when the chunker runs out of memory
 * (w->failed is then -ENOMEM). */
static const struct text_token *lang_words_next(struct lang_words *w)
{
    for (;;) {
        const struct text_token *t;

        if (w->i == w->n_tokens) {
            int rc = w->chunked && !w->failed ? text_chunker_next(&w->ch, w->want) : 0;

            if (rc <= 0) {
                w->failed = rc;
                return NULL;
            }
            w->tokens = w->ch.tokens;
            w->n_tokens = w->ch.n_tokens;
            w->want = 2 * w->want < LANG_CHUNK_MAX ? 2 * w->want : LANG_CHUNK_MAX;
            continue;
        }
        t = &w->tokens[w->i++];
        if (t->kind == TEXT_TOK_WORD &&
            !(w->links && lang_chunk_is_link(w->f, t, &w->chunk_end, &w->verdict)))
            return t;
    }
}

static void lang_words_close(struct lang_words *w)
{
    if (w->chunked)
        text_chunker_fini(&w->ch);
}

typedef uint8_t lang_v16u8 __attribute__((vector_size(16)));
typedef uint16_t lang_v16u16 __attribute__((vector_size(32)));

/* acc[q] = the sum over the rows of row[16q .. 16q + 15], for q < k (a constant where this
 * is inlined, so that the sums stay in registers): sixteen languages per vector step (one
 * AVX2 instruction, or two SSE2 ones). The last step may reach past a row into the next one
 * (every table has LANG_TABLE_SLACK readable bytes after it); lanes from the group size on
 * are never read. */
static inline __attribute__((always_inline)) void
lang_sum_rows(lang_v16u16 *restrict acc, const uint8_t *const *rows, size_t nr, uint32_t k)
{
    lang_v16u16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};

    for (size_t r = 0; r < nr; r++) {
        lang_v16u8 b;

        memcpy(&b, rows[r], sizeof b);
        a0 += __builtin_convertvector(b, lang_v16u16);
        if (k > 1) {
            memcpy(&b, rows[r] + 16, sizeof b);
            a1 += __builtin_convertvector(b, lang_v16u16);
        }
        if (k > 2) {
            memcpy(&b, rows[r] + 32, sizeof b);
            a2 += __builtin_convertvector(b, lang_v16u16);
        }
        if (k > 3) {
            memcpy(&b, rows[r] + 48, sizeof b);
            a3 += __builtin_convertvector(b, lang_v16u16);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* Scratch of one detection. */
struct lang_scan {
    size_t script_letters[LS_N];
    size_t letters;
};

/* text_next_cp with the ASCII case inline. */
static inline int32_t lang_next_cp(const char *s, size_t len, size_t *i)
{
    const uint8_t *u = (const uint8_t *)s + *i;

    if (u[0] < 0x80) {
        (*i)++;
        return u[0];
    }
    if (u[0] >= 0xc2 && u[0] <= 0xdf && len - *i >= 2 && (u[1] & 0xc0) == 0x80) {
        *i += 2;
        return (int32_t)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
    }
    return text_next_cp(s, len, i);
}

/* Counts letters per script over the first LANG_SCRIPT_SAMPLE letters, outside links. It
 * reads the text itself, not the tokens: every letter lies in a word token, so the count is
 * the same, and a field without tokens needs none for it. */
static void lang_count_scripts(const uint8_t *cat, const struct lang_words *ws, size_t n_fields,
                               struct lang_scan *sc)
{
    for (size_t fi = 0; fi < n_fields; fi++) {
        const char *d = ws[fi].f->data;
        size_t len = ws[fi].f->len, i = 0;

        while (i < len) {
            int32_t cp;

            if (ws[fi].links && !lang_is_space(d[i]) && (i == 0 || lang_is_space(d[i - 1]))) {
                size_t e = i;

                while (e < len && !lang_is_space(d[e]))
                    e++;
                if (lang_is_link(d, i, e)) {
                    i = e;
                    continue;
                }
            }
            cp = lang_next_cp(d, len, &i);
            if (!lang_is_letter(cat, cp))
                continue;
            sc->script_letters[lang_script(cp)]++;
            if (++sc->letters >= LANG_SCRIPT_SAMPLE)
                return;
        }
    }
}

/* Cyrillic letter a Latin look-alike stands for in Cyrillic text ("Лaбуристичкa" with a Latin
 * a), or 0. */
static int32_t lang_cyrillic_twin(int32_t cp)
{
    static const char latin[] = "aeopcxyjik";
    static const int32_t cyr[] = {0x430, 0x435, 0x43e, 0x440, 0x441,
                                  0x445, 0x443, 0x458, 0x456, 0x43a};
    const char *at = cp > 0 && cp < 0x80 ? strchr(latin, (int)cp) : NULL;

    return at != NULL ? cyr[at - latin] : 0;
}

/* Whether case folding cp is its simple lower-case mapping: ASCII, Latin-1 to Latin
 * Extended-B and Cyrillic, except the letters whose folding differs (sharp s, dotted I, ...),
 * and most of Arabic and Devanagari (no case, NFC-stable). */
static int lang_simple_fold(int32_t cp)
{
    if (cp < 0x80)
        return 1;
    /* Arabic and Devanagari have no case; NFC leaves them alone except the marks that
     * compose or reorder (hamza and madda above, harakat, nukta, stress signs) and the
     * nukta letters it decomposes. */
    if (cp >= 0x600 && cp <= 0x6ff)
        return !(cp >= 0x610 && cp <= 0x61a) && !(cp >= 0x64b && cp <= 0x65f) && cp != 0x670 &&
               !(cp >= 0x6d6 && cp <= 0x6ed);
    if (cp >= 0x900 && cp <= 0x97f)
        return cp != 0x93c && !(cp >= 0x951 && cp <= 0x954) && !(cp >= 0x958 && cp <= 0x95f);
    if ((cp < 0xc0 || cp > 0x24f) && (cp < 0x400 || cp > 0x52f))
        return 0;
    return cp != 0xdf && cp != 0x130 && cp != 0x149 && cp != 0x17f && cp != 0x1f0;
}

/* One word as the model sees it: folded, letters and marks of the text's script only. */
struct lang_word {
    int32_t kept[LANG_MAX_WORD];     /* the letters (no marks), as in the lingua tables */
    int32_t word[2 * LANG_MAX_WORD]; /* letters and marks */
    size_t m, n_cp;                  /* letters; letters and marks */
};

/* Fills *lw from the word w, case-folded exactly like text_fold (code point by code point
 * while every one folds to its simple lower case, else the whole word through utf8proc).
 * Returns its letters (0 when it has none, or letters of another script). */
static size_t lang_word_form(const uint8_t *ctab, enum lang_script_id script, const char *w,
                             size_t wlen, struct lang_word *lw)
{
    char folded[4 * LANG_MAX_WORD + 64];
    const char *src = w;
    size_t len, m = 0, i = 0, n_cp = 0;
    int fold = 1;

    if (wlen > 4 * LANG_MAX_WORD)
        wlen = 4 * LANG_MAX_WORD;
    len = wlen;
    while (i < len && m < LANG_MAX_WORD && n_cp < 2 * LANG_MAX_WORD) {
        int32_t cp = lang_next_cp(src, len, &i);
        utf8proc_category_t cat;
        enum lang_script_id s;

        if (fold && cp >= 0x80) {
            if (!lang_simple_fold(cp)) {
                long flen = text_fold(w, wlen, folded, sizeof folded);

                if (flen <= 0)
                    return 0;
                src = folded;
                len = (size_t)flen;
                i = m = n_cp = 0;
                fold = 0;
                continue;
            }
            if (cp < 0x530)
                cp = utf8proc_tolower(cp);
        } else if (fold && cp >= 'A' && cp <= 'Z') {
            cp += 'a' - 'A';
        }
        cat = cp < 0x80 ? ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z' ? UTF8PROC_CATEGORY_LL
                                                                    : UTF8PROC_CATEGORY_CN)
                        : lang_category(ctab, cp);
        if (cat < UTF8PROC_CATEGORY_LU || cat > UTF8PROC_CATEGORY_ME)
            continue;
        s = lang_script(cp);
        if (s != script && s == LS_LATN && script == LS_CYRL && lang_cyrillic_twin(cp) != 0) {
            cp = lang_cyrillic_twin(cp);
            s = LS_CYRL;
        }
        if (s == LS_OTHER && cat <= UTF8PROC_CATEGORY_LO)
            continue;
        if (s != script && s != LS_OTHER)
            return 0;
        lw->word[n_cp++] = cp;
        if (cat <= UTF8PROC_CATEGORY_LO)
            lw->kept[m++] = cp;
    }
    lw->m = m;
    lw->n_cp = n_cp;
    return m;
}

/* Feature hashes: FNV-1a over code points, then a seed (the feature kind) mixed in. Same as
 * hash_cps() in tools/lang/train_lang.py. */
#define LANG_FNV_BASIS 2166136261u
#define LANG_FNV_PRIME 16777619u

static inline uint32_t lang_fnv_step(uint32_t h, int32_t cp)
{
    return (h ^ (uint32_t)cp) * LANG_FNV_PRIME;
}

static inline uint32_t lang_fnv_final(uint32_t h, uint32_t seed)
{
    h ^= seed * 0x9e3779b1u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}

/* Costs one word's n-grams (over its letters, as in the lingua tables), the word itself
 * (letters and marks) and its edges (first and last 1-3 code points with a boundary mark)
 * for all languages of group g. Returns the number of letters and marks scored (0 when the
 * word has letters of another script). */
__attribute__((target_clones("avx2", "default"))) static size_t
lang_score_word(const uint8_t *ctab, const struct lang_group *g, enum lang_script_id script,
                const char *w, size_t wlen, uint32_t *cost)
{
    struct lang_word lw;
    const uint8_t *rows[4 * LANG_MAX_WORD + LANG_WORD_WEIGHT + 6 * LANG_EDGE_WEIGHT];
    lang_v16u16 acc[LANG_GROUP_MAX_MEMBERS / 16]; /* at most 255 x 250 rows: fits */
    size_t m, n_cp, nr = 0, n = g->n;
    uint32_t h;

    m = lang_word_form(ctab, script, w, wlen, &lw);
    if (m == 0)
        return 0;
    n_cp = lw.n_cp;
    /* Hash everything first and prefetch the rows, so that the cache misses overlap. The
     * n-grams that start at one letter share their hash prefix. */
    for (size_t a = 0; a < m; a++) {
        h = LANG_FNV_BASIS;
        for (uint32_t k = 1; k <= 4 && a + k <= m; k++) {
            h = lang_fnv_step(h, lw.kept[a + k - 1]);
            rows[nr++] = g->table[k - 1] + (size_t)(lang_fnv_final(h, k) & g->mask[k - 1]) * n;
        }
    }
    h = LANG_FNV_BASIS;
    for (size_t k = 0; k < n_cp; k++)
        h = lang_fnv_step(h, lw.word[k]);
    for (int r = 0; r < LANG_WORD_WEIGHT; r++)
        rows[nr++] = g->table[4] + (size_t)(lang_fnv_final(h, 5) & g->mask[4]) * n;
    h = lang_fnv_step(LANG_FNV_BASIS, '^');
    for (size_t k = 1; k <= 3 && k <= n_cp; k++) {
        uint32_t t = LANG_FNV_BASIS;

        h = lang_fnv_step(h, lw.word[k - 1]);
        for (size_t q = n_cp - k; q < n_cp; q++)
            t = lang_fnv_step(t, lw.word[q]);
        t = lang_fnv_step(t, '$');
        for (int r = 0; r < LANG_EDGE_WEIGHT; r++) {
            rows[nr++] = g->table[5] + (size_t)(lang_fnv_final(h, 6) & g->mask[5]) * n;
            rows[nr++] = g->table[5] + (size_t)(lang_fnv_final(t, 6) & g->mask[5]) * n;
        }
    }
    for (size_t r = 0; r < nr; r++) {
        __builtin_prefetch(rows[r]);
        __builtin_prefetch(rows[r] + n - 1);
    }
    if (n <= 16)
        lang_sum_rows(acc, rows, nr, 1);
    else if (n <= 32)
        lang_sum_rows(acc, rows, nr, 2);
    else if (n <= 48)
        lang_sum_rows(acc, rows, nr, 3);
    else
        lang_sum_rows(acc, rows, nr, 4);
    for (uint32_t j = 0; j < n; j++)
        cost[j] += acc[j / 16][j % 16];
    return n_cp;
}

static void lang_set_und(struct lang_result *out)
{
    out->code = "und";
    out->name = "Undetermined";
    out->script = "Zyyy";
    out->confidence = 0.0;
}

static void lang_set_single(const struct lang_model *m, int li, double conf,
                            struct lang_result *out)
{
    out->code = m->code[li];
    out->name = m->name[li];
    out->script = m->script[li];
    out->confidence = conf;
    out->candidates[0].code = m->code[li];
    out->candidates[0].confidence = conf;
    out->n_candidates = 1;
}

/* Ranks the group's languages by cost and turns cost gaps into confidences. */
static void lang_rank(const struct lang_model *m, const struct lang_group *g, const uint32_t *cost,
                      size_t n_feats, struct lang_result *out)
{
    uint32_t best[LANG_MAX_CANDIDATES];
    int idx[LANG_MAX_CANDIDATES];
    size_t nb = 0;
    double tau = 0.5 * sqrt((double)(n_feats > 4 ? n_feats : 4)), z = 0.0;

    for (uint32_t j = 0; j < g->n; j++) {
        size_t pos = nb;

        while (pos > 0 && cost[j] < best[pos - 1])
            pos--;
        if (pos >= LANG_MAX_CANDIDATES)
            continue;
        if (nb < LANG_MAX_CANDIDATES)
            nb++;
        for (size_t q = nb - 1; q > pos; q--) {
            best[q] = best[q - 1];
            idx[q] = idx[q - 1];
        }
        best[pos] = cost[j];
        idx[pos] = (int)j;
    }
    for (uint32_t j = 0; j < g->n; j++) {
        double d = ((double)(cost[j] - best[0]) / LANG_SCALE) / tau;

        if (d < 20.0) /* exp(-20) adds nothing that shows */
            z += exp(-d);
    }
    for (size_t q = 0; q < nb; q++) {
        out->candidates[q].code = m->code[g->members[idx[q]]];
        out->candidates[q].confidence = exp(-((double)(best[q] - best[0]) / LANG_SCALE) / tau) / z;
    }
    out->n_candidates = nb;
    {
        int li = g->members[idx[0]];
        out->code = m->code[li];
        out->name = m->name[li];
        out->script = m->script[li];
        out->confidence = out->candidates[0].confidence;
    }
}

static void lang_decide(const struct lang_model *model, struct lang_words *ws, size_t n_fields,
                        const char *hint, enum lang_hint_mode mode, struct lang_result *out)
{
    struct lang_scan sc = {0};
    enum lang_script_id script = LS_OTHER;
    size_t top = 0, cjk, votes = 0, n_words = 0, n_feats = 0;
    uint32_t cost[LANG_GROUP_MAX_MEMBERS] = {0};
    const struct lang_group *g = NULL;
    int hint_li = -1, stop = 0;
    const uint8_t *ctab = text_category_table();

    memset(out, 0, sizeof *out);
    lang_set_und(out);
    if (hint != NULL && mode != LANG_HINT_IGNORE)
        hint_li = lang_model_find(model, hint, NULL);
    lang_count_scripts(ctab, ws, n_fields, &sc);
    /* A Han or kana character carries about a word, a Hangul syllable two or three letters:
     * "Tom是想着去安慰Mary的" is Chinese. */
    cjk = LANG_CJK_VOTE * (sc.script_letters[LS_HANI] + sc.script_letters[LS_KANA]);
    for (int s = LS_OTHER; s < LS_N; s++)
        votes += s == LS_HANI || s == LS_KANA ? LANG_CJK_VOTE * sc.script_letters[s]
                 : s == LS_HANG               ? LANG_HANGUL_VOTE * sc.script_letters[s]
                                              : sc.script_letters[s];
    for (int s = LS_LATN; s < LS_N; s++) {
        size_t c = (s == LS_HANI || s == LS_KANA) ? cjk
                   : s == LS_HANG                 ? LANG_HANGUL_VOTE * sc.script_letters[s]
                                                  : sc.script_letters[s];

        if (c > top) {
            top = c;
            script = (enum lang_script_id)s;
        }
    }
    if (script == LS_HANI || script == LS_KANA)
        script =
            sc.script_letters[LS_KANA] > 0 && LANG_CJK_VOTE * sc.script_letters[LS_KANA] * 20 >= cjk
                ? LS_KANA
                : LS_HANI;
    if (hint_li >= 0 && mode == LANG_HINT_TRUST) {
        /* a language written in two scripts (Serbian): the entry of the text's script */
        int li = lang_model_find(model, hint, lang_script_names[script]);

        lang_set_single(model, li >= 0 ? li : hint_li, 1.0, out);
        return;
    }
    if (sc.letters == 0 || script == LS_OTHER)
        return;
    if (model->group_of_script[script] >= 0)
        g = &model->groups[model->group_of_script[script]];
    if (g == NULL) {
        int li = lang_model_find_script(model, lang_script_names[script]);
        double conf = (double)top / (double)votes;

        if (li >= 0)
            lang_set_single(model, li, conf > 0.99 ? 0.99 : conf, out);
        out->n_letters = sc.letters;
        return;
    }
    for (size_t fi = 0; fi < n_fields && !stop; fi++) {
        const struct text_token *t;

        lang_words_rewind(&ws[fi]);
        while (!stop && (t = lang_words_next(&ws[fi])) != NULL) {
            size_t m =
                lang_score_word(ctab, g, script, text_tok_ptr(ws[fi].f, t), text_tok_len(t), cost);

            if (m == 0)
                continue;
            n_words++;
            out->n_letters += m;
            n_feats += (m < 4 ? m * (m + 1) / 2 : 4 * m - 6) + 1;
            if (n_words >= LANG_STOP_MIN_WORDS && (n_words & 7) == 0) {
                uint32_t b1 = UINT32_MAX, b2 = UINT32_MAX;

                for (uint32_t j = 0; j < g->n; j++) {
                    if (cost[j] < b1) {
                        b2 = b1;
                        b1 = cost[j];
                    } else if (cost[j] < b2) {
                        b2 = cost[j];
                    }
                }
                stop = b2 - b1 > LANG_STOP_MARGIN;
            }
        }
    }
    if (n_words == 0)
        return;
    for (uint32_t j = 0; j < g->n; j++)
        cost[j] += model->bias[g->members[j]];
    if (hint != NULL && mode == LANG_HINT_PRIOR) {
        for (uint32_t j = 0; j < g->n; j++)
            if (strcmp(model->code[g->members[j]], hint) == 0)
                cost[j] = cost[j] > LANG_PRIOR_BONUS ? cost[j] - LANG_PRIOR_BONUS : 0;
    }
    lang_rank(model, g, cost, n_feats, out);
    /* A single word is guessed however short it is, unless no language stands out. */
    if (n_words == 1 && out->confidence < LANG_UND_CONF)
        lang_set_und(out);
}

int lang_detect(const struct lang_model *model, const struct text_field *fields, size_t n_fields,
                const char *hint, enum lang_hint_mode mode, struct lang_result *out)
{
    struct lang_words ws[LANG_MAX_FIELDS];
    int rc = 0;

    if (n_fields > LANG_MAX_FIELDS)
        n_fields = LANG_MAX_FIELDS;
    for (size_t fi = 0; fi < n_fields; fi++)
        lang_words_open(&ws[fi], &fields[fi]);
    lang_decide(model, ws, n_fields, hint, mode, out);
    for (size_t fi = 0; fi < n_fields; fi++) {
        if (ws[fi].failed != 0)
            rc = ws[fi].failed;
        lang_words_close(&ws[fi]);
    }
    if (rc != 0) { /* no decision: it would rest on part of what should have been read */
        memset(out, 0, sizeof *out);
        lang_set_und(out);
    }
    return rc;
}
