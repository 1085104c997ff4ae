// OAuth parameter reading: a repeated parameter is invalid_request, an empty value is absent (checklist 5).
import { describe, expect, it } from 'vitest';
import { isErrorDescription } from '../../../src/auth/error-text.ts';
import { readParams } from '../../../src/auth/params.ts';

const NAMES = ['response_type', 'client_id', 'redirect_uri', 'state'] as const;

describe('readParams accepts', () => {
  it.each([
    ['', { response_type: undefined, client_id: undefined, redirect_uri: undefined, state: undefined }],
    ['response_type=code&client_id=abc', { response_type: 'code', client_id: 'abc', redirect_uri: undefined, state: undefined }],
    ['client_id=abc&state=', { response_type: undefined, client_id: 'abc', redirect_uri: undefined, state: undefined }],
    ['state=&redirect_uri=', { response_type: undefined, client_id: undefined, redirect_uri: undefined, state: undefined }],
    ['state=a%20b%26c', { response_type: undefined, client_id: undefined, redirect_uri: undefined, state: 'a b&c' }],
    ['state=+', { response_type: undefined, client_id: undefined, redirect_uri: undefined, state: ' ' }],
    ['client_id=abc&scope=x&scope=y&extra=1&extra=2', { response_type: undefined, client_id: 'abc', redirect_uri: undefined, state: undefined }],
    ['CLIENT_ID=a&client_id=b', { response_type: undefined, client_id: 'b', redirect_uri: undefined, state: undefined }],
    ['redirect_uri=https%3A%2F%2Fa.example%2Fcb', { response_type: undefined, client_id: undefined, redirect_uri: 'https://a.example/cb', state: undefined }],
  ])('%j → %j', (query, params) => {
    expect(readParams(new URLSearchParams(query), NAMES)).toEqual({ ok: true, params });
  });

  it('reads a form body the same way', async () => {
    const form = await new Request('https://as.example/token', {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'abc', state: 'xyz' }),
    }).formData();
    const source = new URLSearchParams();
    for (const [name, value] of form) if (typeof value === 'string') source.append(name, value);
    expect(readParams(source, NAMES)).toMatchObject({ ok: true, params: { client_id: 'abc', state: 'xyz' } });
  });
});

describe('readParams refuses a repeated parameter', () => {
  it.each([
    ['client_id=a&client_id=b', 'client_id'],
    ['client_id=a&client_id=a', 'client_id'],
    ['state=&state=x', 'state'],
    ['state=&state=', 'state'],
    ['redirect_uri=https%3A%2F%2Fa.example%2Fcb&redirect_uri=https%3A%2F%2Fevil.example%2Fcb', 'redirect_uri'],
    ['response_type=code&response_type=token', 'response_type'],
    ['state=1&client_id=a&client_id=b&state=2', 'client_id'],
  ])('%j names %s', (query, name) => {
    const result = readParams(new URLSearchParams(query), NAMES);
    expect(result).toEqual({ ok: false, error: 'invalid_request', description: `parameter ${name} is repeated` });
    if (!result.ok) expect(isErrorDescription(result.description)).toBe(true);
  });
});
