#!/usr/bin/env python3
"""Checks enriched JSON lines against the v1 schema and checks that every span slices back to
its text, by code points and by UTF-8 bytes. Usage: check_output.py SCHEMA < lines"""
import json
import sys

import jsonschema


def check_span(article, span, where):
    value = article.get(span["field"])
    if not isinstance(value, str):
        raise AssertionError(f"{where}: field {span['field']} missing")
    if value[span["start"]:span["end"]] != span["text"]:
        raise AssertionError(f"{where}: code points {span['start']}..{span['end']} give "
                             f"{value[span['start']:span['end']]!r}, not {span['text']!r}")
    raw = value.encode("utf-8")[span["start_byte"]:span["end_byte"]].decode("utf-8")
    if raw != span["text"]:
        raise AssertionError(f"{where}: bytes give {raw!r}, not {span['text']!r}")


def main():
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    n = 0
    for lineno, line in enumerate(sys.stdin, 1):
        article = json.loads(line)
        errors = sorted(validator.iter_errors(article), key=lambda e: e.path)
        if errors:
            raise AssertionError(f"line {lineno}: {errors[0].message} at {list(errors[0].path)}")
        enr = article["enrichment"]
        for ent in enr.get("entities", []):
            for m in ent["mentions"]:
                check_span(article, m, f"line {lineno} entity {ent['id']}")
        for fact in enr.get("numeric_facts", []):
            check_span(article, fact, f"line {lineno} fact {fact['id']}")
        n += 1
    if n == 0:
        raise AssertionError("no output lines")
    print(f"{n} lines valid")


if __name__ == "__main__":
    main()
