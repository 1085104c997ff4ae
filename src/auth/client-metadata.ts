/** Dynamic Client Registration (RFC 7591 §2, §3.2.2): parsing a registration request into the metadata we store. Pure. */
import { quoteValue } from './error-text.ts';
import { checkRedirectUriForRegistration } from './redirect-uri.ts';
import { formatScope, parseScope } from './scopes.ts';

/** The largest registration body accepted, in bytes; the HTTP layer enforces it before parsing. */
export const MAX_REGISTRATION_BYTES = 16 * 1024;

/** The most entries of any array in a registration request. */
export const MAX_ARRAY_ENTRIES = 10;

/** The most redirect URIs a client may register. */
export const MAX_REDIRECT_URIS = 10;

/** The most contacts a client may give. */
export const MAX_CONTACTS = 5;

/** The longest `client_name`, in characters. */
export const MAX_CLIENT_NAME_LENGTH = 100;

/** How a client authenticates at the token endpoint. */
export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** The grants a client may use. */
export type ClientGrantType = 'authorization_code' | 'refresh_token';

/** A registration request that passed: only the fields below are kept, with defaults filled in. */
export type ClientMetadata = {
  redirect_uris: string[];
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  grant_types: ClientGrantType[];
  response_types: ['code'];
  scope?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
};

/** A refused registration; `description` is safe to send as `error_description`. */
export type ClientMetadataRejection = {
  ok: false;
  error: 'invalid_redirect_uri' | 'invalid_client_metadata';
  description: string;
};

const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post'];
const GRANT_TYPES: readonly ClientGrantType[] = ['authorization_code', 'refresh_token'];
const MAX_URL_LENGTH = 2000;
const MAX_SHORT_TEXT = 200;
const MAX_CONTACT_LENGTH = 320;
// RFC 3986 characters only: no white space, no backslash (which WHATWG URL reads as `/`).
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
// C0/C1 controls and the bidirectional and invisible formatting characters that can make a
// name on the consent page read as something else.
// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are refused in names
const DECEPTIVE = /[\x00-\x1F\x7F-\x9F\u061C\u180E\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/;

/**
 * Parses a registration request body (already JSON-decoded). Unknown fields are ignored, and so
 * are `client_id`, `client_secret`, `client_id_issued_at`, `client_secret_expires_at` and
 * `registration_access_token`: the server issues those, never the client. A `null` optional
 * field reads as absent. Redirect URI values that fail checkRedirectUriForRegistration are
 * `invalid_redirect_uri`; every other problem is `invalid_client_metadata`.
 */
export function parseClientMetadata(body: unknown): { ok: true; metadata: ClientMetadata } | ClientMetadataRejection {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return invalid('the registration request must be a JSON object');
  }
  const fields = body as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) {
    if (Array.isArray(value) && value.length > MAX_ARRAY_ENTRIES) {
      return invalid(`${quoteValue(name)} has more than ${MAX_ARRAY_ENTRIES} entries`);
    }
  }
  const field = (name: string): unknown => (Object.hasOwn(fields, name) ? fields[name] : undefined) ?? undefined;

  const redirectUris = stringArray(field('redirect_uris'), 'redirect_uris', MAX_REDIRECT_URIS, Infinity);
  if (!redirectUris.ok) return redirectUris;
  if (redirectUris.value === undefined || redirectUris.value.length === 0) {
    return invalid('redirect_uris is required and must list at least one URI');
  }
  for (const uri of redirectUris.value) {
    const check = checkRedirectUriForRegistration(uri);
    if (!check.ok) {
      return { ok: false, error: 'invalid_redirect_uri', description: `redirect URI ${quoteValue(uri)} refused: ${check.description}` };
    }
  }

  const clientName = text(field('client_name'), 'client_name', MAX_CLIENT_NAME_LENGTH);
  if (!clientName.ok) return clientName;
  if (clientName.value !== undefined && DECEPTIVE.test(clientName.value)) {
    return invalid('client_name must not contain control or bidirectional formatting characters');
  }
  const clientUri = httpsUrl(field('client_uri'), 'client_uri');
  if (!clientUri.ok) return clientUri;
  const logoUri = httpsUrl(field('logo_uri'), 'logo_uri');
  if (!logoUri.ok) return logoUri;

  const authMethod = oneOf(field('token_endpoint_auth_method'), 'token_endpoint_auth_method', AUTH_METHODS);
  if (!authMethod.ok) return authMethod;
  const grantTypes = stringArray(field('grant_types'), 'grant_types', MAX_ARRAY_ENTRIES, MAX_SHORT_TEXT);
  if (!grantTypes.ok) return grantTypes;
  const grants: ClientGrantType[] = [];
  for (const grant of grantTypes.value ?? ['authorization_code']) {
    const known = GRANT_TYPES.find((g) => g === grant);
    if (known === undefined) return invalid(`grant_types value ${quoteValue(grant)} is not supported`);
    grants.push(known);
  }
  if (!grants.includes('authorization_code')) {
    return invalid('grant_types must include authorization_code (the only response type is code)');
  }
  const responseTypes = stringArray(field('response_types'), 'response_types', MAX_ARRAY_ENTRIES, MAX_SHORT_TEXT);
  if (!responseTypes.ok) return responseTypes;
  const badResponse = (responseTypes.value ?? ['code']).find((r) => r !== 'code');
  if (responseTypes.value?.length === 0 || badResponse !== undefined) {
    return invalid(`response_types must be code only${badResponse === undefined ? '' : `: ${quoteValue(badResponse)} is not supported`}`);
  }

  const scopeText = text(field('scope'), 'scope', MAX_SHORT_TEXT * 5);
  if (!scopeText.ok) return scopeText;
  const scope = parseScope(scopeText.value);
  if (!scope.ok) return invalid(`scope has unknown values: ${quoteValue(scope.unknown.join(' '))}`);
  const contacts = stringArray(field('contacts'), 'contacts', MAX_CONTACTS, MAX_CONTACT_LENGTH);
  if (!contacts.ok) return contacts;
  const softwareId = text(field('software_id'), 'software_id', MAX_SHORT_TEXT);
  if (!softwareId.ok) return softwareId;
  const softwareVersion = text(field('software_version'), 'software_version', MAX_SHORT_TEXT);
  if (!softwareVersion.ok) return softwareVersion;

  const metadata: ClientMetadata = {
    redirect_uris: redirectUris.value,
    token_endpoint_auth_method: authMethod.value ?? 'client_secret_basic',
    grant_types: [...new Set(grants)],
    response_types: ['code'],
  };
  if (clientName.value !== undefined) metadata.client_name = clientName.value;
  if (clientUri.value !== undefined) metadata.client_uri = clientUri.value;
  if (logoUri.value !== undefined) metadata.logo_uri = logoUri.value;
  if (scope.scopes.length > 0) metadata.scope = formatScope(scope.scopes);
  if (contacts.value !== undefined && contacts.value.length > 0) metadata.contacts = contacts.value;
  if (softwareId.value !== undefined) metadata.software_id = softwareId.value;
  if (softwareVersion.value !== undefined) metadata.software_version = softwareVersion.value;
  return { ok: true, metadata };
}

type Read<T> = { ok: true; value: T | undefined } | ClientMetadataRejection;

function invalid(description: string): ClientMetadataRejection {
  return { ok: false, error: 'invalid_client_metadata', description };
}

/** An optional string of at most `max` characters. */
function text(value: unknown, name: string, max: number): Read<string> {
  if (value === undefined) return { ok: true, value: undefined };
  if (typeof value !== 'string') return invalid(`${name} must be a string`);
  if (value.length > max) return invalid(`${name} is longer than ${max} characters`);
  return { ok: true, value };
}

/** An optional array of at most `maxEntries` strings, each at most `maxLength` characters, duplicates dropped. */
function stringArray(value: unknown, name: string, maxEntries: number, maxLength: number): Read<string[]> {
  if (value === undefined) return { ok: true, value: undefined };
  if (!Array.isArray(value)) return invalid(`${name} must be an array of strings`);
  if (value.length > maxEntries) return invalid(`${name} has more than ${maxEntries} entries`);
  const values: string[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'string') return invalid(`${name} must be an array of strings`);
    if (entry.length > maxLength) return invalid(`${name} has an entry longer than ${maxLength} characters`);
    if (!values.includes(entry)) values.push(entry);
  }
  return { ok: true, value: values };
}

/** An optional absolute https URL of RFC 3986 characters, without userinfo. */
function httpsUrl(value: unknown, name: string): Read<string> {
  const read = text(value, name, MAX_URL_LENGTH);
  if (!read.ok || read.value === undefined) return read;
  const refused = invalid(`${name} must be an absolute https URL`);
  if (!/^https:\/\/[^/?#@]+/i.test(read.value) || !URI_CHARACTERS.test(read.value)) return refused;
  try {
    const url = new URL(read.value);
    return url.protocol === 'https:' && url.username === '' && url.password === '' ? read : refused;
  } catch {
    return refused;
  }
}

/** An optional string that must be one of `allowed`. */
function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): Read<T> {
  const read = text(value, name, MAX_SHORT_TEXT);
  if (!read.ok) return read;
  if (read.value === undefined) return { ok: true, value: undefined };
  const known = allowed.find((a) => a === read.value);
  if (known === undefined) return invalid(`${name} ${quoteValue(read.value)} is not supported`);
  return { ok: true, value: known };
}
