#!/usr/bin/env python3
"""opennlp_convert: writes tagged NER data in OpenNLP's name-finder format (spans) or as plain
tokenised sentences (plain), one sentence per line, blank line between documents.

usage: opennlp_convert.py conll|bioes|germeval FILE[.gz] spans|plain
Types as in models/entities: PER LOC ORG, OTH -> MISC, *deriv/*part -> O."""
import gzip
import sys

TYPES = {"PER": "per", "LOC": "loc", "ORG": "org", "OTH": "misc", "MISC": "misc"}


def read(fmt, path):
    opener = gzip.open if path.endswith(".gz") else open
    sent = []
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if fmt == "germeval" and line.startswith("#"):
                continue
            if not line or line.startswith("-DOCSTART-"):
                if sent:
                    yield sent
                sent = []
                continue
            cols = line.split("\t") if fmt == "germeval" else line.split(" ")
            tok, tag = (cols[1], cols[2]) if fmt == "germeval" else (cols[0], cols[-1])
            pos, _, typ = tag.partition("-")
            typ = TYPES.get(typ.upper()) if typ else None
            sent.append((tok, pos if typ else "O", typ))
    if sent:
        yield sent


def spans(sent, bioes):
    out, open_type = [], None
    for i, (tok, pos, typ) in enumerate(sent):
        prev = sent[i - 1] if i else None
        start = typ and (pos in ("B", "S") or not prev or prev[2] != typ
                         or (bioes and prev[1] in ("E", "S")))
        if open_type and (not typ or start):
            out.append("<END>")
            open_type = None
        if typ and start:
            out.append(f"<START:{typ}>")
            open_type = typ
        out.append(tok)
    if open_type:
        out.append("<END>")
    return " ".join(out)


def main():
    fmt, path, mode = sys.argv[1:4]
    for sent in read(fmt, path):
        print(spans(sent, fmt == "bioes") if mode == "spans" else " ".join(t for t, _, _ in sent))


if __name__ == "__main__":
    main()
