#!/usr/bin/env node
// `npm run lint`: the house rules that a type checker cannot see, checked over every tracked source file.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => /\.(ts|mts|mjs|js)$/.test(f) && /^(src|durable|test|bin|bench)\//.test(f));

/** @type {Array<{ rule: string, test: (file: string) => boolean, line: RegExp, message: string }>} */
const LINE_RULES = [
  { rule: 'mysql2-only-in-db', test: (f) => /^(src|durable)\//.test(f) && !/^src\/db\/(mysql|mysql-connection|audit-mysql)\.ts$/.test(f), line: /from ['"]mysql2/, message: 'only the MySQL adapters in src/db/ may import mysql2' },
  { rule: 'no-execute', test: (f) => /^(src|durable)\//.test(f), line: /\.execute\(/, message: 'Hyperdrive has no prepared statements: use query()' },
  { rule: 'no-any', test: (f) => /\.ts$/.test(f), line: /(:\s*any\b|\bas any\b|<any>)/, message: 'parse into a type instead of any' },
  { rule: 'no-focused-tests', test: (f) => f.startsWith('test/'), line: /\b(it|test|describe)\.only\(/, message: 'focused test' },
  { rule: 'no-unexplained-skips', test: (f) => f.startsWith('test/'), line: /\b(it|test|describe)\.(skip|todo)\(|\bxit\(/, message: 'skipped test (a skip needs a "// skip-reason:" comment on the line above)' },
  { rule: 'no-machine-paths', test: () => true, line: /\/work\/main|\/root\/|registry\.npmjs/, message: 'a path of this machine or a registry host' },
];

const problems = [];
const warnings = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const first = lines[0]?.startsWith('#!') ? lines[1] : lines[0];
  if (!/^\s*(\/\/|\/\*\*?)/.test(first ?? '')) problems.push(`${file}:1 module-comment: a file opens with a one-line comment saying what it is`);
  lines.forEach((line, index) => {
    for (const rule of LINE_RULES) {
      if (!rule.test(file) || !rule.line.test(line)) continue;
      if (rule.rule === 'no-unexplained-skips' && /skip-reason:/.test(lines[index - 1] ?? '')) continue;
      if (rule.rule === 'no-machine-paths' && file === 'bin/lint.mjs') continue;
      problems.push(`${file}:${index + 1} ${rule.rule}: ${rule.message}`);
    }
  });
  if (/^(src|durable|bin)\//.test(file) && lines.length > 400) warnings.push(`${file}: ${lines.length} lines (is it still one idea?)`);
}

for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
for (const p of problems) process.stdout.write(`error: ${p}\n`);
process.stdout.write(`lint: ${files.length} files, ${problems.length} problems, ${warnings.length} warnings\n`);
process.exit(problems.length > 0 ? 1 : 0);
