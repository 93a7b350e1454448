#!/usr/bin/env node
import { main, handleError } from './cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = handleError(e);
  },
);
