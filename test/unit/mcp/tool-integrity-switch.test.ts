// The TOOL_INTEGRITY switch (issue 14: the layer's own line in `npm run bench -- --layers`): on by default; off serves unchecked and says so.
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.ts';
import { toolIntegrity } from '../../../src/mcp/tool-integrity.ts';

describe('TOOL_INTEGRITY', () => {
  it('is on by default: the verdict against the signed lock, every served tool verified', async () => {
    const config = loadConfig({ ...env });
    expect(config.TOOL_INTEGRITY).toBe('on');
    const gate = await toolIntegrity(config, async () => undefined);
    expect(gate).not.toBe('unchecked');
    expect(gate !== 'unchecked' && gate.passed.size > 0 && gate.failed.length === 0).toBe(true);
  });

  it('off: nothing is checked or reported, and the isolate logs it as critical', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const report = vi.fn(async () => undefined);
    try {
      const gate = await toolIntegrity(loadConfig({ ...env, TOOL_INTEGRITY: 'off' }), report);
      expect(gate).toBe('unchecked');
      expect(report).not.toHaveBeenCalled();
      expect(errors.mock.calls.some(([line]) => typeof line === 'string' && line.includes('"tool.integrity_off"') && line.includes('"critical"'))).toBe(true);
    } finally {
      errors.mockRestore();
    }
  });

  it('another value stops the server with a message naming the setting', () => {
    expect(() => loadConfig({ ...env, TOOL_INTEGRITY: 'maybe' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, TOOL_INTEGRITY: 'maybe' })).toThrow(/TOOL_INTEGRITY/);
  });
});
