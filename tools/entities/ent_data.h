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
    size_t n_tok, cap_tok;
    size_t *sent;      /* owned: first token of each sentence; sent[n_sent] == n_tok */
    size_t n_sent, cap_sent;
};

/* Appends the sentences of spec "FORMAT:PATH" (gzip or plain) to c. FORMAT is bioes (token,
 * tag in the last column), conll (IOB1/IOB2 in the last column, -DOCSTART- lines skipped) or
 * germeval (tab-separated, outer column, # lines skipped). Types PER, LOC, ORG, OTH/MISC are
 * kept; OTH becomes MISC, any other type (*deriv, *part) becomes O. Returns 0 or -errno
 * (message on stderr). */
int ent_corpus_read(struct ent_corpus *c, const char *spec);

/* Frees c's members. */
void ent_corpus_fini(struct ent_corpus *c);

#endif
