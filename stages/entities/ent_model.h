/* ent_model: the entity tagger shared by the stage, the trainer and the evaluator: token
 * features, hashed perceptron weights over BIOES tags, and constrained Viterbi decoding. */
#ifndef ENRICHD_STAGES_ENTITIES_ENT_MODEL_H
#define ENRICHD_STAGES_ENTITIES_ENT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "stages/errbuf.h"

/* Entity types, in tag order. */
enum ent_type { ENT_PER = 0, ENT_LOC = 1, ENT_ORG = 2, ENT_MISC = 3, ENT_N_TYPES = 4 };

/* Tags: 0 is O; 1 + type * 4 + position, position B=0 I=1 E=2 S=3. */
#define ENT_TAG_O 0
#define ENT_N_TAGS 17
#define ENT_POS_B 0
#define ENT_POS_I 1
#define ENT_POS_E 2
#define ENT_POS_S 3
#define ENT_TAG(type, pos) ((uint8_t)(1 + (type)*4 + (pos)))
#define ENT_TAG_TYPE(tag) (((tag)-1) / 4)
#define ENT_TAG_POS(tag) (((tag)-1) % 4)

/* Features per token (fixed, so the trainer can store them in a flat array). */
#define ENT_N_FEATS 45

/* Word cluster paths: at most this many bits; features use the whole path and its prefix of
 * ENT_CLU_MID bits. */
#define ENT_CLU_MAX_DEPTH 15
#define ENT_CLU_MID 6

/* Hash-table size range, in bits of the row index. */
#define ENT_MIN_BITS 12
#define ENT_MAX_BITS 24

/* Per-token facts the features are computed from. */
struct ent_tokinfo {
    uint64_t h_word;   /* raw word, digits mapped to 0 */
    uint64_t h_lower;  /* lower-cased word, digits mapped to 0 */
    uint64_t h_shape;  /* Xxxx-dd shape, runs kept up to 4 */
    uint64_t h_sshape; /* short shape: runs collapsed */
    uint64_t h_pre[4]; /* lower-cased prefixes of 1..4 code points */
    uint64_t h_suf[4]; /* lower-cased suffixes of 1..4 code points */
    uint32_t cap;      /* ENT_CAP_* bits */
    uint32_t gaz;      /* gazetteer bits (0 when the model has none) */
    uint32_t sil;      /* ENT_SIL_* bits (0 when the model has none) */
    uint32_t clu[2];   /* word cluster: prefix of ENT_CLU_MID bits and the whole path, each with a
                        * leading 1 bit; 0 for a word without cluster */
    uint64_t h_head;   /* compound head: longest clustered suffix of an unclustered capitalised
                        * word (0 when none) */
    uint32_t head_clu; /* cluster path of the head (0 when none) */
};

enum ent_cap_bit {
    ENT_CAP_INIT = 1u << 0,       /* first letter upper or title case */
    ENT_CAP_ALL = 1u << 1,        /* all letters upper case, at least two letters */
    ENT_CAP_SENT_START = 1u << 2, /* first token of the sentence */
    ENT_CAP_SEEN_LOWER = 1u << 3, /* the lower-cased form occurred lower case in training */
    ENT_CAP_DIGIT = 1u << 4,      /* has a digit */
    ENT_CAP_ALPHA = 1u << 5,      /* has a letter */
    ENT_CAP_HYPHEN = 1u << 6,     /* has an inner hyphen */
    ENT_CAP_DOT = 1u << 7         /* ends with a dot (abbreviation) */
};

/* One hashed feature's weights for all tags: int8 times a per-row scale. */
struct ent_row {
    float scale;
    int8_t q[ENT_N_TAGS];
    int8_t pad[32 - sizeof(float) - ENT_N_TAGS];
};

/* A loaded model: read-only after ent_model_load, shared by threads. */
struct ent_model {
    char lang[16];                              /* language code from the file name */
    uint32_t bits;                              /* rows = 1 << bits */
    uint32_t n_lex;                             /* entries of lex */
    float trans[(ENT_N_TAGS + 1) * ENT_N_TAGS]; /* [prev][cur]; prev == ENT_N_TAGS is start */
    struct ent_row *rows; /* owned: 1 << bits rows, one per 32-byte slot (one cache line) */
    uint32_t *lex;        /* owned: sorted 32-bit hashes of words seen lower case in training */
    uint32_t n_gaz;       /* entries of gaz_key and gaz_bits */
    uint32_t *gaz_key;    /* owned: sorted keys of gazetteer tokens */
    uint8_t *gaz_bits;    /* owned: ENT_GAZ_* bits per key */
    uint32_t n_sil;       /* entries of sil_key and sil_bits */
    uint32_t *sil_key;    /* owned: sorted keys of the entity-word lexicon */
    uint8_t *sil_bits;    /* owned: ENT_SIL_* bits per key */
    uint32_t n_clu;       /* entries of clu_key and clu_path */
    uint32_t clu_depth;   /* bits of every cluster path (0 when the model has no clusters) */
    uint32_t *clu_key;    /* owned: sorted keys of clustered words */
    uint16_t *clu_path;   /* owned: cluster path of each key, clu_depth bits */
    struct ent_word_slot *slots; /* owned: hash of all the keys above, slot_mask + 1 slots */
    size_t slot_mask;
};

/* Per-call working memory for ent_model_tag; zero-initialise, free with ent_scratch_fini. */
struct ent_scratch {
    struct ent_tokinfo *ti;
    float *em;   /* n x ENT_N_TAGS emission scores */
    uint8_t *bp; /* n x ENT_N_TAGS back pointers */
    size_t cap;  /* tokens the buffers hold */
};

/* Grows s to hold n tokens. Returns 0 or -ENOMEM. */
int ent_scratch_reserve(struct ent_scratch *s, size_t n);
void ent_scratch_fini(struct ent_scratch *s);

/* One slot of the load-time hash of lexicon and gazetteer keys. */
struct ent_word_slot {
    uint32_t key;  /* lexicon/gazetteer key; 0 with bits 0 marks an empty slot */
    uint8_t bits;  /* ENT_GAZ_* bits */
    uint8_t lower; /* 1 when the word was seen lower case */
    uint8_t used;
    uint8_t sil;  /* ENT_SIL_* bits */
    uint16_t clu; /* cluster path with a leading 1 bit; 0 when the word has none */
};

/* Word lists the features consult (all borrowed; arrays sorted by key; may be empty). When
 * slots is set, it answers instead of the sorted arrays (one probe instead of a search). */
struct ent_lookup {
    const struct ent_word_slot *slots;
    size_t slot_mask;
    const uint32_t *lex; /* keys of words seen lower case in training */
    size_t n_lex;
    const uint32_t *gaz_key; /* keys of gazetteer tokens */
    const uint8_t *gaz_bits; /* ENT_GAZ_* bits of each gaz_key */
    size_t n_gaz;
    const uint32_t *sil_key; /* keys of the entity-word lexicon */
    const uint8_t *sil_bits; /* ENT_SIL_* bits of each sil_key */
    size_t n_sil;
    const uint32_t *clu_key;  /* keys of clustered words */
    const uint16_t *clu_path; /* cluster path of each clu_key, clu_depth bits */
    size_t n_clu;
    uint32_t clu_depth; /* bits of a path; 0 without clusters */
};

/* Entity-word lexicon bits: how a word is used in other annotated corpora (not the training
 * corpus itself), learned by the trainer. Bit ENT_SIL_TYPE << type: in at least half of its
 * occurrences the word is part of an entity of that type. */
enum ent_sil_bit {
    ENT_SIL_TYPE = 1u << 0,  /* 4 bits, one per entity type */
    ENT_SIL_SOME = 1u << 4,  /* part of an entity in some occurrences, but under half */
    ENT_SIL_NEVER = 1u << 5, /* seen often and never part of an entity */
    ENT_SIL_BEGIN = 1u << 6  /* mostly the first word of its entities */
};

/* Gazetteer bits of a token (lower-cased match). */
enum ent_gaz_bit {
    ENT_GAZ_FIRST = 1u << 0,    /* a first name */
    ENT_GAZ_LOC = 1u << 1,      /* a one-word place name */
    ENT_GAZ_LOC_PART = 1u << 2, /* a word of a multi-word place name */
    ENT_GAZ_ORG = 1u << 3,      /* a word of an organisation or party name */
    ENT_GAZ_COUNTRY = 1u << 4,  /* a one-word country name */
    ENT_GAZ_SURNAME = 1u << 5,  /* the last word of a politician's name */
    ENT_GAZ_DEMONYM = 1u << 6   /* a nationality word */
};

/* Fills ti[i] for token tok[0..len) (valid UTF-8) at sentence position i. lk (borrowed, may be
 * NULL) gives the lexicon and gazetteer. */
void ent_tokinfo_fill(struct ent_tokinfo *ti, const char *tok, size_t len, size_t i,
                      const struct ent_lookup *lk);

/* 32-bit lexicon key of a tokinfo (what ent_model.lex stores). */
static inline uint32_t ent_lex_key(const struct ent_tokinfo *ti)
{
    return (uint32_t)(ti->h_lower >> 32);
}

/* True when a token is written all in lower case letters (lexicon candidates). */
int ent_is_lower_word(const char *tok, size_t len);

/* Writes the ENT_N_FEATS row indices (< 1 << bits) of token i of ti[0..n) into rows. */
void ent_features(const struct ent_tokinfo *ti, size_t n, size_t i, uint32_t bits, uint32_t *rows);

/* Best tag sequence under BIOES constraints. em: n x ENT_N_TAGS emissions, trans as in
 * ent_model. bp: n x ENT_N_TAGS scratch. Writes n tags into out. */
void ent_viterbi(const float *em, size_t n, const float *trans, uint8_t *bp, uint8_t *out);

/* Whether the tag transition prev -> cur is allowed (prev == ENT_N_TAGS: sentence start;
 * cur == ENT_N_TAGS: sentence end). */
int ent_transition_ok(unsigned prev, unsigned cur);

/* Loads a model file. Returns 0, or negative errno with detail in err. Free with
 * ent_model_free. *out is new. */
int ent_model_load(struct ent_model **out, const char *path, const char *lang, struct errbuf *err);

/* Frees m. Accepts NULL. */
void ent_model_free(struct ent_model *m);

/* Writes a model file: trans, per-row scale, quantised weights and the lexicon. Returns 0 or
 * negative errno with detail in err. */
int ent_model_write(const char *path, uint32_t bits, const float *trans, const float *scale,
                    const int8_t *q, const struct ent_lookup *lk, struct errbuf *err);

/* Sorted-key lookup of bits (0 when key is absent). */
uint32_t ent_bits_find(const uint32_t *keys, const uint8_t *bits, size_t n, uint32_t key);

/* Tags the n tokens tok[i][0..len[i]) (borrowed, valid UTF-8) of one sentence into tags.
 * Returns 0 or -ENOMEM. */
int ent_model_tag(const struct ent_model *m, const char *const *tok, const size_t *len, size_t n,
                  struct ent_scratch *s, uint8_t *tags);

/* Type name: "PER", "LOC", "ORG", "MISC". */
const char *ent_type_name(int type);

#endif
