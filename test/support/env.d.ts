// Bindings the tests see: the Worker's own plus those vitest.config.ts adds.
import type { Env as WorkerEnv } from '../../src/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_HYPERDRIVE?: Hyperdrive;
      TEST_HYPERDRIVE_DOWN?: Hyperdrive;
    }
  }
}
