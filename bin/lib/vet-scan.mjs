// The one place `vet` calls the poisoning scanner (src/security/scanner/index.ts): loaded on first use; when it is missing, every result says so.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SCANNER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/security/scanner/index.ts');
// The scanner exports one function that scans one definition; these are the names it may carry.
const EXPORT_NAMES = ['scanDefinition', 'scanTool', 'scanToolDefinition', 'scan'];

/**
 * Loads the scanner. Returns `{ available: true, scan }` where `scan({ name, description, inputSchema })`
 * resolves to `{ flagged, score, findings: [{ rule, message, span }] }`, or `{ available: false, reason }`.
 */
export async function loadScanner() {
  if (!existsSync(SCANNER)) return { available: false, reason: 'scanner unavailable: src/security/scanner/index.ts is not in this checkout; definitions were NOT scanned' };
  let mod;
  try {
    mod = await import(pathToFileURL(SCANNER).href);
  } catch (error) {
    return { available: false, reason: `scanner unavailable: loading src/security/scanner/index.ts failed (${error instanceof Error ? error.message : String(error)}); definitions were NOT scanned` };
  }
  const name = EXPORT_NAMES.find((n) => typeof mod[n] === 'function');
  if (!name) return { available: false, reason: `scanner unavailable: src/security/scanner/index.ts exports none of ${EXPORT_NAMES.join(', ')}; definitions were NOT scanned` };
  const fn = mod[name];
  return {
    available: true,
    /** @param {{ name: string, description?: string, inputSchema?: unknown }} definition */
    async scan(definition) {
      const result = await fn({ name: definition.name, description: definition.description ?? '', ...(definition.inputSchema !== undefined ? { inputSchema: definition.inputSchema } : {}) });
      return {
        flagged: Boolean(result?.flagged),
        score: typeof result?.score === 'number' ? result.score : 0,
        findings: Array.isArray(result?.findings) ? result.findings.map((f) => ({ rule: String(f.rule), message: String(f.message), span: f.span })) : [],
      };
    },
  };
}
