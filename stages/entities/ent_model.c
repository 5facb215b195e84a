/* ent_model: token features, hashed weights, BIOES Viterbi and the model file format. */
#include "stages/entities/ent_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define ENT_MAGIC "ENTMDL04"
#define ENT_MAX_CP 64 /* code points of a token looked at; longer tokens are cut */

static const char *const ent_type_names[ENT_N_TYPES] = {"PER", "LOC", "ORG", "MISC"};

const char *ent_type_name(int type)
{
    return type >= 0 && type < ENT_N_TYPES ? ent_type_names[type] : "O";
}

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static inline uint64_t fnv_step(uint64_t h, uint32_t v)
{
    h ^= v;
    h *= 0x100000001b3ULL;
    return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

/* Decodes one code point (valid UTF-8 assumed). */
static uint32_t next_cp(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    uint32_t cp;
    int extra;

    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if (c >= 0xf0) {
        cp = c & 0x07;
        extra = 3;
    } else if (c >= 0xe0) {
        cp = c & 0x0f;
        extra = 2;
    } else {
        cp = c & 0x1f;
        extra = 1;
    }
    (*i)++;
    while (extra-- > 0 && *i < len)
        cp = (cp << 6) | (s[(*i)++] & 0x3f);
    return cp;
}

int ent_is_lower_word(const char *tok, size_t len)
{
    size_t i = 0;
    int letters = 0;

    while (i < len) {
        uint32_t cp = next_cp((const unsigned char *)tok, len, &i);
        const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);

        if (p->category == UTF8PROC_CATEGORY_LU || p->category == UTF8PROC_CATEGORY_LT)
            return 0;
        if (p->category == UTF8PROC_CATEGORY_LL)
            letters++;
    }
    return letters > 0;
}

static uint32_t shape_class(uint32_t cp, const utf8proc_property_t *p)
{
    if (p->category == UTF8PROC_CATEGORY_LU || p->category == UTF8PROC_CATEGORY_LT)
        return 'X';
    if (p->category == UTF8PROC_CATEGORY_LL || p->category == UTF8PROC_CATEGORY_LO ||
        p->category == UTF8PROC_CATEGORY_LM)
        return 'x';
    if (cp >= '0' && cp <= '9')
        return 'd';
    return cp;
}

static int lex_has(const uint32_t *lex, size_t n, uint32_t key)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (lex[mid] < key)
            lo = mid + 1;
        else if (lex[mid] > key)
            hi = mid;
        else
            return 1;
    }
    return 0;
}

/* Index of key in the sorted keys[0..n), or n when absent. */
static size_t key_index(const uint32_t *keys, size_t n, uint32_t key)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (keys[mid] < key)
            lo = mid + 1;
        else if (keys[mid] > key)
            hi = mid;
        else
            return mid;
    }
    return n;
}

uint32_t ent_bits_find(const uint32_t *keys, const uint8_t *bits, size_t n, uint32_t key)
{
    size_t i = key_index(keys, n, key);

    return i < n ? bits[i] : 0;
}

/* Cluster of a token from a path with its leading 1 bit (0: no cluster) of depth bits. */
static void set_clusters(struct ent_tokinfo *ti, uint32_t path, uint32_t depth)
{
    ti->clu[0] = path >> (depth > ENT_CLU_MID ? depth - ENT_CLU_MID : 0);
    ti->clu[1] = path;
}

/* Cluster path (with its leading 1 bit) of the word with lexicon key key, 0 when it has none. */
static uint32_t cluster_of(const struct ent_lookup *lk, uint32_t key)
{
    if (lk->slots != NULL) {
        for (size_t k = (key * 0x9e3779b1u) & lk->slot_mask;; k = (k + 1) & lk->slot_mask) {
            const struct ent_word_slot *sl = &lk->slots[k];

            if (!sl->used)
                return 0;
            if (sl->key == key)
                return sl->clu;
        }
    }
    {
        size_t k = key_index(lk->clu_key, lk->n_clu, key);

        return k < lk->n_clu ? (1u << lk->clu_depth) | lk->clu_path[k] : 0;
    }
}

/* Compound head of a capitalised word of n code points low[0..n) (lower case): its longest proper
 * suffix of at least ENT_HEAD_MIN code points that is a clustered word ("Bundesärztekammer" ->
 * "kammer", "SPD-Fraktion" -> "fraktion"). Sets h_head and head_clu when it finds one. */
#define ENT_HEAD_MIN 4
static void find_head(struct ent_tokinfo *ti, const uint32_t *low, size_t n,
                      const struct ent_lookup *lk)
{
    for (size_t j = 2; j + ENT_HEAD_MIN <= n; j++) {
        uint64_t h = FNV_INIT, hm;
        uint32_t clu;

        for (size_t k = j; k < n; k++)
            h = fnv_step(h, low[k]);
        hm = mix64(h);
        clu = cluster_of(lk, (uint32_t)(hm >> 32));
        if (clu != 0) {
            ti->h_head = hm;
            ti->head_clu = clu;
            return;
        }
    }
}

void ent_tokinfo_fill(struct ent_tokinfo *ti, const char *tok, size_t len, size_t i,
                      const struct ent_lookup *lk)
{
    uint32_t low[ENT_MAX_CP];
    size_t n = 0, at = 0;
    uint64_t hw = FNV_INIT, hl = FNV_INIT, hs = FNV_INIT, hss = FNV_INIT;
    uint32_t last_cls = 0, run = 0, letters = 0, uppers = 0, cap = 0;

    while (at < len && n < ENT_MAX_CP) {
        uint32_t cp = next_cp((const unsigned char *)tok, len, &at);
        uint32_t cls, lc;

        /* ASCII fast path; same answers as utf8proc gives. */
        if (cp < 0x80) {
            cls = cp >= 'A' && cp <= 'Z'   ? 'X'
                  : cp >= 'a' && cp <= 'z' ? 'x'
                  : cp >= '0' && cp <= '9' ? 'd'
                                           : cp;
        } else {
            cls = shape_class(cp, utf8proc_get_property((utf8proc_int32_t)cp));
        }

        if (cls == 'X' || cls == 'x') {
            letters++;
            if (cls == 'X')
                uppers++;
            if (n == 0 || letters == 1)
                cap |= cls == 'X' && letters == 1 ? ENT_CAP_INIT : 0;
        }
        if (cls == 'd') {
            cap |= ENT_CAP_DIGIT;
            cp = '0';
        }
        if (cp == '-' && n > 0 && at < len)
            cap |= ENT_CAP_HYPHEN;
        lc = cp < 0x80 ? (cls == 'X' ? cp + 32 : cp)
                       : (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
        hw = fnv_step(hw, cp);
        hl = fnv_step(hl, lc);
        low[n++] = lc;
        if (cls == last_cls) {
            run++;
        } else {
            run = 1;
            hss = fnv_step(hss, cls);
        }
        if (run <= 4)
            hs = fnv_step(hs, cls);
        last_cls = cls;
    }
    if (letters > 0)
        cap |= ENT_CAP_ALPHA;
    if (letters >= 2 && uppers == letters)
        cap |= ENT_CAP_ALL;
    if (len > 1 && tok[len - 1] == '.')
        cap |= ENT_CAP_DOT;
    if (i == 0)
        cap |= ENT_CAP_SENT_START;
    ti->h_word = mix64(hw);
    ti->h_lower = mix64(hl);
    ti->h_shape = mix64(hs);
    ti->h_sshape = mix64(hss);
    for (size_t k = 0; k < 4; k++) {
        uint64_t hp = FNV_INIT, hx = FNV_INIT;

        if (k < n) {
            for (size_t j = 0; j <= k; j++)
                hp = fnv_step(hp, low[j]);
            for (size_t j = n - 1 - k; j < n; j++)
                hx = fnv_step(hx, low[j]);
        } else {
            hp = hx = 0x5151; /* token shorter than the affix */
        }
        ti->h_pre[k] = mix64(hp ^ (k + 1));
        ti->h_suf[k] = mix64(hx ^ ((k + 1) << 8));
    }
    ti->gaz = 0;
    ti->sil = 0;
    set_clusters(ti, 0, 0);
    if (lk != NULL && lk->slots != NULL) {
        uint32_t key = ent_lex_key(ti);

        for (size_t k = (key * 0x9e3779b1u) & lk->slot_mask;; k = (k + 1) & lk->slot_mask) {
            const struct ent_word_slot *sl = &lk->slots[k];

            if (!sl->used)
                break;
            if (sl->key == key) {
                ti->gaz = sl->bits;
                ti->sil = sl->sil;
                set_clusters(ti, sl->clu, lk->clu_depth);
                if (sl->lower)
                    cap |= ENT_CAP_SEEN_LOWER;
                break;
            }
        }
    } else if (lk != NULL) {
        if (lex_has(lk->lex, lk->n_lex, ent_lex_key(ti)))
            cap |= ENT_CAP_SEEN_LOWER;
        if (lk->n_gaz > 0)
            ti->gaz = ent_bits_find(lk->gaz_key, lk->gaz_bits, lk->n_gaz, ent_lex_key(ti));
        if (lk->n_sil > 0)
            ti->sil = ent_bits_find(lk->sil_key, lk->sil_bits, lk->n_sil, ent_lex_key(ti));
        if (lk->n_clu > 0) {
            size_t k = key_index(lk->clu_key, lk->n_clu, ent_lex_key(ti));

            if (k < lk->n_clu)
                set_clusters(ti, (1u << lk->clu_depth) | lk->clu_path[k], lk->clu_depth);
        }
    }
    ti->cap = cap;
    ti->h_head = 0;
    ti->head_clu = 0;
    if (lk != NULL && lk->clu_depth > 0 && (cap & ENT_CAP_INIT) && n >= ENT_HEAD_MIN + 2 &&
        ti->clu[1] == 0)
        find_head(ti, low, n, lk);
}

/* Padding tokens; their cluster values 1 and 2 are no real path's prefix (those have at least
 * one bit after the leading 1). */
static const struct ent_tokinfo pad_before = {.h_word = 0x1111,
                                              .h_lower = 0x1111,
                                              .h_shape = 0x1111,
                                              .h_sshape = 0x1111,
                                              .cap = 1u << 30,
                                              .clu = {1, 1}};
static const struct ent_tokinfo pad_after = {.h_word = 0x2222,
                                             .h_lower = 0x2222,
                                             .h_shape = 0x2222,
                                             .h_sshape = 0x2222,
                                             .cap = 1u << 31,
                                             .clu = {2, 2}};

static inline uint32_t row_of(uint32_t tmpl, uint64_t v, uint32_t bits)
{
    return (uint32_t)(mix64(v ^ ((uint64_t)tmpl * 0x9e3779b97f4a7c15ULL)) >> (64 - bits));
}

void ent_features(const struct ent_tokinfo *ti, size_t n, size_t i, uint32_t bits, uint32_t *rows)
{
    const struct ent_tokinfo *c = &ti[i];
    const struct ent_tokinfo *p1 = i >= 1 ? &ti[i - 1] : &pad_before;
    const struct ent_tokinfo *p2 = i >= 2 ? &ti[i - 2] : &pad_before;
    const struct ent_tokinfo *n1 = i + 1 < n ? &ti[i + 1] : &pad_after;
    const struct ent_tokinfo *n2 = i + 2 < n ? &ti[i + 2] : &pad_after;
    uint32_t capc = c->cap & (ENT_CAP_INIT | ENT_CAP_ALL | ENT_CAP_SENT_START | ENT_CAP_SEEN_LOWER |
                              ENT_CAP_DIGIT | ENT_CAP_ALPHA);
    uint64_t pos = i == 0 ? 0 : i == 1 ? 1 : i + 1 == n ? 2 : i + 2 == n ? 3 : 4;
    size_t k = 0;

    rows[k++] = row_of(1, 0, bits);
    rows[k++] = row_of(2, c->h_word, bits);
    rows[k++] = row_of(3, c->h_lower, bits);
    rows[k++] = row_of(4, p1->h_lower, bits);
    rows[k++] = row_of(5, n1->h_lower, bits);
    rows[k++] = row_of(6, p2->h_lower, bits);
    rows[k++] = row_of(7, n2->h_lower, bits);
    rows[k++] = row_of(8, c->h_shape, bits);
    rows[k++] = row_of(9, c->h_sshape, bits);
    rows[k++] = row_of(10, p1->h_sshape, bits);
    rows[k++] = row_of(11, n1->h_sshape, bits);
    for (size_t j = 0; j < 4; j++) {
        rows[k++] = row_of(12 + (uint32_t)j, c->h_pre[j], bits);
        rows[k++] = row_of(16 + (uint32_t)j, c->h_suf[j], bits);
    }
    rows[k++] = row_of(20, p1->h_lower * 31 + c->h_lower, bits);
    rows[k++] = row_of(21, c->h_lower * 31 + n1->h_lower, bits);
    rows[k++] = row_of(22, capc, bits);
    rows[k++] = row_of(23, p1->cap, bits);
    rows[k++] = row_of(24, n1->cap, bits);
    rows[k++] = row_of(25, pos, bits);
    rows[k++] = row_of(26, (p1->h_sshape * 31 + c->h_sshape) * 31 + n1->h_sshape, bits);
    rows[k++] = row_of(27, p1->h_word, bits);
    rows[k++] = row_of(28, n1->h_word, bits);
    rows[k++] = row_of(29, c->h_suf[2] * 31 + capc, bits);
    rows[k++] = row_of(30, c->h_lower * 31 + (c->cap & ENT_CAP_SENT_START), bits);
    rows[k++] = row_of(31, c->gaz * 64 + capc, bits);
    rows[k++] = row_of(32, p1->h_lower * 31 + c->h_sshape, bits);
    rows[k++] = row_of(33, n1->h_suf[2] * 31 + c->h_sshape, bits);
    rows[k++] = row_of(34, (uint64_t)p1->gaz * 256 + c->gaz, bits);
    rows[k++] = row_of(35, (uint64_t)c->gaz * 256 + n1->gaz, bits);
    rows[k++] = row_of(36, (uint64_t)c->gaz * 1024 + (p1->cap & 63) * 16 + (n1->cap & 3), bits);
    rows[k++] = row_of(37, (uint64_t)c->sil * 64 + capc, bits);
    rows[k++] = row_of(38, (uint64_t)p1->sil * 256 + c->sil, bits);
    rows[k++] = row_of(39, (uint64_t)c->sil * 256 + n1->sil, bits);
    rows[k++] = row_of(40, p1->clu[1], bits);
    rows[k++] = row_of(41, n1->clu[1], bits);
    rows[k++] = row_of(42, c->h_head, bits);
    rows[k++] = row_of(43, c->head_clu, bits);
    rows[k++] = row_of(44, p1->h_lower * 31 + capc, bits);
    rows[k++] = row_of(45, (uint64_t)p1->clu[0] * 64 + capc, bits);
    /* k == ENT_N_FEATS */
}

int ent_transition_ok(unsigned prev, unsigned cur)
{
    int prev_open = prev != ENT_N_TAGS && prev != ENT_TAG_O &&
                    (ENT_TAG_POS(prev) == ENT_POS_B || ENT_TAG_POS(prev) == ENT_POS_I);

    if (cur == ENT_N_TAGS)
        return !prev_open;
    if (prev_open) {
        return cur != ENT_TAG_O && ENT_TAG_TYPE(cur) == ENT_TAG_TYPE(prev) &&
               (ENT_TAG_POS(cur) == ENT_POS_I || ENT_TAG_POS(cur) == ENT_POS_E);
    }
    return cur == ENT_TAG_O || ENT_TAG_POS(cur) == ENT_POS_B || ENT_TAG_POS(cur) == ENT_POS_S;
}

void ent_viterbi(const float *em, size_t n, const float *trans, uint8_t *bp, uint8_t *out)
{
    float cur[ENT_N_TAGS], next[ENT_N_TAGS];
    const float neg = -1e30f;
    unsigned char prev[ENT_N_TAGS][ENT_N_TAGS], n_prev[ENT_N_TAGS];

    if (n == 0)
        return;
    for (unsigned t = 0; t < ENT_N_TAGS; t++) {
        n_prev[t] = 0;
        for (unsigned p = 0; p < ENT_N_TAGS; p++)
            if (ent_transition_ok(p, t))
                prev[t][n_prev[t]++] = (unsigned char)p;
    }
    for (unsigned t = 0; t < ENT_N_TAGS; t++)
        cur[t] =
            ent_transition_ok(ENT_N_TAGS, t) ? trans[ENT_N_TAGS * ENT_N_TAGS + t] + em[t] : neg;
    for (size_t i = 1; i < n; i++) {
        const float *e = em + i * ENT_N_TAGS;

        for (unsigned t = 0; t < ENT_N_TAGS; t++) {
            float best = neg;
            unsigned arg = 0;

            for (unsigned k = 0; k < n_prev[t]; k++) {
                unsigned p = prev[t][k];
                float s;

                if (cur[p] <= neg)
                    continue;
                s = cur[p] + trans[p * ENT_N_TAGS + t];
                if (s > best) {
                    best = s;
                    arg = p;
                }
            }
            next[t] = best <= neg ? neg : best + e[t];
            bp[i * ENT_N_TAGS + t] = (uint8_t)arg;
        }
        memcpy(cur, next, sizeof(cur));
    }
    {
        float best = neg;
        unsigned arg = ENT_TAG_O;

        for (unsigned t = 0; t < ENT_N_TAGS; t++)
            if (ent_transition_ok(t, ENT_N_TAGS) && cur[t] > best) {
                best = cur[t];
                arg = t;
            }
        out[n - 1] = (uint8_t)arg;
        for (size_t i = n - 1; i > 0; i--)
            out[i - 1] = bp[i * ENT_N_TAGS + out[i]];
    }
}

int ent_scratch_reserve(struct ent_scratch *s, size_t n)
{
    size_t cap = s->cap ? s->cap : 64;
    void *a, *b, *c;

    if (n <= s->cap)
        return 0;
    while (cap < n)
        cap *= 2;
    a = realloc(s->ti, cap * sizeof(*s->ti));
    if (a == NULL)
        return -ENOMEM;
    s->ti = a;
    b = realloc(s->em, cap * ENT_N_TAGS * sizeof(*s->em));
    if (b == NULL)
        return -ENOMEM;
    s->em = b;
    c = realloc(s->bp, cap * ENT_N_TAGS);
    if (c == NULL)
        return -ENOMEM;
    s->bp = c;
    s->cap = cap;
    return 0;
}

void ent_scratch_fini(struct ent_scratch *s)
{
    if (s == NULL)
        return;
    free(s->ti);
    free(s->em);
    free(s->bp);
    memset(s, 0, sizeof(*s));
}

int ent_model_tag(const struct ent_model *m, const char *const *tok, const size_t *len, size_t n,
                  struct ent_scratch *s, uint8_t *tags)
{
    uint32_t rows[ENT_N_FEATS];

    if (n == 0)
        return 0;
    if (ent_scratch_reserve(s, n) != 0)
        return -ENOMEM;
    struct ent_lookup lk = {
        .slots = m->slots, .slot_mask = m->slot_mask, .clu_depth = m->clu_depth};

    for (size_t i = 0; i < n; i++)
        ent_tokinfo_fill(&s->ti[i], tok[i], len[i], i, &lk);
    for (size_t i = 0; i < n; i++) {
        float *e = s->em + i * ENT_N_TAGS;

        ent_features(s->ti, n, i, m->bits, rows);
        for (size_t f = 0; f < ENT_N_FEATS; f++)
            __builtin_prefetch(&m->rows[rows[f]]);

        memset(e, 0, ENT_N_TAGS * sizeof(*e));
        for (size_t f = 0; f < ENT_N_FEATS; f++) {
            const struct ent_row *r = &m->rows[rows[f]];

            for (unsigned t = 0; t < ENT_N_TAGS; t++)
                e[t] += r->scale * (float)r->q[t];
        }
    }
    ent_viterbi(s->em, n, m->trans, s->bp, tags);
    return 0;
}

struct ent_file_header {
    char magic[8];
    uint32_t bits;
    uint32_t n_tags;
    uint32_t n_feats;
    uint32_t n_lex;
    uint32_t n_gaz;
    uint32_t n_sil;
    uint32_t n_clu;
    uint32_t clu_depth;
};

int ent_model_write(const char *path, uint32_t bits, const float *trans, const float *scale,
                    const int8_t *q, const struct ent_lookup *lk, struct errbuf *err)
{
    struct ent_file_header h;
    size_t rows = (size_t)1 << bits;
    FILE *f = fopen(path, "wb");
    int ok;

    if (f == NULL)
        return errbuf_set(err, -errno, "%s: %s", path, strerror(errno));
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, ENT_MAGIC, 8);
    h.bits = bits;
    h.n_tags = ENT_N_TAGS;
    h.n_feats = ENT_N_FEATS;
    h.n_lex = (uint32_t)lk->n_lex;
    h.n_gaz = (uint32_t)lk->n_gaz;
    h.n_sil = (uint32_t)lk->n_sil;
    h.n_clu = (uint32_t)lk->n_clu;
    h.clu_depth = lk->clu_depth;
    ok = fwrite(&h, sizeof(h), 1, f) == 1 &&
         fwrite(trans, sizeof(float), (ENT_N_TAGS + 1) * ENT_N_TAGS, f) ==
             (ENT_N_TAGS + 1) * ENT_N_TAGS &&
         fwrite(scale, sizeof(float), rows, f) == rows &&
         fwrite(q, 1, rows * ENT_N_TAGS, f) == rows * ENT_N_TAGS &&
         fwrite(lk->lex, sizeof(uint32_t), lk->n_lex, f) == lk->n_lex &&
         fwrite(lk->gaz_key, sizeof(uint32_t), lk->n_gaz, f) == lk->n_gaz &&
         fwrite(lk->gaz_bits, 1, lk->n_gaz, f) == lk->n_gaz &&
         fwrite(lk->sil_key, sizeof(uint32_t), lk->n_sil, f) == lk->n_sil &&
         fwrite(lk->sil_bits, 1, lk->n_sil, f) == lk->n_sil &&
         fwrite(lk->clu_key, sizeof(uint32_t), lk->n_clu, f) == lk->n_clu &&
         fwrite(lk->clu_path, sizeof(uint16_t), lk->n_clu, f) == lk->n_clu;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok)
        return errbuf_set(err, -EIO, "%s: write failed", path);
    return 0;
}

void ent_model_free(struct ent_model *m)
{
    if (m == NULL)
        return;
    free(m->rows);
    free(m->lex);
    free(m->gaz_key);
    free(m->gaz_bits);
    free(m->sil_key);
    free(m->sil_bits);
    free(m->clu_key);
    free(m->clu_path);
    free(m->slots);
    free(m);
}

static struct ent_word_slot *slot_for(struct ent_model *m, uint32_t key)
{
    for (size_t k = (key * 0x9e3779b1u) & m->slot_mask;; k = (k + 1) & m->slot_mask)
        if (!m->slots[k].used || m->slots[k].key == key) {
            m->slots[k].used = 1;
            m->slots[k].key = key;
            return &m->slots[k];
        }
}

/* Builds the open-addressing hash of lexicon and gazetteer keys (at most half full). */
static int build_slots(struct ent_model *m)
{
    size_t cap = 16;

    while (cap < 2 * ((size_t)m->n_lex + m->n_gaz + m->n_sil + m->n_clu))
        cap *= 2;
    m->slots = calloc(cap, sizeof(*m->slots));
    if (m->slots == NULL)
        return -ENOMEM;
    m->slot_mask = cap - 1;
    for (uint32_t i = 0; i < m->n_lex; i++)
        slot_for(m, m->lex[i])->lower = 1;
    for (uint32_t i = 0; i < m->n_gaz; i++)
        slot_for(m, m->gaz_key[i])->bits = m->gaz_bits[i];
    for (uint32_t i = 0; i < m->n_sil; i++)
        slot_for(m, m->sil_key[i])->sil = m->sil_bits[i];
    for (uint32_t i = 0; i < m->n_clu; i++)
        slot_for(m, m->clu_key[i])->clu = (uint16_t)((1u << m->clu_depth) | m->clu_path[i]);
    return 0;
}

int ent_model_load(struct ent_model **out, const char *path, const char *lang, struct errbuf *err)
{
    struct ent_file_header h;
    struct ent_model *m = NULL;
    float *scale = NULL;
    int8_t *q = NULL;
    size_t rows;
    FILE *f = fopen(path, "rb");
    int rc = -EINVAL;

    *out = NULL;
    if (f == NULL)
        return errbuf_set(err, -errno, "%s: %s", path, strerror(errno));
    if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.magic, ENT_MAGIC, 8) != 0 ||
        h.n_tags != ENT_N_TAGS || h.n_feats != ENT_N_FEATS || h.bits < ENT_MIN_BITS ||
        h.bits > ENT_MAX_BITS || h.n_lex > (1u << 26) || h.n_gaz > (1u << 26) ||
        h.n_sil > (1u << 26) || h.n_clu > (1u << 26) || h.clu_depth > ENT_CLU_MAX_DEPTH ||
        (h.n_clu > 0 && h.clu_depth == 0)) {
        errbuf_set(err, -EINVAL, "%s: not an entity model of this version", path);
        goto fail;
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        rc = errbuf_set(err, -ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    snprintf(m->lang, sizeof(m->lang), "%s", lang);
    m->bits = h.bits;
    m->n_lex = h.n_lex;
    m->n_gaz = h.n_gaz;
    m->n_sil = h.n_sil;
    m->n_clu = h.n_clu;
    m->clu_depth = h.clu_depth;
    rows = (size_t)1 << h.bits;
    scale = malloc(rows * sizeof(float));
    q = malloc(rows * ENT_N_TAGS);
    m->rows = aligned_alloc(64, rows * sizeof(struct ent_row));
    m->lex = malloc((h.n_lex ? h.n_lex : 1) * sizeof(uint32_t));
    m->gaz_key = malloc((h.n_gaz ? h.n_gaz : 1) * sizeof(uint32_t));
    m->gaz_bits = malloc(h.n_gaz ? h.n_gaz : 1);
    m->sil_key = malloc((h.n_sil ? h.n_sil : 1) * sizeof(uint32_t));
    m->sil_bits = malloc(h.n_sil ? h.n_sil : 1);
    m->clu_key = malloc((h.n_clu ? h.n_clu : 1) * sizeof(uint32_t));
    m->clu_path = malloc((h.n_clu ? h.n_clu : 1) * sizeof(uint16_t));
    if (scale == NULL || q == NULL || m->rows == NULL || m->lex == NULL || m->gaz_key == NULL ||
        m->gaz_bits == NULL || m->sil_key == NULL || m->sil_bits == NULL || m->clu_key == NULL ||
        m->clu_path == NULL) {
        rc = errbuf_set(err, -ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    if (fread(m->trans, sizeof(float), (ENT_N_TAGS + 1) * ENT_N_TAGS, f) !=
            (ENT_N_TAGS + 1) * ENT_N_TAGS ||
        fread(scale, sizeof(float), rows, f) != rows ||
        fread(q, 1, rows * ENT_N_TAGS, f) != rows * ENT_N_TAGS ||
        fread(m->lex, sizeof(uint32_t), h.n_lex, f) != h.n_lex ||
        fread(m->gaz_key, sizeof(uint32_t), h.n_gaz, f) != h.n_gaz ||
        fread(m->gaz_bits, 1, h.n_gaz, f) != h.n_gaz ||
        fread(m->sil_key, sizeof(uint32_t), h.n_sil, f) != h.n_sil ||
        fread(m->sil_bits, 1, h.n_sil, f) != h.n_sil ||
        fread(m->clu_key, sizeof(uint32_t), h.n_clu, f) != h.n_clu ||
        fread(m->clu_path, sizeof(uint16_t), h.n_clu, f) != h.n_clu) {
        errbuf_set(err, -EINVAL, "%s: truncated entity model", path);
        goto fail;
    }
    for (uint32_t i = 1; i < h.n_lex; i++)
        if (m->lex[i - 1] >= m->lex[i]) {
            errbuf_set(err, -EINVAL, "%s: lexicon not sorted", path);
            goto fail;
        }
    for (uint32_t i = 1; i < h.n_gaz; i++)
        if (m->gaz_key[i - 1] >= m->gaz_key[i]) {
            errbuf_set(err, -EINVAL, "%s: gazetteer not sorted", path);
            goto fail;
        }
    for (uint32_t i = 1; i < h.n_sil; i++)
        if (m->sil_key[i - 1] >= m->sil_key[i]) {
            errbuf_set(err, -EINVAL, "%s: entity-word lexicon not sorted", path);
            goto fail;
        }
    for (uint32_t i = 0; i < h.n_clu; i++)
        if ((i > 0 && m->clu_key[i - 1] >= m->clu_key[i]) ||
            m->clu_path[i] >= (1u << h.clu_depth)) {
            errbuf_set(err, -EINVAL, "%s: word clusters not sorted or paths too long", path);
            goto fail;
        }
    for (size_t r = 0; r < rows; r++) {
        m->rows[r].scale = scale[r];
        memcpy(m->rows[r].q, q + r * ENT_N_TAGS, ENT_N_TAGS);
        memset(m->rows[r].pad, 0, sizeof(m->rows[r].pad));
    }
    if (build_slots(m) != 0) {
        rc = errbuf_set(err, -ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    free(scale);
    free(q);
    fclose(f);
    *out = m;
    return 0;
fail:
    free(scale);
    free(q);
    fclose(f);
    ent_model_free(m);
    return rc;
}
