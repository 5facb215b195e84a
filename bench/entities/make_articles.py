#!/usr/bin/env python3
"""make_articles: turns a tagged dev file into JSON-lines articles for ent_bench.

usage: make_articles.py conll|germeval FILE.gz LANG > articles.jsonl
Sentences are detokenised naively (tokens joined by spaces) and grouped 20 to an article."""
import gzip
import json
import sys


def sentences(fmt, path):
    sent = []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
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
            sent.append(cols[1] if fmt == "germeval" else cols[0])
    if sent:
        yield sent


def main():
    fmt, path, lang = sys.argv[1:4]
    batch = []
    n = 0
    for s in sentences(fmt, path):
        batch.append(" ".join(s))
        if len(batch) == 20:
            n += 1
            print(json.dumps({"id": f"{lang}{n}", "lang": lang, "text": " ".join(batch)},
                             ensure_ascii=False))
            batch = []
    if batch:
        print(json.dumps({"id": f"{lang}{n + 1}", "lang": lang, "text": " ".join(batch)},
                         ensure_ascii=False))


if __name__ == "__main__":
    main()
