// Dynamic Client Registration requests: what is kept, the defaults, and every refusal (checklist 35–37).
import { describe, expect, it } from 'vitest';
import { parseClientMetadata, MAX_REGISTRATION_BYTES } from '../../../src/auth/client-metadata.ts';
import { isErrorDescription } from '../../../src/auth/error-text.ts';

const URI = 'https://app.example.com/callback';
const base = { redirect_uris: [URI] };
const DEFAULTS = { token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], response_types: ['code'] };

describe('parseClientMetadata accepts', () => {
  it('a minimal request, filling in the RFC 7591 defaults', () => {
    expect(parseClientMetadata(base)).toEqual({ ok: true, metadata: { redirect_uris: [URI], ...DEFAULTS } });
  });

  it('a full request from a public MCP client', () => {
    const body = {
      redirect_uris: ['http://127.0.0.1:33418/callback', 'http://localhost:6274/oauth/callback', 'com.example.app:/cb'],
      client_name: 'Example MCP Client',
      client_uri: 'https://client.example.com',
      logo_uri: 'https://client.example.com/logo.png',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'support:read sql:read',
      contacts: ['ops@client.example.com'],
      software_id: '4NRB1-0XZABZI9E6-5SM3R',
      software_version: '2.1',
    };
    expect(parseClientMetadata(body)).toEqual({ ok: true, metadata: body });
  });

  it.each([
    [{ token_endpoint_auth_method: 'client_secret_post' }, { token_endpoint_auth_method: 'client_secret_post' }],
    [{ token_endpoint_auth_method: 'client_secret_basic' }, {}],
    [{ grant_types: ['refresh_token', 'authorization_code'] }, { grant_types: ['refresh_token', 'authorization_code'] }],
    [{ grant_types: ['authorization_code', 'authorization_code'] }, {}],
    [{ response_types: ['code', 'code'] }, {}],
    [{ scope: 'sql:read sql:read  support:read' }, { scope: 'sql:read support:read' }],
    [{ scope: '' }, {}],
    [{ contacts: [] }, {}],
    [{ contacts: ['a@x.example', 'b@x.example', 'c@x.example', 'd@x.example', 'e@x.example'] },
      { contacts: ['a@x.example', 'b@x.example', 'c@x.example', 'd@x.example', 'e@x.example'] }],
    [{ client_name: 'x'.repeat(100) }, { client_name: 'x'.repeat(100) }],
    [{ client_name: 'Café <b>bold</b> & "quotes"' }, { client_name: 'Café <b>bold</b> & "quotes"' }],
    [{ client_uri: null, logo_uri: null, scope: null, contacts: null, client_name: null }, {}],
    [{ redirect_uris: [URI, URI] }, {}],
  ])('%j', (fields, expected) => {
    expect(parseClientMetadata({ ...base, ...fields })).toEqual({ ok: true, metadata: { redirect_uris: [URI], ...DEFAULTS, ...expected } });
  });

  it('ten redirect URIs', () => {
    const uris = Array.from({ length: 10 }, (_, i) => `https://app.example.com/cb${i}`);
    expect(parseClientMetadata({ redirect_uris: uris })).toMatchObject({ ok: true, metadata: { redirect_uris: uris } });
  });
});

describe('parseClientMetadata ignores', () => {
  it.each([
    ['client_id', 'attacker-chosen-id'],
    ['client_secret', 'attacker-chosen-secret'],
    ['client_id_issued_at', 0],
    ['client_secret_expires_at', 0],
    ['registration_access_token', 'attacker-token'],
    ['registration_client_uri', 'https://evil.example/register/x'],
    ['jwks_uri', 'https://evil.example/jwks'],
    ['post_logout_redirect_uris', ['javascript:alert(1)']],
    ['tos_uri', 'javascript:alert(1)'],
  ])('a client-supplied %s', (name, value) => {
    const result = parseClientMetadata({ ...base, [name]: value });
    expect(result).toEqual({ ok: true, metadata: { redirect_uris: [URI], ...DEFAULTS } });
    if (result.ok) expect(Object.hasOwn(result.metadata, name)).toBe(false);
  });

  it('a __proto__ key from JSON.parse (no prototype pollution, no inherited fields)', () => {
    const body: unknown = JSON.parse(`{"__proto__": {"redirect_uris": ["${URI}"], "client_id": "x"}}`);
    expect(parseClientMetadata(body)).toEqual({
      ok: false,
      error: 'invalid_client_metadata',
      description: 'redirect_uris is required and must list at least one URI',
    });
    expect(({} as Record<string, unknown>).client_id).toBeUndefined();
  });

  it('fields inherited from a prototype', () => {
    const body: unknown = Object.create({ redirect_uris: [URI] });
    expect(parseClientMetadata(body)).toMatchObject({ ok: false, error: 'invalid_client_metadata' });
  });
});

describe('parseClientMetadata refuses redirect URIs as invalid_redirect_uri (checklist 35, 36)', () => {
  it.each([
    ['javascript:alert(1)', 'redirect URI scheme is not allowed (javascript, data, vbscript, file)'],
    [' JavaScript:alert(1)', 'redirect URI scheme is not allowed (javascript, data, vbscript, file)'],
    ['data:text/html,<script>alert(1)</script>', 'redirect URI scheme is not allowed (javascript, data, vbscript, file)'],
    ['vbscript:msgbox(1)', 'redirect URI scheme is not allowed (javascript, data, vbscript, file)'],
    ['file:///etc/passwd', 'redirect URI scheme is not allowed (javascript, data, vbscript, file)'],
    ['http://evil.example/cb', 'http redirect URIs are allowed only for 127.0.0.1, [::1] and localhost'],
    ['https://app.example.com/cb#frag', 'redirect URI must not contain a fragment'],
    ['https://app.example.com/cb#', 'redirect URI must not contain a fragment'],
    ['/callback', 'redirect URI must be an absolute URI'],
    ['https://good.example@evil.example/', 'redirect URI must not contain user information'],
    ['https://*.example.com/cb', 'redirect URI host must not contain a wildcard'],
    ['myapp:/cb', 'redirect URI must use https, loopback http, or a private-use scheme with a dot (com.example.app)'],
  ])('%j', (uri, why) => {
    const quoted = uri.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?');
    const result = parseClientMetadata({ redirect_uris: [URI, uri] });
    expect(result).toEqual({ ok: false, error: 'invalid_redirect_uri', description: `redirect URI '${quoted}' refused: ${why}` });
    if (!result.ok) expect(isErrorDescription(result.description)).toBe(true);
  });

  it('names a long bad URI by its first 100 characters', () => {
    const uri = `http://evil.example/${'a'.repeat(3000)}`;
    expect(parseClientMetadata({ redirect_uris: [uri] })).toEqual({
      ok: false,
      error: 'invalid_redirect_uri',
      description: `redirect URI '${uri.slice(0, 100)}...' refused: redirect URI is longer than 2000 characters`,
    });
  });

  it('escapes quotes and control characters in the named URI', () => {
    expect(parseClientMetadata({ redirect_uris: ['javascript:"\\\n'] })).toMatchObject({
      error: 'invalid_redirect_uri',
      description: "redirect URI 'javascript:???' refused: redirect URI scheme is not allowed (javascript, data, vbscript, file)",
    });
  });
});

describe('parseClientMetadata refuses as invalid_client_metadata (checklist 37)', () => {
  const eleven = Array.from({ length: 11 }, (_, i) => `https://app.example.com/cb${i}`);
  it.each([
    ['JSON null', null, 'the registration request must be a JSON object'],
    ['a JSON array', [base], 'the registration request must be a JSON object'],
    ['a string (non-JSON text decoded as a string)', 'redirect_uris=https://a.example', 'the registration request must be a JSON object'],
    ['a number', 42, 'the registration request must be a JSON object'],
    ['undefined (no body)', undefined, 'the registration request must be a JSON object'],
    ['no redirect_uris', {}, 'redirect_uris is required and must list at least one URI'],
    ['redirect_uris null', { redirect_uris: null }, 'redirect_uris is required and must list at least one URI'],
    ['empty redirect_uris', { redirect_uris: [] }, 'redirect_uris is required and must list at least one URI'],
    ['redirect_uris as a string', { redirect_uris: URI }, 'redirect_uris must be an array of strings'],
    ['a non-string redirect URI', { redirect_uris: [URI, 7] }, 'redirect_uris must be an array of strings'],
    ['eleven redirect URIs', { redirect_uris: eleven }, "'redirect_uris' has more than 10 entries"],
    ['a huge array', { ...base, contacts: Array.from({ length: 100_000 }, () => 'a@x.example') }, "'contacts' has more than 10 entries"],
    ['a huge unknown array', { ...base, request_uris: Array.from({ length: 11 }, () => 'x') }, "'request_uris' has more than 10 entries"],
    ['six contacts', { ...base, contacts: ['a', 'b', 'c', 'd', 'e', 'f'] }, 'contacts has more than 5 entries'],
    ['a non-string contact', { ...base, contacts: [{}] }, 'contacts must be an array of strings'],
    ['contacts as a string', { ...base, contacts: 'a@x.example' }, 'contacts must be an array of strings'],
    ['a very long contact', { ...base, contacts: ['a'.repeat(321)] }, 'contacts has an entry longer than 320 characters'],
    ['client_name of 101 characters', { ...base, client_name: 'x'.repeat(101) }, 'client_name is longer than 100 characters'],
    ['client_name not a string', { ...base, client_name: ['x'] }, 'client_name must be a string'],
    ['client_name with a right-to-left override', { ...base, client_name: 'Good\u202eliveE' },
      'client_name must not contain control or bidirectional formatting characters'],
    ['client_name with a newline', { ...base, client_name: 'Good\nApp' }, 'client_name must not contain control or bidirectional formatting characters'],
    ['client_name with a zero-width space', { ...base, client_name: 'Goo\u200bgle' },
      'client_name must not contain control or bidirectional formatting characters'],
    ['client_uri over http', { ...base, client_uri: 'http://client.example.com' }, 'client_uri must be an absolute https URL'],
    ['client_uri javascript', { ...base, client_uri: 'javascript:alert(1)' }, 'client_uri must be an absolute https URL'],
    ['client_uri relative', { ...base, client_uri: '/about' }, 'client_uri must be an absolute https URL'],
    ['client_uri with userinfo', { ...base, client_uri: 'https://good.example@evil.example/' }, 'client_uri must be an absolute https URL'],
    ['client_uri with a space', { ...base, client_uri: 'https://client.example.com/a b' }, 'client_uri must be an absolute https URL'],
    ['client_uri not a string', { ...base, client_uri: 1 }, 'client_uri must be a string'],
    ['logo_uri data', { ...base, logo_uri: 'data:image/png;base64,AAAA' }, 'logo_uri must be an absolute https URL'],
    ['logo_uri over http', { ...base, logo_uri: 'http://client.example.com/logo.png' }, 'logo_uri must be an absolute https URL'],
    ['logo_uri with a backslash', { ...base, logo_uri: 'https://evil.example\\@client.example.com/' }, 'logo_uri must be an absolute https URL'],
    ['private_key_jwt', { ...base, token_endpoint_auth_method: 'private_key_jwt' },
      "token_endpoint_auth_method 'private_key_jwt' is not supported"],
    ['client_secret_jwt', { ...base, token_endpoint_auth_method: 'client_secret_jwt' },
      "token_endpoint_auth_method 'client_secret_jwt' is not supported"],
    ['tls_client_auth', { ...base, token_endpoint_auth_method: 'tls_client_auth' }, "token_endpoint_auth_method 'tls_client_auth' is not supported"],
    ['an upper-case auth method', { ...base, token_endpoint_auth_method: 'NONE' }, "token_endpoint_auth_method 'NONE' is not supported"],
    ['an auth method that is not a string', { ...base, token_endpoint_auth_method: ['none'] }, 'token_endpoint_auth_method must be a string'],
    ['grant type password', { ...base, grant_types: ['authorization_code', 'password'] }, "grant_types value 'password' is not supported"],
    ['grant type implicit', { ...base, grant_types: ['implicit'] }, "grant_types value 'implicit' is not supported"],
    ['grant type client_credentials', { ...base, grant_types: ['client_credentials'] }, "grant_types value 'client_credentials' is not supported"],
    ['grant type device_code', { ...base, grant_types: ['urn:ietf:params:oauth:grant-type:device_code'] },
      "grant_types value 'urn:ietf:params:oauth:grant-type:device_code' is not supported"],
    ['grant_types without authorization_code', { ...base, grant_types: ['refresh_token'] },
      'grant_types must include authorization_code (the only response type is code)'],
    ['empty grant_types', { ...base, grant_types: [] }, 'grant_types must include authorization_code (the only response type is code)'],
    ['grant_types as a string', { ...base, grant_types: 'authorization_code' }, 'grant_types must be an array of strings'],
    ['response type token', { ...base, response_types: ['token'] }, "response_types must be code only: 'token' is not supported"],
    ['response type code id_token', { ...base, response_types: ['code', 'code id_token'] },
      "response_types must be code only: 'code id_token' is not supported"],
    ['empty response_types', { ...base, response_types: [] }, 'response_types must be code only'],
    ['an unknown scope', { ...base, scope: 'support:read admin' }, "scope has unknown values: 'admin'"],
    ['several unknown scopes', { ...base, scope: 'openid admin openid' }, "scope has unknown values: 'openid admin'"],
    ['scope as an array', { ...base, scope: ['sql:read'] }, 'scope must be a string'],
    ['software_id not a string', { ...base, software_id: 5 }, 'software_id must be a string'],
    ['software_version too long', { ...base, software_version: 'v'.repeat(201) }, 'software_version is longer than 200 characters'],
  ])('%s', (_, body, description) => {
    expect(parseClientMetadata(body)).toEqual({ ok: false, error: 'invalid_client_metadata', description });
    expect(isErrorDescription(description)).toBe(true);
  });

  it('checks array sizes before anything else reads them', () => {
    expect(parseClientMetadata({ redirect_uris: ['javascript:x'], grant_types: Array.from({ length: 11 }, () => 'x') })).toEqual({
      ok: false,
      error: 'invalid_client_metadata',
      description: "'grant_types' has more than 10 entries",
    });
  });

  it('exports the body size limit the HTTP layer enforces', () => {
    expect(MAX_REGISTRATION_BYTES).toBe(16_384);
  });
});
