#!/usr/bin/env python3
"""numfacts_eval: precision, recall and F1 of the numfacts stage on the project's news dev set
and on the Duckling development examples (../shared/data/numfacts/duckling-examples.jsonl).

Runs `enrichd enrich --stages numfacts` once per corpus and compares its facts with the
expected ones.

  tools/numfacts/numfacts_eval.py --enrichd build/daemon/enrichd \
      --news tests/data/numfacts_news.jsonl \
      --duckling ../shared/data/numfacts/duckling-examples.jsonl
"""
import argparse
import json
import re
import subprocess
import sys
from collections import defaultdict


def run_stage(enrichd, docs):
    """Enriches docs (list of dicts) in one batch; returns the numeric_facts of each."""
    inp = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    res = subprocess.run([enrichd, "enrich", "--stages", "numfacts"], input=inp.encode(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    out = {}
    for line in res.stdout.decode().splitlines():
        obj = json.loads(line)
        out[obj["id"]] = obj["enrichment"].get("numeric_facts", [])
    return [out.get(d["id"], []) for d in docs]


def close(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and (a == b or b.startswith(a))
    if a is None or b is None:
        return False
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


# ---- news dev set ----

def bound(f, key):
    b = f.get(key)
    return b.get("value") if isinstance(b, dict) else None


def value_match(exp, got):
    if "value" in exp:
        return "value" in got and close(got["value"], exp["value"])
    for key in ("from", "to", "by"):
        if key in exp and not close(bound(got, key), exp[key]):
            return False
    return any(k in exp for k in ("from", "to", "by"))


def level_match(level, exp, got):
    if not value_match(exp, got):
        return False
    if level == "value+unit":
        return exp.get("unit") == got.get("unit")
    if level == "value+direction":
        return exp.get("direction") == got.get("direction")
    return True


def score_news(path, enrichd, verbose, no_dates=False):
    docs, expected = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            ex = json.loads(line)
            d = {"id": str(n), "text": ex["text"], "lang": ex["lang"]}
            if ex.get("published_at"):
                d["published_at"] = ex["published_at"]
            docs.append(d)
            expected.append(ex)
    preds = run_stage(enrichd, docs)
    if no_dates:
        # the protocol of bench/numfacts/peer/recognizers_eval.js: numbers only
        preds = [[g for g in got if g["kind"] not in ("date", "year")] for got in preds]
        for ex in expected:
            ex["facts"] = [e for e in ex["facts"] if not isinstance(e.get("value"), str)]
    levels = ("value", "value+unit", "value+direction")
    for lang in ("de", "en", "all"):
        counts = {lv: [0, 0, 0] for lv in levels}
        n_sent = 0
        for ex, got in zip(expected, preds):
            if lang != "all" and ex["lang"] != lang:
                continue
            n_sent += 1
            for lv in levels:
                used = set()
                tp = 0
                for e in ex["facts"]:
                    for k, g in enumerate(got):
                        if k not in used and level_match(lv, e, g):
                            used.add(k)
                            tp += 1
                            break
                    else:
                        if verbose and lv == "value+unit":
                            print(f"  FN {lang} {e} in: {ex['text']}", file=sys.stderr)
                counts[lv][0] += tp
                counts[lv][1] += len(got) - tp
                counts[lv][2] += len(ex["facts"]) - tp
                if verbose and lv == "value+unit":
                    for k, g in enumerate(got):
                        if k not in used:
                            print(f"  FP {lang} {g['text']!r} {g.get('value', '')} {g.get('unit')}"
                                  f" in: {ex['text']}", file=sys.stderr)
        for lv in levels:
            p, r, f = prf(*counts[lv])
            print(f"news {lang:3} {lv:16} sentences={n_sent:4} tp={counts[lv][0]:4} "
                  f"fp={counts[lv][1]:4} fn={counts[lv][2]:4}  P={p:.3f} R={r:.3f} F1={f:.3f}")


# ---- Duckling development examples ----

UNITS = {  # Duckling unit -> (our unit, factor from Duckling unit to ours)
    "Gram": ("g", 1), "Kilogram": ("kg", 1), "Pound": ("[lb_av]", 1), "Ounce": ("[oz_av]", 1),
    "Kilometre": ("km", 1), "Metre": ("m", 1), "Centimetre": ("cm", 1), "Millimetre": ("mm", 1),
    "Mile": ("[mi_i]", 1), "Foot": ("[ft_i]", 1), "Inch": ("[in_i]", 1), "Yard": ("[yd_i]", 1),
    "Litre": ("l", 1), "Millilitre": ("ml", 1), "Hectolitre": ("hl", 1), "Gallon": ("[gal_us]", 1),
    "Cup": ("[cup_us]", 1), "Celsius": ("Cel", 1), "Fahrenheit": ("[degF]", 1),
    "Degree": ("deg", 1), "Dollar": ("USD", 1), "Cent": ("USD", 0.01), "Unnamed": (None, 1),
    "Second": ("s", 1), "Minute": ("min", 1), "Hour": ("h", 1), "Day": ("d", 1),
    "Week": ("wk", 1), "Month": ("mo", 1), "Year": ("a", 1),
}
SI = {"g": 0.001, "kg": 1, "mg": 1e-6, "t": 1000, "[lb_av]": 0.45359237,
      "[oz_av]": 0.028349523125, "km": 1000, "m": 1, "cm": 0.01, "mm": 0.001,
      "[mi_i]": 1609.344, "[ft_i]": 0.3048, "[in_i]": 0.0254, "[yd_i]": 0.9144, "l": 0.001,
      "ml": 1e-6, "hl": 0.1, "m3": 1, "[gal_us]": 0.003785411784, "[cup_us]": 2.365882365e-4,
      "s": 1, "min": 60, "h": 3600, "d": 86400, "wk": 604800, "mo": 2629800, "a": 31557600}
NUM = r"\(?-?[0-9.e]+\)?"


def hnum(s):
    return float(s.strip("()"))


def parse_expected(dim, exp):
    """Returns a dict {kind, value|from|to, unit, grain} or None when we do not score it."""
    if exp is None:
        return None
    m = re.match(r"(NumeralValue|OrdinalData) (" + NUM + r")$", exp)
    if m:
        return {"value": hnum(m.group(2)), "unit": None}
    m = re.match(r"simple (\w+) (" + NUM + r")", exp)
    if m:
        unit, factor = UNITS.get(m.group(1), (m.group(1), 1))
        if dim == "AmountOfMoney" and m.group(1) == "Pound":
            unit = "GBP"
        return {"value": hnum(m.group(2)) * factor, "unit": unit}
    m = re.match(r"between (\w+) \((" + NUM + r"),\s*(" + NUM + r")\)", exp)
    if m:
        unit, factor = UNITS.get(m.group(1), (m.group(1), 1))
        return {"from": hnum(m.group(2)) * factor, "to": hnum(m.group(3)) * factor, "unit": unit}
    m = re.match(r"(above|under) (\w+) (" + NUM + r")", exp)
    if m:
        unit, factor = UNITS.get(m.group(2), (m.group(2), 1))
        return {"value": hnum(m.group(3)) * factor, "unit": unit, "bound": m.group(1)}
    m = re.match(r"DurationData (" + NUM + r") (\w+)", exp)
    if m:
        return {"value": hnum(m.group(1)), "unit": UNITS.get(m.group(2), (m.group(2), 1))[0]}
    m = re.match(r"datetime \((\d+),\s*(\d+),\s*(\d+),\s*(\d+),\s*(\d+),\s*(\d+)\) (\w+)", exp)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        grain = m.group(7).lower()
        val = {"year": f"{y:04d}", "month": f"{y:04d}-{mo:02d}",
               "quarter": f"{y:04d}-{mo:02d}"}.get(grain, f"{y:04d}-{mo:02d}-{d:02d}")
        return {"value": val, "unit": None, "grain": grain}
    return {"unscored": True}


def as_si(value, unit):
    return value * SI[unit] if unit in SI and value is not None else value


def duck_match(exp, got):
    gu = got.get("unit")
    if "from" in exp:
        gf, gt = bound(got, "from"), bound(got, "to")
        if gf is None or gt is None:
            return False
        if exp["unit"] in SI and gu in SI:
            return close(as_si(gf, gu), as_si(exp["from"], exp["unit"])) and \
                close(as_si(gt, gu), as_si(exp["to"], exp["unit"]))
        return gu == exp["unit"] and close(gf, exp["from"]) and close(gt, exp["to"])
    if "value" not in got:
        return False
    gv = got["value"]
    if isinstance(exp["value"], str):
        return isinstance(gv, str) and gv == exp["value"]
    if isinstance(gv, str):
        return False
    if exp["unit"] is None:
        return close(gv, exp["value"])
    if exp["unit"] in SI and gu in SI:
        return close(as_si(gv, gu), as_si(exp["value"], exp["unit"]))
    return gu == exp["unit"] and close(gv, exp["value"])


def score_duckling(path, enrichd, verbose):
    docs, rows = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            ex = json.loads(line)
            if ex["set"] == "latent":
                continue
            text = re.sub(r"\\x([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), ex["text"])
            text = text.replace("\\&", "")
            docs.append({"id": str(n), "text": text, "lang": ex["lang"],
                         "published_at": "2013-02-12T04:30:00-02:00"})
            rows.append((ex, parse_expected(ex["dimension"], ex["expected"])))
    preds = run_stage(enrichd, docs)
    per = defaultdict(lambda: [0, 0, 0, 0])  # tp, fp, fn, unscored
    for (ex, exp), got in zip(rows, preds):
        key = f"{ex['dimension']}/{ex['lang']}"
        # the fact that covers most of the input is the one that normalises it
        main = max(got, key=lambda g: g["end"] - g["start"]) if got else None
        if exp is None:
            if main is not None:
                per[key][1] += 1
            continue
        if exp.get("unscored"):
            per[key][3] += 1
            continue
        if main is not None and duck_match(exp, main):
            per[key][0] += 1
        else:
            per[key][2] += 1
            if main is not None:
                per[key][1] += 1
            if verbose:
                print(f"  MISS {key} {docs[len(docs) and 0]['id'] if False else ''}{ex['text']!r} "
                      f"want {exp} got {main and {k: main.get(k) for k in ('text', 'value', 'unit', 'from', 'to')}}",
                      file=sys.stderr)
    tot = [0, 0, 0, 0]
    for key in sorted(per):
        c = per[key]
        tot = [a + b for a, b in zip(tot, c)]
        p, r, f = prf(c[0], c[1], c[2])
        print(f"duckling {key:22} tp={c[0]:4} fp={c[1]:4} fn={c[2]:4} unscored={c[3]:4}"
              f"  P={p:.3f} R={r:.3f} F1={f:.3f}")
    p, r, f = prf(tot[0], tot[1], tot[2])
    print(f"duckling {'all':22} tp={tot[0]:4} fp={tot[1]:4} fn={tot[2]:4} unscored={tot[3]:4}"
          f"  P={p:.3f} R={r:.3f} F1={f:.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enrichd", required=True, help="path to the enrichd binary")
    ap.add_argument("--news", help="news dev set (JSON lines with expected facts)")
    ap.add_argument("--duckling", help="duckling-examples.jsonl")
    ap.add_argument("--no-dates", action="store_true",
                    help="leave dates and years out on both sides (the peer protocol)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print misses to stderr")
    args = ap.parse_args()
    if args.news:
        score_news(args.news, args.enrichd, args.verbose, args.no_dates)
    if args.duckling:
        score_duckling(args.duckling, args.enrichd, args.verbose)


if __name__ == "__main__":
    main()
