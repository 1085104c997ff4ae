// Bindings the tests see: the Worker's own plus those vitest.config.ts adds. Tests look inside the
// objects (runInDurableObject), so here each namespace is typed by its class, not only its contract.
import type { Env as WorkerEnv } from '../../src/env.ts';
import type { ApiKey } from '../../durable/api-key.ts';
import type { AuditRelay } from '../../durable/audit-relay.ts';
import type { AuditStore } from '../../durable/audit-store.ts';
import type { AuthTransaction } from '../../durable/auth-transaction.ts';
import type { ClientRegistry } from '../../durable/client-registry.ts';
import type { McpSession } from '../../durable/session.ts';
import type { AlertHub } from '../../durable/alert-hub.ts';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      MCP_SESSION: DurableObjectNamespace<McpSession>;
      AUTH_TXN: DurableObjectNamespace<AuthTransaction>;
      CLIENTS: DurableObjectNamespace<ClientRegistry>;
      API_KEY: DurableObjectNamespace<ApiKey>;
      AUDIT_STORE: DurableObjectNamespace<AuditStore>;
      AUDIT_RELAY: DurableObjectNamespace<AuditRelay>;
      ALERT_HUB: DurableObjectNamespace<AlertHub>;
      TEST_HYPERDRIVE?: Hyperdrive;
      TEST_HYPERDRIVE_DOWN?: Hyperdrive;
    }
  }
}
