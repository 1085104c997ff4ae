// Who is an administrator: ADMIN_USERS entries (subjects or verified emails) against a signed-in person.
import { describe, expect, it } from 'vitest';
import { adminLabel, isAdministrator, parseAdminUsers } from '../../../src/auth/admin-users.ts';

describe('ADMIN_USERS', () => {
  const users = parseAdminUsers([' 110248495921238986420 ', 'Security-Lead@Example.com', '', 'user-local']);

  it('splits subjects from email addresses; emails compare without case, subjects exactly', () => {
    expect([...users.subjects]).toEqual(['110248495921238986420', 'user-local']);
    expect([...users.emails]).toEqual(['security-lead@example.com']);
    expect(isAdministrator(users, { subject: '110248495921238986420', emailVerified: false })).toBe(true);
    expect(isAdministrator(users, { subject: 'USER-LOCAL', emailVerified: false })).toBe(false);
    expect(isAdministrator(users, { subject: 'x', email: 'security-lead@EXAMPLE.com', emailVerified: true })).toBe(true);
  });

  it('an email the provider did not verify never makes an administrator', () => {
    expect(isAdministrator(users, { subject: 'x', email: 'security-lead@example.com', emailVerified: false })).toBe(false);
    expect(isAdministrator(users, { subject: 'x', emailVerified: true })).toBe(false);
  });

  it('an empty list names nobody', () => {
    expect(isAdministrator(parseAdminUsers([]), { subject: '', email: '', emailVerified: true })).toBe(false);
  });

  it('the audit label is the verified email, else the subject', () => {
    expect(adminLabel({ subject: 's1', email: 'A@B.example', emailVerified: true })).toBe('a@b.example');
    expect(adminLabel({ subject: 's1', email: 'A@B.example', emailVerified: false })).toBe('sub:s1');
  });
});
