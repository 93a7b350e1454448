/**
 * Test data for src/ml: the scikit-learn reference sets in
 * ../shared/data/reference (see its README), and seeded synthetic blobs.
 * CI clones this repo with `shared/` beside it, so the path is fixed relative
 * to the repo root, not the working directory.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../../src/ml/random.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const referenceDir = path.resolve(repoRoot, '../shared/data/reference');

export interface ReferenceSet {
  n: number;
  d: number;
  /** n*d, row-major. */
  data: Float64Array;
  /** True class of each row. */
  labels: Int32Array;
  classNames: string[];
}

/**
 * scikit-learn's bundled CSV layout: the first line is
 * `n_samples,n_features,class names...`, then features + integer class per row.
 */
export function loadReference(name: 'iris' | 'breast_cancer'): ReferenceSet {
  const file = path.join(referenceDir, `${name}.csv`);
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const [head, ...rows] = lines;
  if (head === undefined) throw new Error(`${file} is empty`);
  const [nText, dText, ...classNames] = head.split(',');
  const n = Number(nText);
  const d = Number(dText);
  if (!Number.isInteger(n) || !Number.isInteger(d) || rows.length !== n) {
    throw new Error(`${file}: header says ${nText} x ${dText} but there are ${rows.length} rows`);
  }
  const data = new Float64Array(n * d);
  const labels = new Int32Array(n);
  rows.forEach((line, i) => {
    const cells = line.split(',').map(Number);
    if (cells.length !== d + 1 || cells.some((v) => !Number.isFinite(v))) {
      throw new Error(`${file}:${i + 2}: expected ${d} numbers and a class`);
    }
    for (let t = 0; t < d; t++) data[i * d + t] = cells[t]!;
    labels[i] = cells[d]!;
  });
  return { n, d, data, labels, classNames };
}

/**
 * Gaussian blobs with unit spread around ±scale·e_j (centre c on axis c mod d,
 * sign flipping every d centres), so centres are at least scale·√2 apart and
 * the true partition is unambiguous for scale ≳ 8.
 */
export function makeBlobs(
  n: number,
  d: number,
  k: number,
  opts: { seed: number; scale?: number; spread?: number },
): { data: Float64Array; labels: Int32Array } {
  const rng = createRng(opts.seed);
  const scale = opts.scale ?? 10;
  const spread = opts.spread ?? 1;
  const data = new Float64Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(k);
    labels[i] = c;
    const axis = c % d;
    const sign = Math.floor(c / d) % 2 === 0 ? 1 : -1;
    for (let t = 0; t < d; t++) {
      data[i * d + t] = (t === axis ? sign * scale : 0) + spread * rng.normal();
    }
  }
  return { data, labels };
}
