/** Runs one fuzz edge with fast-check: counts every violated invariant over N seeded inputs, then shrinks one counter-example per invariant. Runs in workerd and Node. */
import fc from 'fast-check';

/** A violated invariant: its name and what was seen (never the whole body). */
export interface Violation {
  invariant: string;
  detail: string;
}

/** How an edge checks one input: the list of violated invariants (empty when all hold). */
export type Probe<T> = (input: T) => Promise<Violation[]>;

/** How many inputs, from which seed, within how long. */
export interface FuzzSettings {
  runs: number;
  seed: number;
  /** The budget of the whole edge (counting pass and shrinking), in milliseconds. */
  timeLimitMs: number;
}

/** One invariant's failures on an edge, with the shrunk input that breaks it. */
export interface InvariantFailure {
  invariant: string;
  count: number;
  detail: string;
  counterexample: string;
  shrinks: number;
}

/** What `npm run fuzz` prints per edge. */
export interface EdgeSummary {
  edge: string;
  seed: number;
  inputs: number;
  failures: number;
  ms: number;
  interrupted: boolean;
  /** Answers by status over the counting pass. */
  statuses: Record<string, number>;
  invariants: InvariantFailure[];
}

const statuses = new Map<string, number>();

/** Counts an answer's status (the summary shows what the inputs reached, not only what failed). */
export function tally(status: number | string): void {
  statuses.set(String(status), (statuses.get(String(status)) ?? 0) + 1);
}

/** The prefix of the one-line JSON summary each edge prints (bin/fuzz.mjs collects these lines). */
export const SUMMARY_PREFIX = 'FUZZ-SUMMARY ';

const MAX_SHRUNK_INVARIANTS = 4;

function show(value: unknown): string {
  const text = fc.stringify(value);
  return text.length > 600 ? `${text.slice(0, 600)}… (${text.length} characters)` : text;
}

/**
 * Pass 1 runs every input and counts violations per invariant (no early stop). Pass 2 replays the
 * same seed with a property that fails only on one invariant, so fast-check shrinks it.
 */
export async function fuzzEdge<T>(edge: string, arbitrary: fc.Arbitrary<T>, rawProbe: Probe<T>, settings: FuzzSettings, examples: T[] = []): Promise<EdgeSummary> {
  // fast-check's time limit returns while a run may still be in flight: wait for it, so its answer is not counted in the next edge.
  let inFlight = 0;
  const probe: Probe<T> = async (input) => {
    inFlight += 1;
    try {
      return await rawProbe(input);
    } finally {
      inFlight -= 1;
    }
  };
  const settle = async () => {
    for (let i = 0; i < 600 && inFlight > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  const started = Date.now();
  const deadline = started + settings.timeLimitMs;
  const seen = new Map<string, { count: number; detail: string; example?: number; random?: number }>();
  let inputs = 0;
  let failed = 0;
  statuses.clear();
  const counting = await fc.check(
    fc.asyncProperty(arbitrary, async (input) => {
      inputs += 1;
      let violations: Violation[];
      try {
        violations = await probe(input);
      } catch (error) {
        violations = [{ invariant: 'the probe runs to the end', detail: String(error).slice(0, 300) }];
      }
      if (violations.length > 0) failed += 1;
      for (const v of violations) {
        const entry = seen.get(v.invariant);
        const run = inputs - 1;
        const which = run < examples.length ? 'example' : 'random';
        if (entry) {
          entry.count += 1;
          entry[which] ??= run;
        } else {
          seen.set(v.invariant, { count: 1, detail: v.detail, [which]: run });
        }
      }
      return true;
    }),
    { numRuns: settings.runs, seed: settings.seed, examples: examples.map((e) => [e] as [T]), interruptAfterTimeLimit: Math.max(1, Math.floor(settings.timeLimitMs * 0.75)), markInterruptAsFailure: false },
  );
  await settle();
  const counted = Object.fromEntries([...statuses.entries()].sort());
  const invariants: InvariantFailure[] = [];
  for (const [invariant, { count, detail, example, random }] of [...seen.entries()].slice(0, MAX_SHRUNK_INVARIANTS)) {
    // Each invariant gets a share of the time left; the replay starts at its first failing run (fast-check's `path`).
    const left = Math.min(deadline - Date.now(), Math.max(5000, Math.floor(settings.timeLimitMs / 4)));
    let counterexample = '(not shrunk: out of time)';
    let shrinks = 0;
    let shrunkDetail = detail;
    if (random === undefined) {
      // Only a pinned example (an input a report named) broke it: shown as it is.
      counterexample = `${show(examples[example ?? 0])} (pinned example)`;
    } else if (left > 1000) {
      // Past its share of time the property stops failing, so the shrinker ends with the smallest input found so far.
      const stopAt = Date.now() + left;
      const shrinking = await fc.check(
        fc.asyncProperty(arbitrary, async (input) => {
          if (Date.now() > stopAt) return true;
          const found = await probe(input).catch((error: unknown) => [{ invariant: 'the probe runs to the end', detail: String(error) }]);
          return found.find((v) => v.invariant === invariant) === undefined;
        }),
        { numRuns: settings.runs, seed: settings.seed, path: String(random - examples.length), markInterruptAsFailure: false, endOnFailure: false },
      );
      await settle();
      if (shrinking.failed && shrinking.counterexample) {
        counterexample = show(shrinking.counterexample[0]);
        shrinks = shrinking.numShrinks;
        const last = (await probe(shrinking.counterexample[0]).catch((error: unknown) => [{ invariant: 'the probe runs to the end', detail: String(error) }])).find((v) => v.invariant === invariant);
        if (last) shrunkDetail = last.detail;
      } else {
        counterexample = '(not reproduced: the time was up)';
      }
    }
    invariants.push({ invariant, count, detail: shrunkDetail, counterexample, shrinks });
  }
  return { edge, seed: settings.seed, inputs, failures: failed, ms: Date.now() - started, interrupted: counting.interrupted, statuses: counted, invariants };
}

/** A readable report of an edge's failures (the assertion message of a failed fuzz test). */
export function describeFailures(summary: EdgeSummary): string {
  const lines = [`edge ${summary.edge}: ${summary.failures} of ${summary.inputs} inputs broke an invariant (seed ${summary.seed})`];
  for (const f of summary.invariants) lines.push(`  - ${f.invariant} (${f.count}×): ${f.detail}\n    shrunk (${f.shrinks} steps): ${f.counterexample}`);
  return lines.join('\n');
}

/** Settings from the environment: FUZZ_RUNS, FUZZ_SEED, FUZZ_TIME_MS (per edge); a small fixed-seed slice by default. */
export function settingsFrom(vars: { FUZZ_RUNS?: string | undefined; FUZZ_SEED?: string | undefined; FUZZ_TIME_MS?: string | undefined }, slice = 60): FuzzSettings {
  const runs = Number(vars.FUZZ_RUNS) > 0 ? Number(vars.FUZZ_RUNS) : slice;
  const seed = vars.FUZZ_SEED !== undefined && vars.FUZZ_SEED !== '' && Number.isInteger(Number(vars.FUZZ_SEED)) ? Number(vars.FUZZ_SEED) : 20261207;
  const timeLimitMs = Number(vars.FUZZ_TIME_MS) > 0 ? Number(vars.FUZZ_TIME_MS) : 25_000;
  return { runs, seed, timeLimitMs };
}
