/* lexicon: the per-language word tables of the numeric-facts grammar (numbers, scales, units,
 * currencies, qualifiers, markers, change verbs, calendar words). Languages are data. */
#ifndef ENRICHD_STAGES_NUMFACTS_LEXICON_H
#define ENRICHD_STAGES_NUMFACTS_LEXICON_H

#include <stddef.h>

enum nf_lex_type {
    NF_LEX_NUM = 1,   /* number word: value */
    NF_LEX_ART,       /* "a", "ein": 1, but only before a scale, fraction, dozen or unit */
    NF_LEX_SCALE,     /* multiplier: value; arg NF_SCALE_* bits */
    NF_LEX_FRAC,      /* fraction word: value (1/3 for "Drittel") */
    NF_LEX_UNIT,      /* measure unit: unit (UCUM), dim, value = SI factor, si_unit */
    NF_LEX_CUR,       /* currency: unit (ISO 4217), value = factor, arg NF_CUR_* bits */
    NF_LEX_PCT,       /* percent: value = factor to % */
    NF_LEX_PP,        /* percentage points: value = factor to pp */
    NF_LEX_DUR,       /* duration unit: unit (UCUM), value = seconds */
    NF_LEX_QUAL,      /* qualifier: arg enum nf_qual, value 1 when a hedge (approx) */
    NF_LEX_MARK,      /* range/change marker: arg enum nf_mark */
    NF_LEX_MONTH,     /* month name: arg 1..12 */
    NF_LEX_WDAY,      /* weekday: arg 1 (Monday) .. 7 */
    NF_LEX_DAYREL,    /* today/yesterday: arg = day offset */
    NF_LEX_REL,       /* last/next/this before a month or weekday: arg -1, 0, +1 */
    NF_LEX_QUARTER,   /* "Quartal", "quarter" */
    NF_LEX_ORD,       /* ordinal word: arg value ("dritten", "third") */
    NF_LEX_LABEL,     /* a word after which a number is a label ("Seite", "Section") */
    NF_LEX_YEARCUE,   /* a word before which a 4-digit number is a year ("im", "since") */
    NF_LEX_STOP       /* function word: never a counted noun nor part of a subject */
};

enum nf_scale_bit {
    NF_SCALE_MONEY_ONLY = 1, /* "m", "b": only after a currency sign */
    NF_SCALE_GLUED_ONLY = 2  /* "k", "M": only glued to the number ("10k") */
};

enum nf_cur_bit {
    NF_CUR_PREFIX = 1,  /* may stand before the number ("$5", "EUR 5") */
    NF_CUR_SUFFIX = 2,  /* may follow the number ("5 Euro") */
    NF_CUR_INFERRED = 4 /* ambiguous ("$", "dollars"): the ISO code is a guess */
};

enum nf_qual {
    NF_Q_EXACT = 0,
    NF_Q_APPROX,
    NF_Q_MORE_THAN,
    NF_Q_LESS_THAN,
    NF_Q_AT_LEAST,
    NF_Q_AT_MOST
};

enum nf_mark {
    NF_M_FROM = 1,  /* "von", "from" */
    NF_M_BETWEEN,   /* "zwischen", "between" */
    NF_M_BY,        /* "um", "by" */
    NF_M_TO_CHANGE, /* "auf": the new value of a change */
    NF_M_TO,        /* "to": a change's new value or a range's end */
    NF_M_UNTIL,     /* "bis": a range's end */
    NF_M_AND,       /* "und", "and" */
    NF_M_DASH,      /* "-", "–" */
    NF_M_MINUS,     /* "minus": a sign */
    NF_M_SINCE,     /* "seit", "since" */
    NF_M_ON         /* "am", "on", "im", "in" */
};

/* One table row. form is lower case; words are separated by one space, one word per token
 * ("mehr als", "km / h"); a trailing "." is optional in text. */
struct nf_lex {
    const char *form;
    unsigned char type; /* enum nf_lex_type */
    signed char arg;
    double value;
    const char *unit;    /* UCUM or ISO 4217 code, or NULL */
    const char *dim;     /* dimension name for units, or NULL */
    const char *si_unit; /* SI base unit that value converts to, or NULL */
};

/* A change verb or noun: a prefix of the lower-cased word, and its direction (+1, -1, 0). */
struct nf_verb {
    const char *stem;
    signed char dir;
};

struct nf_language {
    const char *code;              /* ISO 639-1 */
    const struct nf_lex *lex;      /* rows, ends with form == NULL */
    const struct nf_verb *verbs;   /* ends with stem == NULL */
    const char *const *cues;       /* frequent words that identify the language, NULL-ended */
    const struct nf_lex *compound; /* morphemes of compound number words ("zwei", "und"), or NULL */
    int decimal_comma;             /* 1: "1,5" is 1.5 and "500.000" is 500000 */
};

extern const struct nf_language nf_lang_de;
extern const struct nf_language nf_lang_en;

#endif
