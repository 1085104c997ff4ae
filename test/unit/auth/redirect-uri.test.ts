// Redirect URIs: what may be registered, exact matching with the loopback port exception, and omission (checklist 1, 3, 4, 35, 36).
import { describe, expect, it } from 'vitest';
import { isErrorDescription } from '../../../src/auth/error-text.ts';
import {
  checkRedirectUriForRegistration,
  MAX_REDIRECT_URI_LENGTH,
  matchRedirectUri,
  resolveRedirectUri,
} from '../../../src/auth/redirect-uri.ts';

const DESCRIPTIONS = {
  too_long: 'redirect URI is longer than 2000 characters',
  dangerous_scheme: 'redirect URI scheme is not allowed (javascript, data, vbscript, file)',
  invalid_characters: 'redirect URI must be printable ASCII URI characters with valid percent-encoding',
  relative: 'redirect URI must be an absolute URI',
  unparseable: 'redirect URI is not a valid URI',
  fragment: 'redirect URI must not contain a fragment',
  userinfo: 'redirect URI must not contain user information',
  wildcard_host: 'redirect URI host must not contain a wildcard',
  insecure_http: 'http redirect URIs are allowed only for 127.0.0.1, [::1] and localhost',
  unsupported_scheme: 'redirect URI must use https, loopback http, or a private-use scheme with a dot (com.example.app)',
} as const;

describe('checkRedirectUriForRegistration accepts', () => {
  it.each([
    ['https://app.example.com/callback', 'https'],
    ['https://app.example.com/oauth/callback?tenant=a&x=1', 'https with a query'],
    ['https://app.example.com:8443/cb', 'https with a port'],
    ['https://app.example.com', 'https without a path'],
    ['https://[2001:db8::1]/cb', 'https to an IPv6 literal'],
    ['https://xn--bcher-kva.example/cb', 'a punycode host'],
    ['https://app.example.com/cb%20x', 'valid percent-encoding'],
    ['http://127.0.0.1/callback', 'loopback IPv4 without a port'],
    ['http://127.0.0.1:51234/callback', 'loopback IPv4 with a port'],
    ['http://[::1]:8080/callback', 'loopback IPv6'],
    ['http://localhost:6274/oauth/callback', 'localhost'],
    ['http://localhost', 'localhost without a path'],
    ['com.example.app:/callback', 'a private-use scheme (RFC 8252 §7.1)'],
    ['com.example.app://callback/path', 'a private-use scheme with an authority'],
    ['cursor.app:/oauth', 'another private-use scheme'],
    [`https://app.example.com/${'a'.repeat(MAX_REDIRECT_URI_LENGTH - 'https://app.example.com/'.length)}`, 'exactly 2,000 characters'],
  ])('%s (%s)', (uri) => {
    expect(checkRedirectUriForRegistration(uri)).toEqual({ ok: true });
  });
});

describe('checkRedirectUriForRegistration refuses', () => {
  it.each([
    // Script, data and file schemes, however they are spelled (checklist 35).
    ['javascript:alert(1)', 'dangerous_scheme'],
    ['JavaScript:alert(1)', 'dangerous_scheme'],
    ['JAVASCRIPT://example.com/%0Aalert(1)', 'dangerous_scheme'],
    [' javascript:alert(1)', 'dangerous_scheme'],
    ['\u0000javascript:alert(1)', 'dangerous_scheme'],
    ['\u001f\u0020javascript:alert(1)', 'dangerous_scheme'],
    ['java\tscript:alert(1)', 'dangerous_scheme'],
    ['java\nscript:alert(1)', 'dangerous_scheme'],
    ['data:text/html,<script>alert(1)</script>', 'dangerous_scheme'],
    ['DATA:text/html;base64,PHNjcmlwdD4=', 'dangerous_scheme'],
    ['  data:,x', 'dangerous_scheme'],
    ['vbscript:msgbox(1)', 'dangerous_scheme'],
    ['VBScript:msgbox(1)', 'dangerous_scheme'],
    ['file:///etc/passwd', 'dangerous_scheme'],
    ['FILE://server/share', 'dangerous_scheme'],
    ['\tfile:///c:/windows', 'dangerous_scheme'],
    // http to anything but the three loopback literals (checklist 36).
    ['http://app.example.com/callback', 'insecure_http'],
    ['http://evil.example/callback', 'insecure_http'],
    ['http://localhost.evil.example/cb', 'insecure_http'],
    ['http://127.0.0.1.nip.io/cb', 'insecure_http'],
    ['http://localhost./cb', 'insecure_http'],
    ['http://LOCALHOST/cb', 'insecure_http'],
    ['http://127.1/cb', 'insecure_http'],
    ['http://2130706433/cb', 'insecure_http'],
    ['http://0x7f.0.0.1/cb', 'insecure_http'],
    ['http://[0:0:0:0:0:0:0:1]/cb', 'insecure_http'],
    ['http://10.0.0.1/cb', 'insecure_http'],
    // Fragments, even empty ones.
    ['https://app.example.com/cb#', 'fragment'],
    ['https://app.example.com/cb#frag', 'fragment'],
    ['http://127.0.0.1/cb#x', 'fragment'],
    ['com.example.app:/cb#x', 'fragment'],
    // Relative references.
    ['/callback', 'relative'],
    ['callback', 'relative'],
    ['//evil.example/callback', 'relative'],
    ['', 'relative'],
    ['1https://app.example.com/', 'relative'],
    // User information in the authority.
    ['https://good.example@evil.example/cb', 'userinfo'],
    ['https://user:pass@app.example.com/cb', 'userinfo'],
    ['https://@app.example.com/cb', 'userinfo'],
    ['http://localhost@evil.example/cb', 'userinfo'],
    ['http://localhost:80@evil.example/cb', 'userinfo'],
    ['com.example.app://user@host/cb', 'userinfo'],
    // Wildcards.
    ['https://*.example.com/cb', 'wildcard_host'],
    ['https://app.*/cb', 'wildcard_host'],
    ['https://*/cb', 'wildcard_host'],
    // Characters outside plain RFC 3986 ASCII, and parser tricks that need them.
    [' https://app.example.com/cb', 'invalid_characters'],
    ['https://app.example.com/cb ', 'invalid_characters'],
    ['https://app.example.com/c b', 'invalid_characters'],
    ['https://app.example.com/cb\n', 'invalid_characters'],
    ['https://evil.example\\@app.example.com/cb', 'invalid_characters'],
    ['https://app.example.com\\evil', 'invalid_characters'],
    ['https://bücher.example/cb', 'invalid_characters'],
    ['https://app.example.com/cb%', 'invalid_characters'],
    ['https://app.example.com/cb%zz', 'invalid_characters'],
    ['https://app.example.com/<script>', 'invalid_characters'],
    ['https://app.example.com/"x"', 'invalid_characters'],
    // Not URIs, or not ones every parser reads the same way.
    ['https:app.example.com/cb', 'unparseable'],
    ['https:/app.example.com/cb', 'unparseable'],
    ['https:///app.example.com/cb', 'unparseable'],
    ['https://', 'unparseable'],
    ['https://app.example.com:99999/cb', 'unparseable'],
    ['https://app.example.com:port/cb', 'unparseable'],
    ['https://[::1/cb', 'unparseable'],
    // Schemes that are neither https, loopback http nor private-use.
    ['ftp://files.example.com/cb', 'unsupported_scheme'],
    ['wss://app.example.com/cb', 'unsupported_scheme'],
    ['myapp:/callback', 'unsupported_scheme'],
    ['myapp://callback', 'unsupported_scheme'],
    ['about:blank', 'unsupported_scheme'],
    ['blob:https://app.example.com/uuid', 'unsupported_scheme'],
    [`https://app.example.com/${'a'.repeat(MAX_REDIRECT_URI_LENGTH)}`, 'too_long'],
  ] as const)('%j as %s', (uri, reason) => {
    expect(checkRedirectUriForRegistration(uri)).toEqual({ ok: false, reason, description: DESCRIPTIONS[reason] });
  });

  it('refuses one character over 2,000', () => {
    const uri = `https://app.example.com/${'a'.repeat(MAX_REDIRECT_URI_LENGTH + 1 - 'https://app.example.com/'.length)}`;
    expect(uri.length).toBe(2001);
    expect(checkRedirectUriForRegistration(uri)).toMatchObject({ ok: false, reason: 'too_long' });
  });

  it('every description may be sent as an error_description', () => {
    for (const text of Object.values(DESCRIPTIONS)) expect(isErrorDescription(text)).toBe(true);
  });
});

describe('matchRedirectUri: byte-identical (checklist 1)', () => {
  const registered = ['https://app.example.com/callback', 'https://app.example.com/cb?tenant=a'];

  it.each(registered)('matches %s exactly', (uri) => {
    expect(matchRedirectUri(uri, registered)).toBe(uri);
  });

  it.each([
    ['https://app.example.com/callback/', 'a trailing /'],
    ['https://app.example.com:443/callback', ':443 added'],
    ['https://APP.example.com/callback', 'an upper-case host'],
    ['HTTPS://app.example.com/callback', 'an upper-case scheme'],
    ['https://app.example.com/Callback', 'another path case'],
    ['https://app.example.com/callback?x=1', 'an extra query'],
    ['https://app.example.com/callback?', 'an empty query'],
    ['https://app.example.com/cb?tenant=b', 'a changed query value'],
    ['https://app.example.com/cb?tenant=a&tenant=b', 'an extra query parameter'],
    ['https://app.example.com/cb', 'the query removed'],
    ['https://app.example.com/callback/../callback', 'a .. segment'],
    ['https://app.example.com/x/../callback', 'a .. segment that resolves to the path'],
    ['https://app.example.com/callback/%2E%2E/callback', 'an encoded .. segment'],
    ['https://app.example.com/%63allback', 'a percent-encoded unreserved letter'],
    ['https://app.example.com/callback%252F', 'double encoding'],
    ['https://app.example.com/callback#x', 'a fragment'],
    ['https://app.example.com/callback ', 'a trailing space'],
    ['https://app.example.com./callback', 'a trailing dot on the host'],
    ['https://app.example.com.evil.example/callback', 'a suffixed host'],
    ['https://evil.example/callback', 'another host'],
    ['http://app.example.com/callback', 'http instead of https'],
    ['https://app.example.com:8443/callback', 'a port on a non-loopback URI'],
    ['', 'an empty string'],
  ])('refuses %j (%s)', (requested) => {
    expect(matchRedirectUri(requested, registered)).toBeNull();
  });

  it('returns the registered string that matched', () => {
    expect(matchRedirectUri('https://b.example/cb', ['https://a.example/cb', 'https://b.example/cb'])).toBe('https://b.example/cb');
    expect(matchRedirectUri('https://a.example/cb', [])).toBeNull();
  });

  it('matches a private-use URI exactly and nothing else', () => {
    expect(matchRedirectUri('com.example.app:/callback', ['com.example.app:/callback'])).toBe('com.example.app:/callback');
    expect(matchRedirectUri('com.example.app://callback', ['com.example.app:/callback'])).toBeNull();
    expect(matchRedirectUri('COM.EXAMPLE.APP:/callback', ['com.example.app:/callback'])).toBeNull();
  });
});

describe('matchRedirectUri: loopback ports (checklist 4)', () => {
  it.each([
    ['http://127.0.0.1/cb', 'http://127.0.0.1:51234/cb'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1/cb'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:1/cb'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:65535/cb'],
    ['http://127.0.0.1:3000/cb', 'http://127.0.0.1:51234/cb'],
    ['http://127.0.0.1:3000/cb', 'http://127.0.0.1/cb'],
    ['http://127.0.0.1/cb?x=1', 'http://127.0.0.1:8080/cb?x=1'],
    ['http://[::1]/cb', 'http://[::1]:8080/cb'],
    ['http://[::1]:9/cb', 'http://[::1]/cb'],
    ['http://localhost/oauth/callback', 'http://localhost:6274/oauth/callback'],
    ['http://localhost', 'http://localhost:6274'],
    ['http://localhost:1234?q', 'http://localhost:80?q'],
  ])('registered %s accepts %s', (registered, requested) => {
    expect(matchRedirectUri(requested, [registered])).toBe(registered);
  });

  it.each([
    ['http://127.0.0.1/cb', 'http://127.0.0.1:51234/other', 'another path'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:51234/cb/', 'a trailing /'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:51234/cb?x=1', 'an extra query'],
    ['http://127.0.0.1/cb', 'http://localhost:51234/cb', 'a swap to localhost'],
    ['http://localhost/cb', 'http://127.0.0.1:51234/cb', 'a swap to 127.0.0.1'],
    ['http://127.0.0.1/cb', 'http://[::1]:51234/cb', 'a swap to [::1]'],
    ['http://[::1]/cb', 'http://127.0.0.1:51234/cb', 'a swap from [::1]'],
    ['http://127.0.0.1/cb', 'https://127.0.0.1:51234/cb', 'https instead of http'],
    ['http://127.0.0.1/cb', 'HTTP://127.0.0.1:51234/cb', 'an upper-case scheme'],
    ['http://localhost/cb', 'http://LOCALHOST:51234/cb', 'an upper-case host'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1.evil.example/cb', 'a host with a suffix'],
    ['http://127.0.0.1', 'http://127.0.0.1.evil.example', 'a suffix when nothing follows the host'],
    ['http://localhost', 'http://localhost.evil.example:80', 'a suffix with a port'],
    ['http://localhost/cb', 'http://localhost@evil.example/cb', 'userinfo'],
    ['http://localhost/cb', 'http://localhost:80@evil.example/cb', 'a port then userinfo'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:/cb', 'an empty port'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:0/cb', 'port 0'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:65536/cb', 'a port over 65535'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:123456/cb', 'six port digits'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:080/cb', 'a port with a leading zero'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:8o/cb', 'a port with a letter'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:80:80/cb', 'two ports'],
    ['http://127.0.0.1:/cb', 'http://127.0.0.1:abc/cb', 'a registered empty port against a junk one'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:8080/cb#x', 'a fragment'],
    ['http://localhostx/cb', 'http://localhostx:8080/cb', 'a registered host that only starts with localhost'],
    ['https://localhost/cb', 'https://localhost:8443/cb', 'https loopback (only http gets the port exception)'],
    ['HTTP://127.0.0.1/cb', 'HTTP://127.0.0.1:8080/cb', 'a registered upper-case scheme'],
  ])('registered %s refuses %s (%s)', (registered, requested) => {
    expect(matchRedirectUri(requested, [registered])).toBeNull();
  });
});

describe('resolveRedirectUri (checklist 3)', () => {
  it('uses the only registered URI when the request names none', () => {
    expect(resolveRedirectUri(undefined, ['https://a.example/cb'])).toEqual({ ok: true, uri: 'https://a.example/cb' });
  });

  it('returns the registered URI the request matches', () => {
    expect(resolveRedirectUri('https://b.example/cb', ['https://a.example/cb', 'https://b.example/cb'])).toEqual({
      ok: true,
      uri: 'https://b.example/cb',
    });
    expect(resolveRedirectUri('http://127.0.0.1:5000/cb', ['http://127.0.0.1/cb'])).toEqual({ ok: true, uri: 'http://127.0.0.1/cb' });
  });

  it.each([
    [undefined, ['https://a.example/cb', 'https://b.example/cb'], 'missing_with_several_registered',
      'redirect_uri is required when the client has several registered redirect URIs'],
    [undefined, [], 'not_registered', 'the client has no registered redirect URI'],
    ['https://a.example/cb/', ['https://a.example/cb'], 'not_registered', 'redirect_uri does not match a registered redirect URI'],
    ['https://c.example/cb', ['https://a.example/cb', 'https://b.example/cb'], 'not_registered',
      'redirect_uri does not match a registered redirect URI'],
    ['', ['https://a.example/cb'], 'not_registered', 'redirect_uri does not match a registered redirect URI'],
  ] as const)('refuses %j with %j as %s', (requested, registered, reason, description) => {
    expect(resolveRedirectUri(requested, registered)).toEqual({ ok: false, reason, description });
    expect(isErrorDescription(description)).toBe(true);
  });
});
