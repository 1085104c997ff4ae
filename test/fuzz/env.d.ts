// Bindings the fuzz tests read (vitest.config.ts passes them from the environment of `npm run fuzz`).
declare global {
  namespace Cloudflare {
    interface Env {
      FUZZ_RUNS?: string;
      FUZZ_SEED?: string;
      FUZZ_TIME_MS?: string;
    }
  }
}
export {};
