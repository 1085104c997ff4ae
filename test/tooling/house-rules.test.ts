// The house ESLint rules (eslint/house-rules.mjs) on code that breaks them and code that keeps them.
import { RuleTester, type Rule } from 'eslint';
import { describe, it } from 'vitest';
// @ts-expect-error -- plain ES module without type declarations
import house from '../../eslint/house-rules.mjs';

RuleTester.describe = describe;
RuleTester.it = it;

const tester = new RuleTester({ languageOptions: { ecmaVersion: 2024, sourceType: 'module' } });
const rules = (house as { rules: Record<string, Rule.RuleModule> }).rules;
// Built from pieces so that this file itself names no such path.
const machinePath = ['', 'work', 'main', 'src'].join('/');
const rootPath = ['', 'root', '.npmrc'].join('/');
const registryHost = ['registry', 'npmjs', 'org'].join('.');

tester.run('module-comment', rules['module-comment']!, {
  valid: ['// What this file is.\nexport const a = 1;', '#!/usr/bin/env node\n// A command.\nconsole.log(1);', '/** Doc. */\nexport {};'],
  invalid: [
    { code: 'export const a = 1; // late comment', errors: [{ message: 'A file opens with a one-line comment saying what it is.' }] },
    { code: 'import x from "y";\n// after the import\nexport default x;', errors: 1 },
  ],
});

tester.run('no-machine-paths', rules['no-machine-paths']!, {
  valid: ['// Reads ./data/x.json.\nexport const p = "./data/x.json";'],
  invalid: [
    { code: `// A file.\nexport const p = "${machinePath}";`, errors: [{ message: 'A path of this machine or a package registry host.' }] },
    { code: `// A file.\nexport const p = "${rootPath}";`, errors: 1 },
    { code: `// A file.\n// see https://${registryHost}/x\nexport {};`, errors: 1 },
  ],
});

tester.run('no-unexplained-skips', rules['no-unexplained-skips']!, {
  valid: ['it("runs", () => {});', '// skip-reason: needs a GPU, which no machine here has\nit.skip("gpu", () => {});'],
  invalid: [
    { code: 'it.only("focused", () => {});', errors: [{ message: 'A focused test.' }] },
    { code: 'describe.skip("later", () => {});', errors: [{ message: 'A skipped test needs a "// skip-reason:" comment on the line above.' }] },
    { code: '// just because\ntest.todo("x");', errors: 1 },
  ],
});

tester.run('no-execute', rules['no-execute']!, {
  valid: ['conn.query("SELECT 1");', 'const execute = 1;'],
  invalid: [{ code: 'await conn.execute("SELECT ?", [1]);', errors: [{ message: 'Hyperdrive has no prepared statements: use query().' }] }],
});
