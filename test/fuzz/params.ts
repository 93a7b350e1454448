/**
 * fast-check run parameters: seeded and bounded by default so `npm test` stays
 * fast and a failure replays; FUZZ_SEED and FUZZ_RUNS explore further locally
 * (e.g. `FUZZ_SEED=$RANDOM FUZZ_RUNS=5000 npx vitest run test/fuzz`).
 */
export function fuzzParams(seed: number, numRuns: number): { seed: number; numRuns: number } {
  const s = Number(process.env.FUZZ_SEED);
  const n = Number(process.env.FUZZ_RUNS);
  return { seed: Number.isInteger(s) ? seed + s : seed, numRuns: Number.isInteger(n) && n > 0 ? n : numRuns };
}
