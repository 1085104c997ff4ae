/** The administrator behind an admin request, once authenticated: read by the handlers that name them in audit events and in the alert hub. */
const ADMIN_OF = new WeakMap<Request, string>();

/** Records who is behind `request` (the bootstrap credential is "bootstrap"). */
export function setAdminOf(request: Request, admin: string): void {
  ADMIN_OF.set(request, admin);
}

/** Who is behind `request`: a named administrator, or "bootstrap". */
export function adminOf(request: Request): string {
  return ADMIN_OF.get(request) ?? 'bootstrap';
}
