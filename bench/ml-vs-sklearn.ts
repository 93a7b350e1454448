/**
 * Our ML kernels against scikit-learn on the same data, in the same run
 * (issue 5, "Speed and memory"). Writes 1,000,000 x 12 rows from 8 Gaussian
 * blobs of different spreads once (bench/out/ml-N-D/data.f64, float64
 * row-major), then times on both sides: k-means k=8 from the same k-means++
 * centroids for at most 100 Lloyd iterations (tol 0), PCA to 2 components,
 * silhouette on 10,000 rows, Ward on 10,000 rows and DBSCAN on 50,000 rows.
 * scikit-learn runs through bench/sklearn_ref.py when python3 can import it
 * (Debian: apt-get install python3-sklearn); otherwise only our times print.
 *
 *   npm run build:bench && node dist/bench/ml-vs-sklearn.js [--rows N] [--repeat R] [--only kmeans,pca,...]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kmeans, kmeansPlusPlus } from '../src/ml/kmeans.js';
import { pca } from '../src/ml/pca.js';
import { adjustedRandIndex, silhouette } from '../src/ml/metrics.js';
import { hierarchical } from '../src/ml/hierarchical.js';
import { dbscan } from '../src/ml/dbscan.js';
import { createRng } from '../src/ml/random.js';

const root = resolve(import.meta.dirname, '../..');
const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? (argv[i + 1] as string) : dflt;
};
const n = Number(opt('rows', '1000000'));
const d = 12;
const k = 8;
const repeat = Number(opt('repeat', '1'));
const only = new Set(opt('only', 'kmeans,pca,silhouette,ward,dbscan').split(','));
const params = {
  repeat,
  kmeansIter: 100,
  silhouetteRows: Math.min(n, 10_000),
  wardRows: Math.min(n, 10_000),
  dbscanRows: Math.min(n, 50_000),
  // Chosen on this data so DBSCAN finds about 10 clusters: the core of the
  // tightest blob and a few small dense pockets; in 12 dimensions most rows
  // of the wider blobs are noise at any eps that keeps blobs apart.
  dbscanEps: 1.07,
  dbscanMinPts: 5,
};
/** Blob standard deviations: "different spreads". */
const SPREADS = [0.5, 0.7, 0.9, 1.1, 1.4, 1.8, 2.3, 3.0];

const dir = resolve(root, `bench/out/ml-${n}-${d}`);
mkdirSync(dir, { recursive: true });

/**
 * 8 blobs, centres uniform in [-2, 2]^d so the wide blobs overlap (k-means
 * then needs its 100 iterations instead of settling in a few), each row's
 * blob drawn at random so any prefix is a random sample.
 */
function writeBlobs(): void {
  const rng = createRng(7);
  const centres = Float64Array.from({ length: k * d }, () => -2 + 4 * rng.next());
  const data = new Float64Array(n * d);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const b = rng.int(k);
    truth[i] = b;
    const s = SPREADS[b]!;
    for (let t = 0; t < d; t++) data[i * d + t] = centres[b * d + t]! + s * rng.normal();
  }
  writeFileSync(join(dir, 'data.f64'), new Uint8Array(data.buffer));
  writeFileSync(join(dir, 'truth.i32'), new Uint8Array(truth.buffer));
}

/** The data over shared memory, so parallel k-means needs no copy of it. */
function readData(): Float64Array {
  const out = new Float64Array(new SharedArrayBuffer(n * d * 8));
  const bytes = new Uint8Array(out.buffer);
  const fd = openSync(join(dir, 'data.f64'), 'r');
  try {
    for (let off = 0; off < bytes.length; ) {
      const got = readSync(fd, bytes, off, Math.min(1 << 26, bytes.length - off), off);
      if (got <= 0) throw new Error('data.f64 is shorter than expected');
      off += got;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

function readInt32(file: string): Int32Array {
  const buf = readFileSync(join(dir, file));
  return new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Wall seconds and the CPU seconds of all the process's threads over them. */
interface Timed {
  s: number;
  cpu: number;
}

interface SkResult {
  sklearn: string;
  kmeans?: Timed & { iterations: number; inertia: number; algorithm: string };
  pca?: Timed & { ratio: number[]; solver: string };
  silhouette?: Timed & { value: number };
  ward?: Timed;
  dbscan?: Timed & { clusters: number; noise: number };
}

/** Debian's python3 first: a python3 earlier on PATH (pyenv, venv) may lack the Debian packages. */
function python(): string {
  if (process.env.PYTHON) return process.env.PYTHON;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function runSklearn(): SkResult | null {
  try {
    const out = execFileSync(python(), [join(root, 'bench/sklearn_ref.py'), dir, String(n), String(d)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return JSON.parse(out.trim().split('\n').pop() as string) as SkResult;
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status !== 3) process.stderr.write(`scikit-learn side failed: ${(err as Error).message}\n`);
    return null;
  }
}

/** The fastest of `repeat` runs: wall seconds and that run's CPU seconds (worker threads included). */
function best<T>(fn: () => T): Timed & { value: T } {
  let s = Infinity;
  let cpu = 0;
  let value: T | undefined;
  for (let r = 0; r < repeat; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    value = fn();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    if (wall < s) {
      s = wall;
      cpu = (c.user + c.system) / 1e6;
    }
  }
  return { s, cpu, value: value as T };
}

async function main(): Promise<void> {
  if (!existsSync(join(dir, 'data.f64'))) {
    process.stderr.write(`writing ${n} x ${d} blobs into ${dir}...\n`);
    writeBlobs();
  }
  const X = readData();
  const truth = readInt32('truth.i32');
  const init = kmeansPlusPlus(X, n, d, k, 42);
  writeFileSync(join(dir, 'init.f64'), new Uint8Array(init.buffer));
  writeFileSync(join(dir, 'params.json'), JSON.stringify(params));

  process.stderr.write('scikit-learn...\n');
  const sk = runSklearn();
  process.stderr.write('ours...\n');

  const rows: { name: string; ours: Timed; sk: Timed | undefined; target: number; note: string }[] = [];
  const sklearnLabels = (name: string): Int32Array | null => (sk && existsSync(join(dir, `sk-${name}.i32`)) ? readInt32(`sk-${name}.i32`) : null);

  if (only.has('kmeans')) {
    const r = best(() => kmeans(X, n, d, k, { init, maxIter: params.kmeansIter, tol: 0, nInit: 1 }));
    const skl = sklearnLabels('kmeans');
    const agree = skl ? ` ARI vs sklearn ${adjustedRandIndex(r.value.labels, skl).toFixed(6)};` : '';
    const skNote = sk?.kmeans ? ` sklearn ${sk.kmeans.algorithm} ${sk.kmeans.iterations} it, inertia ${sk.kmeans.inertia.toPrecision(10)}` : '';
    rows.push({ name: `k-means k=${k}, ${n} x ${d}`, ours: { s: r.s, cpu: r.cpu }, sk: sk?.kmeans, target: 1.5, note: `ours ${r.value.iterations} it, inertia ${r.value.inertia.toPrecision(10)};${agree}${skNote}` });
  }
  if (only.has('pca')) {
    const r = best(() => pca(X, n, d, { nComponents: 2 }));
    const ratio = Array.from(r.value.explainedVarianceRatio, (v) => v.toFixed(6)).join(', ');
    rows.push({ name: `PCA to 2, ${n} x ${d}`, ours: { s: r.s, cpu: r.cpu }, sk: sk?.pca, target: 2, note: `variance ratio ${ratio}${sk?.pca ? ` (sklearn ${sk.pca.ratio.map((v) => v.toFixed(6)).join(', ')}, ${sk.pca.solver})` : ''}` });
  }
  if (only.has('silhouette')) {
    const m = params.silhouetteRows;
    const r = best(() => silhouette(X.subarray(0, m * d), m, d, truth.subarray(0, m), { sampleSize: Infinity }));
    rows.push({ name: `silhouette, ${m} rows`, ours: { s: r.s, cpu: r.cpu }, sk: sk?.silhouette, target: 1.2, note: `value ${r.value.toFixed(12)}${sk?.silhouette ? ` (sklearn ${sk.silhouette.value.toFixed(12)})` : ''}` });
  }
  if (only.has('ward')) {
    const m = params.wardRows;
    const r = best(() => hierarchical(X.subarray(0, m * d), m, d, k, { linkage: 'ward', maxSamples: m }));
    const skl = sklearnLabels('ward');
    rows.push({ name: `Ward, ${m} rows`, ours: { s: r.s, cpu: r.cpu }, sk: sk?.ward, target: 2, note: skl ? `ARI vs sklearn ${adjustedRandIndex(r.value.labels, skl).toFixed(6)}` : '' });
  }
  if (only.has('dbscan')) {
    const m = params.dbscanRows;
    const r = best(() => dbscan(X.subarray(0, m * d), m, d, { eps: params.dbscanEps, minPts: params.dbscanMinPts }));
    const noise = r.value.labels.reduce((a, l) => a + (l < 0 ? 1 : 0), 0);
    const skl = sklearnLabels('dbscan');
    const skNote = sk?.dbscan ? `; sklearn ${sk.dbscan.clusters} clusters, ${sk.dbscan.noise} noise; ARI ${skl ? adjustedRandIndex(r.value.labels, skl).toFixed(6) : '-'}` : '';
    rows.push({ name: `DBSCAN eps ${params.dbscanEps}, ${m} rows`, ours: { s: r.s, cpu: r.cpu }, sk: sk?.dbscan, target: 1, note: `${r.value.nClusters} clusters, ${noise} noise${skNote}` });
  }

  const lines = [sk ? `scikit-learn ${sk.sklearn} (python3 bench/sklearn_ref.py), best of ${repeat}` : 'sklearn not available: our times only (apt-get install python3-sklearn)'];
  // Wall ratios decide the targets; CPU seconds (all threads) show how much
  // of a wall ratio is the machine's other load rather than the work.
  for (const r of rows) {
    const ratio = r.sk !== undefined ? r.ours.s / r.sk.s : undefined;
    const verdict = ratio === undefined ? '' : ratio <= r.target ? 'met' : 'NOT met';
    const fmt = (v: number): string => v.toFixed(3).padStart(7);
    lines.push(
      `${r.name.padEnd(28)} ours ${fmt(r.ours.s)} s  sklearn ${r.sk !== undefined ? fmt(r.sk.s) : '      -'} s  ratio ${ratio !== undefined ? ratio.toFixed(2).padStart(5) : '    -'} (target <= ${r.target}) ${verdict}`,
      `    CPU ours ${r.ours.cpu.toFixed(2)} s${r.sk !== undefined ? `, sklearn ${r.sk.cpu.toFixed(2)} s` : ''}; ${r.note}`,
    );
  }
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify({ params, sklearn: sk, ours: rows }, null, 2)}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
