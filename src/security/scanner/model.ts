/** The learned layer at run time: a logistic regression over `featuresOf`, with weights from `weights.ts`. */
import { BUCKETS, NAMED_FEATURES, tokenAt, type FeatureVector } from './features.ts';

/** Weights as `npm run scanner:train` writes them. */
export interface ModelWeights {
  /** What produced these weights (data, folds, regularisation); informational. */
  trainedOn: string;
  bias: number;
  /** By feature name, so a reordered feature list cannot silently misalign the weights. */
  named: Record<string, number>;
  /** One weight per hash bucket. */
  hashed: number[];
  buckets: number;
  /** Score at or above which a definition is flagged. */
  threshold: number;
}

/** A model ready to score: named weights laid out in vector order. */
export interface LoadedModel {
  bias: number;
  named: Float64Array;
  hashed: Float64Array;
  threshold: number;
}

/** Lays weights out in the order of `NAMED_FEATURES`; a feature unknown to the weights weighs 0. */
export function loadModel(w: ModelWeights): LoadedModel {
  if (w.buckets !== BUCKETS || w.hashed.length !== BUCKETS) throw new Error(`scanner weights have ${w.hashed.length} buckets, the code expects ${BUCKETS}: run npm run scanner:train`);
  return {
    bias: w.bias,
    named: Float64Array.from(NAMED_FEATURES, (n) => w.named[n] ?? 0),
    hashed: Float64Array.from(w.hashed),
    threshold: w.threshold,
  };
}

/** The linear score and the hashed token that pushed it up the most (for the explanation). */
export function linear(m: LoadedModel, v: FeatureVector): { z: number; top: Array<{ token: string; where: string; weight: number }> } {
  let z = m.bias;
  for (let i = 0; i < v.named.length; i++) z += (m.named[i] ?? 0) * (v.named[i] ?? 0);
  const top: Array<{ token: string; where: string; weight: number }> = [];
  const h = v.hashed;
  for (let i = 0; i < h.bucket.length; i++) {
    const c = (m.hashed[h.bucket[i] as number] ?? 0) * (h.value[i] as number);
    z += c;
    if (c > 0.15) top.push({ token: tokenAt(h, i), where: h.where[i] as string, weight: c });
  }
  top.sort((a, b) => b.weight - a.weight);
  return { z, top: top.slice(0, 3) };
}

/** The logistic function. */
export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
