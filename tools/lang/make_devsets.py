#!/usr/bin/env python3
"""make_devsets: writes the language-id dev sets as "code<TAB>text" files for lang_eval:
ntrex.tsv (NTREX-128 sentences of odd documents), tatoeba.tsv (Tatoeba sentences on odd
lines of each file),
pairs.tsv and words.tsv (word pairs and single words cut from both). Only the languages the
model knows are kept. Standard library only.

Usage: tools/lang/make_devsets.py --data ../shared/data/langid --out /tmp/langdev
"""
import argparse, lzma, os, random

LANGS = set(("af ar az be bg bn bs ca cs cy da de el en eo es et eu fa fi fr ga gu he hi hr hu "
             "hy id is it ja ka kk ko la lg lt lv mi mk mn mr ms nb nl nn pa pl pt ro ru sk sl sn "
             "so sq sr st sv sw ta te th tl tn tr ts uk ur vi xh yo zh zu").split())
PER_LANG = 1000


def clean_words(line):
    out = []
    for w in line.split():
        w = w.strip(".,;:!?\"'()[]«»“”„‘’…-–—¿¡")
        if len(w) >= 1 and any(c.isalpha() for c in w) and not any(c.isdigit() for c in w):
            out.append(w)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rnd = random.Random(4)
    sents = {"ntrex": {}, "tatoeba": {}}
    nt = os.path.join(a.data, "ntrex128")
    docs = [l.rstrip("\n") for l in open(os.path.join(nt, "DOCUMENT_IDS.tsv"), encoding="utf-8")]
    order = {}
    for d in docs:
        order.setdefault(d, len(order))
    for row in open(os.path.join(nt, "FILES.tsv"), encoding="utf-8").read().splitlines()[1:]:
        f = row.split("\t")
        code = f[2]
        # one reference per language: the first file listed for it (no regional variants)
        if code not in LANGS or code in sents["ntrex"] or f[4] != "ref":
            continue
        if code == "sr" and "Latn" in f[0]:
            continue
        lines = lzma.open(os.path.join(nt, f[0]), "rt", encoding="utf-8").read().split("\n")
        sents["ntrex"][code] = [l for i, l in enumerate(lines[:len(docs)])
                                if order[docs[i]] % 2 == 1 and l.strip()]
    tt = os.path.join(a.data, "tatoeba-laser")
    for row in open(os.path.join(tt, "FILES.tsv"), encoding="utf-8").read().splitlines()[1:]:
        f = row.split("\t")
        code = f[2]
        if code not in LANGS or code in sents["tatoeba"]:
            continue
        lines = lzma.open(os.path.join(tt, f[0]), "rt", encoding="utf-8").read().split("\n")
        # odd lines only: tools/lang/train_lang.py trains on the even ones
        sents["tatoeba"][code] = [l for i, l in enumerate(lines) if i % 2 == 1 and l.strip()]
    pairs, words = {}, {}
    for name, bylang in sents.items():
        with open(os.path.join(a.out, name + ".tsv"), "w", encoding="utf-8") as out:
            for code in sorted(bylang):
                for l in bylang[code][:PER_LANG]:
                    out.write("%s\t%s\n" % (code, l.replace("\t", " ")))
        for code in bylang:
            for l in bylang[code]:
                ws = clean_words(l)
                if len(ws) >= 2:
                    i = rnd.randrange(len(ws) - 1)
                    pairs.setdefault(code, []).append(ws[i] + " " + ws[i + 1])
                if ws:
                    words.setdefault(code, []).append(rnd.choice(ws))
    for name, bylang in (("pairs", pairs), ("words", words)):
        with open(os.path.join(a.out, name + ".tsv"), "w", encoding="utf-8") as out:
            for code in sorted(bylang):
                items = bylang[code]
                rnd.shuffle(items)
                for t in items[:PER_LANG]:
                    out.write("%s\t%s\n" % (code, t))


if __name__ == "__main__":
    main()
