// The layer rules of .dependency-cruiser.cjs hold over src/ and durable/, and they catch a deliberate violation.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cruise, type IConfiguration, type IViolation } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const config = createRequire(import.meta.url)(path.join(root, '.dependency-cruiser.cjs')) as IConfiguration;

/** Every rule violation in `dirs` (relative to `baseDir`), as "rule: from -> to". */
async function violations(baseDir: string, dirs: string[]): Promise<string[]> {
  const result = await cruise(dirs, { ...config.options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden ?? [] } });
  if (typeof result.output === 'string') throw new Error('expected a cruise result, got a report');
  return result.output.summary.violations.map((v: IViolation) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
}

describe('layers point one way', () => {
  it('src/ and durable/ break no layer rule', async () => {
    expect(await violations(root, ['src', 'durable'])).toEqual([]);
  });
});

describe('the rules catch a violation', () => {
  const tree = mkdtempSync(path.join(tmpdir(), 'layers-'));
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  /** Writes a small source tree: each file imports the given paths. */
  function write(files: Record<string, string[]>): void {
    for (const [file, imports] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(tree, file)), { recursive: true });
      writeFileSync(path.join(tree, file), `${imports.map((to, i) => `import * as m${i} from '${to}';\nvoid m${i};`).join('\n')}\nexport const here = 1;\n`);
    }
  }

  it('reports each kind of bad import, and nothing for the allowed ones', async () => {
    write({
      'durable/thing.ts': ['../src/http/page.ts'],
      'src/index.ts': ['../durable/thing.ts'],
      'src/http/page.ts': ['../../durable/thing.ts', '../contracts/thing.ts'],
      'src/contracts/thing.ts': [],
      'src/auth/pure.ts': ['../db/store.ts'],
      'src/security/scan.ts': ['../http/page.ts'],
      'src/db/store.ts': [],
      'src/db/mysql.ts': ['mysql2'],
      'src/tools/raw.ts': ['mysql2'],
    });
    expect(await violations(tree, ['src', 'durable'])).toEqual([
      'mysql2-only-in-mysql-adapters: src/tools/raw.ts -> mysql2',
      'objects-know-no-router: durable/thing.ts -> src/http/page.ts',
      'pure-layers-stay-pure: src/auth/pure.ts -> src/db/store.ts',
      'pure-layers-stay-pure: src/security/scan.ts -> src/http/page.ts',
      'src-never-imports-durable: src/http/page.ts -> durable/thing.ts',
    ]);
  });
});
