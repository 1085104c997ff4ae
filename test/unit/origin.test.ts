// Origin allow-list and DNS-rebinding (Host) rules of the /mcp gate.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { hostAllowed, originAllowed } from '../../src/http/origin.ts';

const dev = loadConfig({ ALLOW_LOCALHOST: 'true' });
const prod = loadConfig({ ALLOW_LOCALHOST: 'false', ALLOWED_ORIGINS: 'https://app.example.com', ALLOWED_HOSTS: 'mcp.example.com' });
const open = loadConfig({ ALLOW_LOCALHOST: 'false' });

describe('originAllowed', () => {
  it('allows a request with no Origin (native clients)', () => {
    expect(originAllowed(null, prod)).toBe(true);
  });
  it('allows loopback origins only in development', () => {
    expect(originAllowed('http://localhost:6274', dev)).toBe(true);
    expect(originAllowed('http://127.0.0.1:3000', dev)).toBe(true);
    expect(originAllowed('http://[::1]:3000', dev)).toBe(true);
    expect(originAllowed('http://localhost:6274', prod)).toBe(false);
  });
  it('allows listed origins exactly', () => {
    expect(originAllowed('https://app.example.com', prod)).toBe(true);
    expect(originAllowed('https://app.example.com.evil.test', prod)).toBe(false);
    expect(originAllowed('http://app.example.com', prod)).toBe(false);
  });
  it('refuses other and malformed origins', () => {
    expect(originAllowed('http://evil.example.com', dev)).toBe(false);
    expect(originAllowed('null', dev)).toBe(false);
    expect(originAllowed('file://', dev)).toBe(false);
  });
});

describe('hostAllowed', () => {
  it('answers only loopback names in development', () => {
    expect(hostAllowed('localhost:8787', dev)).toBe(true);
    expect(hostAllowed('127.0.0.1:8787', dev)).toBe(true);
    expect(hostAllowed('[::1]:8787', dev)).toBe(true);
    expect(hostAllowed('evil.example.com', dev)).toBe(false);
    expect(hostAllowed('localhost.evil.example.com', dev)).toBe(false);
  });
  it('answers only the configured hosts when ALLOWED_HOSTS is set', () => {
    expect(hostAllowed('mcp.example.com', prod)).toBe(true);
    expect(hostAllowed('MCP.example.com:443', prod)).toBe(true);
    expect(hostAllowed('localhost:8787', prod)).toBe(false);
  });
  it('does not check the host of a deployed Worker without ALLOWED_HOSTS', () => {
    expect(hostAllowed('anything.workers.dev', open)).toBe(true);
  });
});
