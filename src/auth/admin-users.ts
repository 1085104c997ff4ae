/** Who is an administrator: the ADMIN_USERS list (upstream subjects or verified email addresses) matched against a signed-in person. Pure. */

/** The parsed ADMIN_USERS list: subjects as written, email addresses in lower case. */
export interface AdminUsers {
  subjects: ReadonlySet<string>;
  emails: ReadonlySet<string>;
}

/** The person an upstream sign-in named. */
export interface SignedInPerson {
  subject: string;
  email?: string | undefined;
  emailVerified: boolean;
}

/** Splits ADMIN_USERS entries: an entry with '@' is an email address, anything else an upstream subject (`sub`). */
export function parseAdminUsers(entries: readonly string[]): AdminUsers {
  const subjects = new Set<string>();
  const emails = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry.includes('@')) emails.add(entry.toLowerCase());
    else subjects.add(entry);
  }
  return { subjects, emails };
}

/** True when the person is named by subject, or by an email address the provider says it verified. */
export function isAdministrator(users: AdminUsers, person: SignedInPerson): boolean {
  if (users.subjects.has(person.subject)) return true;
  return person.emailVerified && person.email !== undefined && users.emails.has(person.email.toLowerCase());
}

/** How the audit trail names an administrator: the verified email, or the upstream subject. */
export function adminLabel(person: SignedInPerson): string {
  return person.emailVerified && person.email ? person.email.toLowerCase() : `sub:${person.subject}`;
}
