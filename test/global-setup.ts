/** The end-to-end tests drive the built CLI: build it when `vitest` runs without `npm test`. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export default function setup(): void {
  const root = resolve(import.meta.dirname, '..');
  if (!existsSync(resolve(root, 'dist/src/cli.js')) || process.env.SEGSYNC_REBUILD) {
    execFileSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  }
}
