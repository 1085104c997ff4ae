// Bindings the test configuration adds to the Worker's own (see vitest.config.ts).
import type { Env } from '../../src/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends import('../../src/env.ts').Env {
      TEST_HYPERDRIVE?: Hyperdrive;
      TEST_HYPERDRIVE_DOWN?: Hyperdrive;
    }
  }
}
export type { Env };
