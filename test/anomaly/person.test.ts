// A person's baseline lives in the grant's object; the "fresh sign-in" policy answers 401 and ends the grant, so its refresh token stops working.
import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { signIn, tokenRequest } from '../support/oauth-flow.ts';
import { FETCHERS, ORIGIN } from '../support/mcp-http.ts';
import { auditOf, learn, openWith, toolCall } from './support.ts';

describe('a person through an OAuth client', () => {
  it('learns in the grant object; an unusual call under "reauth" gets 401 asking for a fresh sign-in, and the grant is ended', async () => {
    const person = await signIn(ORIGIN, FETCHERS);
    const grantId = String(decodeJwt(person.accessToken).gid);
    const grant = env.AUTH_TXN.get(env.AUTH_TXN.idFromName(grantId));
    const { sessionId, headers } = await openWith(person.accessToken);
    await learn(headers, 6);
    await runDurableObjectAlarm(env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId)));
    const view = await grant.baseline();
    expect(view.state?.n).toBe(6);
    expect(view.state?.kind).toBe('person');

    const refused = await toolCall(headers, 'describe_table', { table: 'customers' });
    expect(refused.status).toBe(401);
    const challenge = refused.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer error="invalid_token"/);
    expect(challenge).toContain('a fresh sign-in is required');
    expect(challenge).toContain(`resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`);
    // The grant is ended: the refresh token no longer works, so only a new sign-in continues.
    const refreshed = await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'refresh_token', refresh_token: person.refreshToken, client_id: person.clientId });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
    // The tool never ran; the refusal and the enforcement are in the trail with the person's chain.
    const ran = await auditOf((e) => e.type === 'tool.call' && e.actor.grant_id === grantId && e.tool === 'describe_table');
    expect(ran).toEqual([]);
    const enforced = await auditOf((e) => e.type === 'anomaly.enforced' && e.actor.grant_id === grantId);
    expect(enforced.map((e) => [e.tool, e.error_code])).toEqual([['describe_table', 'anomaly_reauth_required']]);
    expect(enforced[0]?.actor.client_id).toBe(person.clientId);
    const detected = await auditOf((e) => e.type === 'anomaly.detected' && e.actor.grant_id === grantId);
    expect((detected[0]?.params as { kind: string; action: string })).toMatchObject({ kind: 'person', action: 'reauth' });
  });
});
