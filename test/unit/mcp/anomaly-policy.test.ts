// ANOMALY_POLICY: parsed and validated at start; the action per tool and principal kind; a fresh sign-in means block for keys.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.ts';
import { actionFor, DEFAULT_POLICY, parsePolicy } from '../../../src/mcp/anomaly-policy.ts';

describe('anomaly policy', () => {
  it('defaults: alert everywhere, sql_select throttled for agents and machine clients', () => {
    expect(actionFor(DEFAULT_POLICY, 'get_customer', 'agent')).toBe('alert');
    expect(actionFor(DEFAULT_POLICY, 'sql_select', 'agent')).toBe('throttle');
    expect(actionFor(DEFAULT_POLICY, 'sql_select', 'machine')).toBe('throttle');
    expect(actionFor(DEFAULT_POLICY, 'sql_select', 'person')).toBe('alert');
    expect(DEFAULT_POLICY.duration_seconds).toBe(900);
  });

  it('members given replace the defaults; reauth is block for a key or a machine client', () => {
    const policy = parsePolicy('{"default": {"agent": "block"}, "tools": {"describe_table": {"person": "reauth", "agent": "reauth"}}}');
    expect(actionFor(policy, 'get_customer', 'agent')).toBe('block');
    expect(actionFor(policy, 'get_customer', 'person')).toBe('alert');
    expect(actionFor(policy, 'sql_select', 'agent')).toBe('block');
    expect(actionFor(policy, 'describe_table', 'person')).toBe('reauth');
    expect(actionFor(policy, 'describe_table', 'agent')).toBe('block');
    // A tool named like an inherited property finds no policy of Object.prototype's.
    expect(actionFor(policy, 'constructor', 'person')).toBe('alert');
  });

  it('refuses a bad policy with the reason, and the configuration names the variable', () => {
    expect(() => parsePolicy('{')).toThrow('not JSON');
    expect(() => parsePolicy('{"default": {"agent": "ban"}}')).toThrow(/default\.agent/);
    expect(() => parsePolicy('{"duration_seconds": 0}')).toThrow(/duration_seconds/);
    expect(() => parsePolicy('{"unknown": 1}')).toThrow();
    expect(() => loadConfig({ ANOMALY_POLICY: '{"tools": {"sql_select": {"robot": "block"}}}' })).toThrow(ConfigError);
    expect(() => loadConfig({ ANOMALY_POLICY: '{"tools": {"sql_select": {"robot": "block"}}}' })).toThrow(/ANOMALY_POLICY/);
    expect(loadConfig({ ANOMALY_POLICY: '{"duration_seconds": 60}' }).ANOMALY_POLICY?.duration_seconds).toBe(60);
  });
});
