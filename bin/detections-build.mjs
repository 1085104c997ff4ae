#!/usr/bin/env node
// `npm run detections:build`: writes src/security/detections/rules.generated.ts from the Sigma rules in detections/ (the Worker has no file system).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED, RULES_DIR, generatedModule, readRuleDocuments } from './lib/detections.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const docs = readRuleDocuments(path.join(root, RULES_DIR));
writeFileSync(path.join(root, GENERATED), generatedModule(docs));
process.stdout.write(`${GENERATED}: ${docs.length} rules from ${new Set(docs.map((d) => d.file)).size} files\n`);
