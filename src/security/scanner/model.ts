/** The learned layer at run time: a logistic regression over `featuresOf`, with weights from `weights.ts`. */
import { BUCKETS, NAMED_FEATURES, tokenAt, type FeatureVector } from './features.ts';

/** Weights as `npm run scanner:train` writes them. */
export interface ModelWeights {
  /** What produced these weights (data, folds, regularisation); informational. */
  trainedOn: string;
  bias: number;
  /** By feature name, so a reordered feature list cannot silently misalign the weights. */
  named: Record<string, number>;
  /** One weight per hash bucket, quantised: little-endian int16 values times 1/HASHED_SCALE, base64-encoded. */
  hashed: string;
  buckets: number;
  /** Score at or above which a definition is flagged. */
  threshold: number;
}

/** Quantisation of the hashed weights: int16 steps of 1/4096 (range ±8, precision 0.00025). */
export const HASHED_SCALE = 4096;

/** Encodes hashed weights for the weights module. */
export function encodeHashed(w: ArrayLike<number>): string {
  let bin = '';
  for (let i = 0; i < w.length; i++) {
    const q = Math.max(-32768, Math.min(32767, Math.round((w[i] ?? 0) * HASHED_SCALE))) & 0xffff;
    bin += String.fromCharCode(q & 0xff, q >> 8);
  }
  return btoa(bin);
}

/** Decodes what `encodeHashed` wrote. */
export function decodeHashed(b64: string): Float64Array {
  const bin = atob(b64);
  const out = new Float64Array(bin.length / 2);
  for (let i = 0; i < out.length; i++) {
    const q = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
    out[i] = (q >= 0x8000 ? q - 0x10000 : q) / HASHED_SCALE;
  }
  return out;
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
  const hashed = decodeHashed(w.hashed);
  if (w.buckets !== BUCKETS || hashed.length !== BUCKETS) throw new Error(`scanner weights have ${hashed.length} buckets, the code expects ${BUCKETS}: run npm run scanner:train`);
  return {
    bias: w.bias,
    named: Float64Array.from(NAMED_FEATURES, (n) => w.named[n] ?? 0),
    hashed,
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
