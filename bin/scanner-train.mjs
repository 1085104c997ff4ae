#!/usr/bin/env node
// `npm run scanner:train`: trains the scanner's learned layer on the shared corpus (read in place, not copied) and data/scanner/own.jsonl; writes src/security/scanner/weights.ts.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_CORPUS, EPOCHS, L2_HASHED, L2_NAMED, OWN_DATA, featurise, loadLabelled, train } from './lib/scanner-data.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'src/security/scanner/weights.ts');
const { values: opts } = parseArgs({ options: { corpus: { type: 'string', default: DEFAULT_CORPUS } } });

const corpus = path.resolve(ROOT, opts.corpus);
if (!existsSync(corpus)) {
  process.stderr.write(`scanner:train: no corpus at ${opts.corpus} (pass --corpus FILE)\n`);
  process.exit(2);
}
const rows = featurise([...loadLabelled(corpus), ...loadLabelled(path.join(ROOT, OWN_DATA))]);
const pos = rows.filter((r) => r.y === 1).length;
const trainedOn = `${path.basename(corpus)} + ${OWN_DATA}: ${rows.length} rows (${pos} malicious, ${rows.length - pos} benign); logistic regression, balanced classes, L2 ${L2_NAMED} named / ${L2_HASHED} hashed, ${EPOCHS} Adam epochs`;
const w = train(rows, { trainedOn });
const body = `/** The learned layer's weights, written by \`npm run scanner:train\` (bin/scanner-train.mjs); do not edit by hand. */
import type { ModelWeights } from './model.ts';

/** The learned layer's weights. */
export const WEIGHTS: ModelWeights = ${JSON.stringify(w, null, 2)};
`;
writeFileSync(OUT, body);
process.stderr.write(`scanner:train: ${trainedOn}\nwrote ${path.relative(ROOT, OUT)}\n`);
