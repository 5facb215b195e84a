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
#define LANG_VERSION 2u
#define LANG_MAX_LANGS 96
#define LANG_MAX_GROUPS 8
#define LANG_GROUP_MAX_MEMBERS 64
#define LANG_KINDS 6           /* unigram, bigram, trigram, quadrigram, word, word edge */
#define LANG_SCALE 8.0         /* model cost units per nat (tools/lang/train_lang.py SCALE) */
#define LANG_MAX_WORD 60       /* letters of a word that are scored (keeps a word's sum in 16 bits) */
#ifndef LANG_STOP_MIN_WORDS
#define LANG_STOP_MIN_WORDS 24 /* early stop: at least this many words read ... */
#endif
#ifndef LANG_STOP_MARGIN
#define LANG_STOP_MARGIN 480u  /* ... and the runner-up this many cost units behind (60 nats) */
#endif
#ifndef LANG_SCRIPT_SAMPLE
#define LANG_SCRIPT_SAMPLE 512 /* letters sampled for the script vote */
#endif
#ifndef LANG_UND_CONF
#define LANG_UND_CONF 0.3      /* a single word below this confidence is und */
#endif
#ifndef LANG_EDGE_WEIGHT
#define LANG_EDGE_WEIGHT 1       /* times a word-edge cost counts */
#endif
#ifndef LANG_WORD_WEIGHT
#define LANG_WORD_WEIGHT 3       /* times a whole-word cost counts */
#endif
#ifndef LANG_PRIOR_BONUS
#define LANG_PRIOR_BONUS 64u   /* cost units (8 nats) granted to a hinted language */
#endif

enum lang_script_id {
    LS_OTHER = 0, LS_LATN, LS_CYRL, LS_ARAB, LS_DEVA, LS_GREK, LS_HEBR, LS_ARMN, LS_GEOR,
    LS_HANG, LS_KANA, LS_HANI, LS_THAI, LS_BENG, LS_GUJR, LS_GURU, LS_TAML, LS_TELU, LS_N
};

static const char *const lang_script_names[LS_N] = {
    "Zyyy", "Latn", "Cyrl", "Arab", "Deva", "Grek", "Hebr", "Armn", "Geor",
    "Hang", "Jpan", "Hani", "Thai", "Beng", "Gujr", "Guru", "Taml", "Telu"};

struct lang_group {
    char script[5];
    uint32_t n;                                 /* member languages */
    uint8_t members[LANG_GROUP_MAX_MEMBERS];    /* indices into the language table */
    uint32_t mask[LANG_KINDS];                  /* bucket count - 1 */
    const uint8_t *table[LANG_KINDS];           /* borrowed from the mapping: buckets x n costs */
};

struct lang_model {
    void *map;
    size_t size;
    uint32_t n_langs;
    uint32_t n_groups;
    char code[LANG_MAX_LANGS][5];
    char script[LANG_MAX_LANGS][5];
    uint8_t group[LANG_MAX_LANGS];              /* 255: a language with a script of its own */
    struct lang_group groups[LANG_MAX_GROUPS];
};

static const char *const lang_names[][2] = {
    {"af", "Afrikaans"}, {"ar", "Arabic"}, {"az", "Azerbaijani"}, {"be", "Belarusian"},
    {"bg", "Bulgarian"}, {"bn", "Bengali"}, {"bs", "Bosnian"}, {"ca", "Catalan"},
    {"cs", "Czech"}, {"cy", "Welsh"}, {"da", "Danish"}, {"de", "German"}, {"el", "Greek"},
    {"en", "English"}, {"eo", "Esperanto"}, {"es", "Spanish"}, {"et", "Estonian"},
    {"eu", "Basque"}, {"fa", "Persian"}, {"fi", "Finnish"}, {"fr", "French"}, {"ga", "Irish"},
    {"gu", "Gujarati"}, {"he", "Hebrew"}, {"hi", "Hindi"}, {"hr", "Croatian"},
    {"hu", "Hungarian"}, {"hy", "Armenian"}, {"id", "Indonesian"}, {"is", "Icelandic"},
    {"it", "Italian"}, {"ja", "Japanese"}, {"ka", "Georgian"}, {"kk", "Kazakh"},
    {"ko", "Korean"}, {"la", "Latin"}, {"lg", "Ganda"}, {"lt", "Lithuanian"}, {"lv", "Latvian"},
    {"mi", "Maori"}, {"mk", "Macedonian"}, {"mn", "Mongolian"}, {"mr", "Marathi"},
    {"ms", "Malay"}, {"nb", "Norwegian Bokmal"}, {"nl", "Dutch"}, {"nn", "Norwegian Nynorsk"},
    {"pa", "Punjabi"}, {"pl", "Polish"}, {"pt", "Portuguese"}, {"ro", "Romanian"},
    {"ru", "Russian"}, {"sk", "Slovak"}, {"sl", "Slovenian"}, {"sn", "Shona"}, {"so", "Somali"},
    {"sq", "Albanian"}, {"sr", "Serbian"}, {"st", "Sotho"}, {"sv", "Swedish"}, {"sw", "Swahili"},
    {"ta", "Tamil"}, {"te", "Telugu"}, {"th", "Thai"}, {"tl", "Tagalog"}, {"tn", "Tswana"},
    {"tr", "Turkish"}, {"ts", "Tsonga"}, {"uk", "Ukrainian"}, {"ur", "Urdu"},
    {"vi", "Vietnamese"}, {"xh", "Xhosa"}, {"yo", "Yoruba"}, {"zh", "Chinese"}, {"zu", "Zulu"},
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
        return errbuf_set(err, -EINVAL, "language model version %u, expected %u",
                          lang_u32(p + 4), LANG_VERSION);
    m->n_langs = lang_u32(p + 8);
    m->n_groups = lang_u32(p + 12);
    if (m->n_langs == 0 || m->n_langs > LANG_MAX_LANGS || m->n_groups > LANG_MAX_GROUPS ||
        lang_u32(p + 16) != LANG_KINDS)
        return errbuf_set(err, -EINVAL, "language model header out of range");
    need += (size_t)m->n_langs * 12 + (size_t)m->n_groups * (8 + LANG_GROUP_MAX_MEMBERS + 8 * LANG_KINDS);
    if (m->size < need)
        return errbuf_set(err, -EINVAL, "language model truncated");
    p += 20;
    for (uint32_t i = 0; i < m->n_langs; i++, p += 12) {
        lang_copy_tag(m->code[i], p);
        lang_copy_tag(m->script[i], p + 4);
        m->group[i] = p[8];
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

            if (lg > 24 || off > m->size || (((size_t)1 << lg) * gr->n) > m->size - off)
                return errbuf_set(err, -EINVAL, "group %s: table %d out of bounds", gr->script, k);
            gr->mask[k] = (1u << lg) - 1;
            gr->table[k] = (const uint8_t *)m->map + off;
        }
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

static int lang_model_find(const struct lang_model *m, const char *code)
{
    for (uint32_t i = 0; i < m->n_langs; i++)
        if (strcmp(m->code[i], code) == 0)
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
    if (cp <= 0x24f || (cp >= 0x1e00 && cp <= 0x1eff))
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

static int lang_is_letter(int32_t cp)
{
    utf8proc_category_t c;

    if (cp < 0x80)
        return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    c = utf8proc_category(cp);

    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_ME;
}

/* Whether the white-space-delimited chunk around token t is a URL, e-mail or file path. */
static int lang_chunk_is_link(const struct text_field *f, const struct text_token *t, size_t *chunk_end,
                              int *verdict)
{
    size_t s = t->start_byte, e = t->end_byte;

    if (t->start_byte < *chunk_end)
        return *verdict;
    while (s > 0 && f->data[s - 1] != ' ' && f->data[s - 1] != '\n' && f->data[s - 1] != '\t' &&
           t->start_byte - s < 512)
        s--;
    while (e < f->len && f->data[e] != ' ' && f->data[e] != '\n' && f->data[e] != '\t')
        e++;
    *chunk_end = e;
    *verdict = (memchr(f->data + s, ':', e - s) != NULL && memmem(f->data + s, e - s, "://", 3) != NULL) ||
               (e - s > 4 && strncasecmp(f->data + s, "www.", 4) == 0) ||
               memchr(f->data + s, '@', e - s) != NULL;
    return *verdict;
}

static uint32_t lang_hash(const char *s, size_t len, uint32_t seed)
{
    uint32_t h = 2166136261u ^ seed;

    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

typedef uint8_t lang_v8u8 __attribute__((vector_size(8)));
typedef uint16_t lang_v8u16 __attribute__((vector_size(16)));

/* acc[j] += row[j] for j < n, eight languages at a time (GCC vector extensions). */
static void lang_add_row(lang_v8u16 *restrict acc, const uint8_t *restrict row, uint32_t n)
{
    uint32_t j = 0;

    for (; j + 8 <= n; j += 8) {
        lang_v8u8 b;

        memcpy(&b, row + j, sizeof b);
        acc[j / 8] += __builtin_convertvector(b, lang_v8u16);
    }
    for (; j < n; j++)
        acc[j / 8][j % 8] = (uint16_t)(acc[j / 8][j % 8] + row[j]);
}

/* Scratch of one detection. */
struct lang_scan {
    size_t script_letters[LS_N];
    size_t letters;
};

/* text_next_cp with the ASCII case inline. */
static inline int32_t lang_next_cp(const char *s, size_t len, size_t *i)
{
    if ((uint8_t)s[*i] < 0x80)
        return (int32_t)(uint8_t)s[(*i)++];
    return text_next_cp(s, len, i);
}

/* Counts letters per script over the first LANG_SCRIPT_SAMPLE letters. */
static void lang_count_scripts(const struct text_field *fields, size_t n_fields, struct lang_scan *sc)
{
    for (size_t fi = 0; fi < n_fields; fi++) {
        const struct text_field *f = &fields[fi];
        size_t chunk_end = 0;
        int verdict = 0;

        for (size_t ti = 0; ti < f->n_tokens; ti++) {
            const struct text_token *t = &f->tokens[ti];
            size_t i = t->start_byte;

            if (t->kind != TEXT_TOK_WORD || lang_chunk_is_link(f, t, &chunk_end, &verdict))
                continue;
            while (i < t->end_byte) {
                int32_t cp = lang_next_cp(f->data, t->end_byte, &i);

                if (!lang_is_letter(cp))
                    continue;
                sc->script_letters[lang_script(cp)]++;
                if (++sc->letters >= LANG_SCRIPT_SAMPLE)
                    return;
            }
        }
    }
}

/* Cyrillic letter a Latin look-alike stands for in Cyrillic text ("Лaбуристичкa" with a Latin
 * a), or 0. */
static int32_t lang_cyrillic_twin(int32_t cp)
{
    static const char latin[] = "aeopcxyjik";
    static const int32_t cyr[] = {0x430, 0x435, 0x43e, 0x440, 0x441, 0x445, 0x443, 0x458, 0x456, 0x43a};
    const char *at = cp > 0 && cp < 0x80 ? strchr(latin, (int)cp) : NULL;

    return at != NULL ? cyr[at - latin] : 0;
}

static size_t lang_put_cp(char *out, int32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Whether case folding cp is its simple lower-case mapping: ASCII, Latin-1 to Latin
 * Extended-B and Cyrillic, except the letters whose folding differs (sharp s, dotted I, ...). */
static int lang_simple_fold(int32_t cp)
{
    if (cp < 0x80)
        return 1;
    if ((cp < 0xc0 || cp > 0x24f) && (cp < 0x400 || cp > 0x52f))
        return 0;
    return cp != 0xdf && cp != 0x130 && cp != 0x149 && cp != 0x17f && cp != 0x1f0;
}

/* Case-folds a word exactly like text_fold, without its allocation when every letter folds
 * to its simple lower case (valid UTF-8 assumed, as for text_fold). */
static long lang_fold(const char *w, size_t len, char *out, size_t cap)
{
    size_t i = 0, o = 0;

    if (len + 1 > cap)
        return text_fold(w, len, out, cap);
    while (i < len) {
        int32_t cp = lang_next_cp(w, len, &i);

        if (cp < 0 || !lang_simple_fold(cp))
            return text_fold(w, len, out, cap);
        o += lang_put_cp(out + o, cp < 0x80 ? ((cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp)
                                            : utf8proc_tolower(cp));
    }
    out[o] = '\0';
    return (long)o;
}

/* Costs one word's n-grams (over its letters, as in the lingua tables) and the word itself
 * (letters and marks) for all languages of group g. Returns the number of letters and marks scored (0 when
 * the word has letters of another script). */
static size_t lang_score_word(const struct lang_group *g, enum lang_script_id script,
                              const char *w, size_t wlen, uint32_t *cost)
{
    char folded[4 * LANG_MAX_WORD + 64], kept[4 * LANG_MAX_WORD + 8], word[8 * LANG_MAX_WORD + 8];
    uint16_t off[LANG_MAX_WORD + 1], woff[2 * LANG_MAX_WORD + 1];
    const uint8_t *rows[4 * LANG_MAX_WORD + LANG_WORD_WEIGHT + 6 * LANG_EDGE_WEIGHT];
    lang_v8u16 acc[LANG_GROUP_MAX_MEMBERS / 8] = {{0}};  /* at most 255 x 250 rows: fits */
    size_t m = 0, klen = 0, wl = 0, i = 0, n_cp = 0, nr = 0;
    long flen;

    if (wlen > 4 * LANG_MAX_WORD)
        wlen = 4 * LANG_MAX_WORD;
    flen = lang_fold(w, wlen, folded, sizeof folded);
    if (flen <= 0)
        return 0;
    while (i < (size_t)flen && m < LANG_MAX_WORD && n_cp < 2 * LANG_MAX_WORD) {
        int32_t cp = lang_next_cp(folded, (size_t)flen, &i);
        utf8proc_category_t cat;
        enum lang_script_id s;
        size_t n;

        if (cp < 0)
            break;
        cat = cp < 0x80 ? ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z' ? UTF8PROC_CATEGORY_LL
                                                                     : UTF8PROC_CATEGORY_CN)
                        : utf8proc_category(cp);
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
        woff[n_cp++] = (uint16_t)wl;
        n = lang_put_cp(word + wl, cp);
        wl += n;
        if (cat > UTF8PROC_CATEGORY_LO)
            continue;
        off[m++] = (uint16_t)klen;
        memcpy(kept + klen, word + wl - n, n);
        klen += n;
    }
    if (m == 0)
        return 0;
    off[m] = (uint16_t)klen;
    /* Hash everything first and prefetch the rows, so that the cache misses overlap. */
    for (uint32_t k = 1; k <= 4 && k <= m; k++) {
        const uint8_t *tab = g->table[k - 1];

        for (size_t a = 0; a + k <= m; a++) {
            uint32_t h = lang_hash(kept + off[a], (size_t)(off[a + k] - off[a]), k) & g->mask[k - 1];

            rows[nr++] = tab + (size_t)h * g->n;
        }
    }
    for (int r = 0; r < LANG_WORD_WEIGHT; r++)
        rows[nr++] = g->table[4] + (size_t)(lang_hash(word, wl, 5) & g->mask[4]) * g->n;
    woff[n_cp] = (uint16_t)wl;
    for (size_t k = 1; k <= 3 && k <= n_cp; k++) {
        char edge[4 * 3 + 2];
        size_t plen = woff[k], slen = wl - woff[n_cp - k];

        edge[0] = '^';
        memcpy(edge + 1, word, plen);
        for (int r = 0; r < LANG_EDGE_WEIGHT; r++)
            rows[nr++] = g->table[5] + (size_t)(lang_hash(edge, plen + 1, 6) & g->mask[5]) * g->n;
        memcpy(edge, word + woff[n_cp - k], slen);
        edge[slen] = '$';
        for (int r = 0; r < LANG_EDGE_WEIGHT; r++)
            rows[nr++] = g->table[5] + (size_t)(lang_hash(edge, slen + 1, 6) & g->mask[5]) * g->n;
    }
    for (size_t r = 0; r < nr; r++) {
        __builtin_prefetch(rows[r]);
        __builtin_prefetch(rows[r] + g->n - 1);
    }
    for (size_t r = 0; r < nr; r++)
        lang_add_row(acc, rows[r], g->n);
    for (uint32_t j = 0; j < g->n; j++)
        cost[j] += acc[j / 8][j % 8];
    return n_cp;
}

static void lang_set_und(struct lang_result *out)
{
    out->code = "und";
    out->name = "Undetermined";
    out->script = "Zyyy";
    out->confidence = 0.0;
}

static void lang_set_single(const struct lang_model *m, int li, double conf, struct lang_result *out)
{
    const char *name = lang_name(m->code[li]);

    out->code = m->code[li];
    out->name = name != NULL ? name : m->code[li];
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

        if (d < 40.0)  /* exp(-40) adds nothing */
            z += exp(-d);
    }
    for (size_t q = 0; q < nb; q++) {
        out->candidates[q].code = m->code[g->members[idx[q]]];
        out->candidates[q].confidence = exp(-((double)(best[q] - best[0]) / LANG_SCALE) / tau) / z;
    }
    out->n_candidates = nb;
    {
        int li = g->members[idx[0]];
        const char *name = lang_name(m->code[li]);

        out->code = m->code[li];
        out->name = name != NULL ? name : m->code[li];
        out->script = m->script[li];
        out->confidence = out->candidates[0].confidence;
    }
}

void lang_detect(const struct lang_model *model, const struct text_field *fields, size_t n_fields,
                 const char *hint, enum lang_hint_mode mode, struct lang_result *out)
{
    struct lang_scan sc = {0};
    enum lang_script_id script = LS_OTHER;
    size_t top = 0, cjk, n_words = 0, n_feats = 0;
    uint32_t cost[LANG_GROUP_MAX_MEMBERS] = {0};
    const struct lang_group *g = NULL;
    int hint_li = -1, stop = 0;

    memset(out, 0, sizeof *out);
    lang_set_und(out);
    if (hint != NULL && mode != LANG_HINT_IGNORE)
        hint_li = lang_model_find(model, hint);
    if (hint_li >= 0 && mode == LANG_HINT_TRUST) {
        lang_set_single(model, hint_li, 1.0, out);
        return;
    }
    lang_count_scripts(fields, n_fields, &sc);
    if (sc.letters == 0)
        return;
    cjk = sc.script_letters[LS_HANI] + sc.script_letters[LS_KANA];
    for (int s = LS_LATN; s < LS_N; s++) {
        size_t c = (s == LS_HANI || s == LS_KANA) ? cjk : sc.script_letters[s];

        if (c > top) {
            top = c;
            script = (enum lang_script_id)s;
        }
    }
    if (script == LS_OTHER)
        return;
    if (script == LS_HANI || script == LS_KANA)
        script = sc.script_letters[LS_KANA] > 0 && sc.script_letters[LS_KANA] * 20 >= cjk ? LS_KANA
                                                                                          : LS_HANI;
    for (uint32_t gi = 0; gi < model->n_groups; gi++)
        if (strcmp(model->groups[gi].script, lang_script_names[script]) == 0)
            g = &model->groups[gi];
    if (g == NULL) {
        int li = lang_model_find_script(model, lang_script_names[script]);
        double conf = (double)top / (double)sc.letters;

        if (li >= 0)
            lang_set_single(model, li, conf > 0.99 ? 0.99 : conf, out);
        out->n_letters = sc.letters;
        return;
    }
    for (size_t fi = 0; fi < n_fields && !stop; fi++) {
        const struct text_field *f = &fields[fi];
        size_t chunk_end = 0;
        int verdict = 0;

        for (size_t ti = 0; ti < f->n_tokens && !stop; ti++) {
            const struct text_token *t = &f->tokens[ti];
            size_t m;

            if (t->kind != TEXT_TOK_WORD || lang_chunk_is_link(f, t, &chunk_end, &verdict))
                continue;
            m = lang_score_word(g, script, text_tok_ptr(f, t), text_tok_len(t), cost);
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
    if (hint_li >= 0 && model->group[hint_li] != 255 &&
        &model->groups[model->group[hint_li]] == g) {
        for (uint32_t j = 0; j < g->n; j++)
            if (g->members[j] == hint_li)
                cost[j] = cost[j] > LANG_PRIOR_BONUS ? cost[j] - LANG_PRIOR_BONUS : 0;
    }
    lang_rank(model, g, cost, n_feats, out);
    /* A single word is guessed however short it is, unless no language stands out. */
    if (n_words == 1 && out->confidence < LANG_UND_CONF)
        lang_set_und(out);
}
