// recognizers_eval: value-level precision/recall of Recognizers-Text on the English lines of the
// numfacts news sets, for comparison with tools/numfacts/numfacts_eval.py. Date facts and
// date-time results are left out on both sides; a peer result matches an expected fact when one
// of its resolved numbers equals the fact's value, from, to or by.
//
//   node bench/numfacts/peer/recognizers_eval.js tests/data/numfacts_news*.jsonl
"use strict";
const fs = require("fs");
const path = require("path");
const R = require(path.join(__dirname, "node_modules", "@microsoft", "recognizers-text-suite"));

const culture = R.Culture.English;
const specific = [R.recognizePercentage, R.recognizeDimension, R.recognizeCurrency,
                  R.recognizeTemperature, R.recognizeAge];
const close = (a, b) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

for (const f of process.argv.slice(2)) {
  let tp = 0, fp = 0, fn = 0;
  for (const line of fs.readFileSync(f, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const ex = JSON.parse(line);
    if (ex.lang !== "en") continue;
    const results = [];
    for (const m of specific) results.push(...m(ex.text, culture));
    for (const r of R.recognizeNumber(ex.text, culture))
      if (!results.some((o) => o.start <= r.start && r.end <= o.end)) results.push(r);
    // numbers inside a date-time result are part of a date
    const dates = R.recognizeDateTime(ex.text, culture);
    const kept = results.filter((r) => !dates.some((d) => d.start <= r.start && r.end <= d.end &&
                                                   r.typeName === "number"));
    const values = kept.map((r) => {
      const v = r.resolution && r.resolution.value;
      return v === undefined || v === null ? NaN : parseFloat(String(v).replace(/,/g, ""));
    });
    const used = new Set();
    for (const e of ex.facts) {
      if (typeof e.value === "string") continue;
      const want = ["value", "from", "to", "by"].filter((k) => k in e).map((k) => e[k]);
      const k = values.findIndex((v, i) => !used.has(i) && want.some((w) => close(v, w)));
      if (k >= 0) { used.add(k); tp++; } else fn++;
    }
    fp += kept.length - used.size;
  }
  const p = tp / (tp + fp || 1), r = tp / (tp + fn || 1);
  console.log(`recognizers-text ${path.basename(f)} en value tp=${tp} fp=${fp} fn=${fn} ` +
              `P=${p.toFixed(3)} R=${r.toFixed(3)} F1=${(2 * p * r / (p + r || 1)).toFixed(3)}`);
}
