/** Writing results: one JSON object with --json, human text otherwise. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(s = ''): void {
  process.stdout.write(`${s}\n`);
}
