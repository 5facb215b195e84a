// recognizers_bench: MB/s per core of Microsoft Recognizers-Text on English news sentences, the
// peer of numfacts_bench. Runs the English number, unit (dimension, currency, temperature, age)
// and date-time models over each sentence until SECONDS have passed.
//
//   (cd bench/numfacts/peer && npm install) && node bench/numfacts/peer/recognizers_bench.js \
//       [-s SECONDS] FILE.jsonl...
"use strict";
const fs = require("fs");
const path = require("path");
const R = require(path.join(__dirname, "node_modules", "@microsoft", "recognizers-text-suite"));

let seconds = 2;
let files = process.argv.slice(2);
if (files[0] === "-s") {
  seconds = Number(files[1]);
  files = files.slice(2);
}
const sentences = [];
for (const f of files) {
  for (const line of fs.readFileSync(f, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const o = JSON.parse(line);
    if (o.lang === "en" && o.text) sentences.push(o.text);
  }
}
const culture = R.Culture.English;
const models = [
  R.recognizeNumber, R.recognizeOrdinal, R.recognizePercentage, R.recognizeDimension,
  R.recognizeCurrency, R.recognizeTemperature, R.recognizeAge, R.recognizeDateTime,
];
let bytes = 0, found = 0, rounds = 0;
const t0 = process.hrtime.bigint();
let elapsed = 0;
do {
  for (const s of sentences) {
    for (const m of models) found += m(s, culture).length;
    bytes += Buffer.byteLength(s);
  }
  rounds++;
  elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
} while (elapsed < seconds);
console.log(`recognizers-text lang=en sentences=${sentences.length} rounds=${rounds} ` +
            `results/round=${Math.round(found / rounds)}  ${(bytes / elapsed / 1e6).toFixed(3)} MB/s`);
