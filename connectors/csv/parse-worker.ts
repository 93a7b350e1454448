/** Worker thread: parse and map one CSV stream, posting pages as the main thread asks for them. */
import { parentPort, workerData } from 'node:worker_threads';
import { isUserError } from '../../src/core/errors.js';
import { IN_FLIGHT, packedPages, type ParsedPagesOptions, type WorkerMessage } from './parsed-pages.js';

const port = parentPort;
if (!port) throw new Error('parse-worker must run as a worker thread');

let credits = IN_FLIGHT;
let wake: (() => void) | undefined;
port.on('message', () => {
  credits++;
  wake?.();
});

const post = (m: WorkerMessage, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);

async function run(o: ParsedPagesOptions): Promise<void> {
  let done = 0;
  let total = 0;
  const signal = new AbortController().signal;
  try {
    for await (const page of packedPages(o, signal, (d, t) => {
      done = d;
      total = t ?? total;
    })) {
      while (credits === 0) {
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
      }
      credits--;
      // the packed arrays move to the main thread rather than being copied
      post({ kind: 'page', page, done, total }, [page.tags.buffer, page.nums.buffer, page.lens.buffer] as ArrayBuffer[]);
    }
    post({ kind: 'end' });
  } catch (e) {
    if (isUserError(e)) {
      post({ kind: 'error', user: true, code: e.code, message: e.message, where: e.where, ...(e.hint ? { hint: e.hint } : {}) });
    } else {
      const err = e instanceof Error ? e : new Error(String(e));
      post({ kind: 'error', user: false, message: err.message, ...(err.stack ? { stack: err.stack } : {}) });
    }
  }
  port?.unref();
}

void run(workerData as ParsedPagesOptions);
