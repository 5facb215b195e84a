/* ent_data: reads tagged NER corpora (BIOES, CoNLL IOB, GermEval TSV) into BIOES sentences. */
#ifndef ENRICHD_TOOLS_ENTITIES_ENT_DATA_H
#define ENRICHD_TOOLS_ENTITIES_ENT_DATA_H

#include <stddef.h>
#include <stdint.h>

/* Sentences of tokens with gold BIOES tags (ent_model.h numbering). */
struct ent_corpus {
    char *text;        /* owned: token bytes, each NUL-terminated */
    size_t text_len, text_cap;
    size_t *tok_off;   /* owned: offset of each token in text */
    uint32_t *tok_len; /* owned: bytes of each token */
    uint8_t *tags;     /* owned: gold tag of each token */
    uint8_t *loose;    /* owned: per token, 1 when the gold tag may also be O or any MISC tag */
    size_t n_tok, cap_tok;
    size_t *sent;      /* owned: first token of each sentence; sent[n_sent] == n_tok */
    size_t n_sent, cap_sent;
    float *sent_w;     /* owned: update weight of each sentence */
    size_t cap_w;
};

/* Appends the sentences of spec "FORMAT[,OPTION]...:PATH" (gzip or plain) to c. FORMAT is bioes
 * (token, tag in the last column), conll (IOB1/IOB2 in the last column, -DOCSTART- lines
 * skipped), wikiann (as conll, "xx:" language prefix of the token dropped) or germeval
 * (tab-separated, outer column, # lines skipped). Types PER, LOC, ORG, OTH/MISC are kept; OTH
 * becomes MISC; the person, location and organisation types of the DFKI (MobIE, SmartData),
 * WNUT17 and LER schemas map to PER, LOC and ORG (WNUT17 products and works to MISC); any other type (*deriv, *part, routes, legal references)
 * becomes O. OPTIONs: nomisc (the corpus has no MISC class: its O tokens may be MISC),
 * softmisc (its MISC spans may also be O), wX (update weight X, default 1). Returns 0 or
 * -errno (message on stderr). */
int ent_corpus_read(struct ent_corpus *c, const char *spec);

/* Frees c's members. */
void ent_corpus_fini(struct ent_corpus *c);

#endif
