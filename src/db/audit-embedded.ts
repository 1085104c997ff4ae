/** Embedded adapter of the audit port: the AuditStore Durable Object's SQLite, reached through its contract. */
import type { AuditEvent } from '../audit/event.ts';
import type { AuditStoreObject } from '../contracts/audit-store.ts';
import type { AuditPort, AuditQuery, StoredAuditEvent } from './audit-port.ts';

/** Keeps the audit trail in the single "default" AuditStore instance. */
export class EmbeddedAuditPort implements AuditPort {
  readonly kind = 'embedded';
  readonly #store: DurableObjectStub<AuditStoreObject>;

  constructor(namespace: DurableObjectNamespace<AuditStoreObject>) {
    this.#store = namespace.get(namespace.idFromName('default'));
  }

  async append(events: readonly AuditEvent[]): Promise<void> {
    await this.#store.append([...events]);
  }

  async search(q: AuditQuery): Promise<StoredAuditEvent[]> {
    return this.#store.search(q);
  }
}
