#!/usr/bin/env node
// `npm run scanner:eval`: k-fold cross-validated recall and false-positive rate of the scanner (overall, per source, per attack type, per rule) and its throughput; prints Markdown.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { scanWith } from '../src/security/scanner/index.ts';
import { WEIGHTS } from '../src/security/scanner/weights.ts';
import { loadModel } from '../src/security/scanner/model.ts';
import { DEFAULT_CORPUS, OWN_DATA, featurise, loadLabelled, stratifiedFolds, train } from './lib/scanner-data.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    corpus: { type: 'string', default: DEFAULT_CORPUS },
    folds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    repeats: { type: 'string', default: '1' },
    benign: { type: 'string', multiple: true, default: [] },
    threshold: { type: 'string' },
  },
});
const corpusFile = path.resolve(ROOT, opts.corpus);
if (!existsSync(corpusFile)) {
  process.stderr.write(`scanner:eval: no corpus at ${opts.corpus} (pass --corpus FILE)\n`);
  process.exit(2);
}
const k = Number(opts.folds);
/** The committed threshold unless --threshold tries another (then every figure below uses it). */
const threshold = opts.threshold === undefined ? WEIGHTS.threshold : Number(opts.threshold);
const repeats = Number(opts.repeats);
const corpus = loadLabelled(corpusFile).map((r) => ({ ...r, set: 'corpus' }));
const own = loadLabelled(path.join(ROOT, OWN_DATA)).map((r) => ({ ...r, set: 'own' }));
const rows = featurise([...corpus, ...own]);

/** Out-of-fold results: for each repeat, every row scored by a model that did not train on it. */
const results = []; // { row, repeat, result }
const t0 = performance.now();
for (let rep = 0; rep < repeats; rep++) {
  const fold = stratifiedFolds(rows, k, Number(opts.seed) + rep);
  for (let f = 0; f < k; f++) {
    const model = loadModel(train(rows.filter((_, i) => fold[i] !== f), { threshold }));
    rows.forEach((row, i) => {
      if (fold[i] === f) results.push({ row, repeat: rep, result: scanWith(row.def, model) });
    });
  }
}
const cvSeconds = (performance.now() - t0) / 1000;

const pct = (n, d) => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)}%`);
function rates(list, flaggedOf = (x) => x.result.flagged) {
  const mal = list.filter((x) => x.row.y === 1);
  const ben = list.filter((x) => x.row.y === 0);
  const tp = mal.filter(flaggedOf).length;
  const fp = ben.filter(flaggedOf).length;
  return { mal: mal.length, ben: ben.length, tp, fp, recall: pct(tp, mal.length), fpr: pct(fp, ben.length) };
}
function table(title, groups) {
  const out = [`| ${title} | malicious | recall | benign | false positives | FPR |`, '|---|---:|---:|---:|---:|---:|'];
  for (const [name, list, fn] of groups) {
    const r = rates(list, fn);
    out.push(`| ${name} | ${r.mal / repeats} | ${r.recall} | ${r.ben / repeats} | ${r.fp / repeats} | ${r.fpr} |`);
  }
  return out.join('\n');
}
const by = (key) => {
  const m = new Map();
  for (const x of results) {
    const v = key(x);
    if (v === null) continue;
    if (!m.has(v)) m.set(v, []);
    m.get(v).push(x);
  }
  return [...m.entries()].sort(([a], [b]) => String(a).localeCompare(String(b)));
};
const inCorpus = results.filter((x) => x.row.set === 'corpus');
const inOwn = results.filter((x) => x.row.set === 'own');

const lines = [];
lines.push(`Cross-validation: ${k}-fold stratified over ${rows.length} rows (corpus ${corpus.length} + own ${own.length}), seed ${opts.seed}${repeats > 1 ? `, ${repeats} repeats (counts are per repeat)` : ''}; each row scored by a model trained without its fold (${cvSeconds.toFixed(1)} s).`, '');
lines.push(table('set', [['corpus (all 665)', inCorpus], ['own examples', inOwn], ['both', results]]), '');
lines.push(table('corpus source', by((x) => (x.row.set === 'corpus' ? x.row.source : null)).map(([s, l]) => [s, l])), '');
lines.push(table('attack type', by((x) => x.row.attack ?? (x.row.y === 0 ? `(benign, ${x.row.set})` : null)).map(([s, l]) => [s, l])), '');
const high = (x) => x.row.hits.some((h) => h.severity === 'high');
const ruleMed = (x) => x.row.hits.some((h) => h.severity !== 'low');
lines.push(table('layer (corpus)', [
  ['rules alone: any high hit', inCorpus, high],
  ['rules alone: any high or medium hit', inCorpus, ruleMed],
  ['rules + learned layer (the scanner)', inCorpus],
]), '');

// Per rule: how often each rule fires (any severity) on malicious and benign rows, independent of the verdict,
// and how often it appears among the findings of a flagged row.
const ruleIds = [...new Set(rows.flatMap((r) => r.hits.map((h) => h.rule)))].sort();
const once = results.filter((x) => x.repeat === 0);
const mal = once.filter((x) => x.row.y === 1);
const ben = once.filter((x) => x.row.y === 0);
const rl = ['| rule | fires on malicious (recall) | fires on benign (FPR) | in findings of flagged malicious | in findings of flagged benign |', '|---|---:|---:|---:|---:|'];
for (const id of [...ruleIds, 'intent/learned']) {
  const fires = (x) => x.row.hits.some((h) => h.rule === id);
  const found = (x) => x.result.findings.some((f) => f.rule === id);
  const fm = id === 'intent/learned' ? '–' : `${mal.filter(fires).length} (${pct(mal.filter(fires).length, mal.length)})`;
  const fb = id === 'intent/learned' ? '–' : `${ben.filter(fires).length} (${pct(ben.filter(fires).length, ben.length)})`;
  rl.push(`| \`${id}\` | ${fm} | ${fb} | ${mal.filter(found).length} | ${ben.filter(found).length} |`);
}
lines.push(`Per rule, corpus and own examples together (${mal.length} malicious, ${ben.length} benign):`, '', rl.join('\n'), '');

// Extra benign definitions (no labels needed, never trained on): the committed model's false-positive rate on them.
const model = loadModel({ ...WEIGHTS, threshold });
for (const file of opts.benign) {
  const extra = loadLabelled(path.resolve(file), { defaultLabel: 'benign' }).filter((r) => r.y === 0);
  const flagged = extra.filter((r) => scanWith(r.def, model).flagged);
  lines.push(`Held-out benign set ${path.basename(file)} (committed model, never trained on): ${flagged.length} of ${extra.length} flagged (FPR ${pct(flagged.length, extra.length)}).`, '');
  process.stderr.write(`flagged in ${path.basename(file)}: ${flagged.map((r) => r.id).join(', ') || 'none'}\n`);
}

// Throughput: the committed model over every definition, repeated for at least two seconds; CPU time as well as wall
// time, because a shared machine's wall clock measures the neighbours too.
const defs = rows.map((r) => r.def);
for (const d of defs) scanWith(d, model);
let n = 0;
const s0 = performance.now();
const c0 = process.cpuUsage();
while (performance.now() - s0 < 2000) for (const d of defs) (scanWith(d, model), n++);
const wall = (performance.now() - s0) / 1000;
const cpu = process.cpuUsage(c0);
const perSecond = Math.round(n / wall);
const perCpuSecond = Math.round(n / ((cpu.user + cpu.system) / 1e6));
lines.push(`Throughput: ${perSecond.toLocaleString('en')} definitions/s wall clock, ${perCpuSecond.toLocaleString('en')} per CPU second (committed model, ${defs.length} definitions scanned ${Math.round(n / defs.length)} times, one thread).`);

const fp = inCorpus.filter((x) => x.row.y === 0 && x.result.flagged && x.repeat === 0);
const fn = inCorpus.filter((x) => x.row.y === 1 && !x.result.flagged && x.repeat === 0);
process.stderr.write(`false positives (corpus): ${fp.map((x) => x.row.def.name).join(', ') || 'none'}\nmissed (corpus): ${fn.map((x) => x.row.def.name).join(', ') || 'none'}\n`);
const ownMiss = inOwn.filter((x) => x.repeat === 0 && x.row.y !== Number(x.result.flagged));
process.stderr.write(`own errors: ${ownMiss.map((x) => `${x.row.def.name}(${x.row.y ? 'missed' : 'fp'} ${x.result.score})`).join(', ') || 'none'}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
