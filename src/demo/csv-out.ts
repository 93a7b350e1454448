/** Streaming CSV output helpers for the demo generator. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

const NEEDS_QUOTING = /[",\r\n]/;

/** RFC-4180 field: quoted (with doubled quotes) only when it contains `"`, `,`, CR or LF. */
export function csvField(value: string): string {
  return NEEDS_QUOTING.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Encodes CSV text straight into ~1 MB Buffers and writes each full one through
 * an fs write stream, waiting for 'drain' whenever the stream asks for it
 * (backpressure), so memory stays bounded however large the file gets.
 * (Encoding line by line into Buffers, rather than concatenating a 1 MB string,
 * keeps the lines short-lived: long-lived string ropes made GC the bottleneck.)
 */
export class ChunkWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly ready: Buffer[] = [];
  private error: Error | null = null;
  private readonly stream: WriteStream;

  constructor(
    readonly path: string,
    private readonly chunkBytes = 1 << 20,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
    // a few chunks may be in flight while the next one is generated
    this.stream = createWriteStream(path, { highWaterMark: chunkBytes * 4 });
    this.stream.on('error', (err) => {
      this.error ??= err;
    });
  }

  push(text: string): void {
    // utf8 needs at most 3 bytes per UTF-16 code unit
    if (this.pos + text.length * 3 > this.chunkBytes) {
      this.rotate();
      if (text.length * 3 > this.chunkBytes) {
        this.ready.push(Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }

  /** true when at least one full chunk is waiting to be written: call flush() */
  get full(): boolean {
    return this.ready.length > 0;
  }

  async flush(): Promise<void> {
    this.throwIfFailed();
    while (this.ready.length > 0) {
      const chunk = this.ready.shift() as Buffer;
      if (!this.stream.write(chunk)) {
        // events.once rejects if 'error' fires while waiting
        await once(this.stream, 'drain');
      }
      this.throwIfFailed();
    }
  }

  /** Write the rest, end the stream and wait until the file is closed. */
  async close(): Promise<void> {
    this.rotate();
    await this.flush();
    const closed = once(this.stream, 'close');
    this.stream.end();
    await closed;
    this.throwIfFailed();
  }

  /** Abandon the file (on failure); never throws. */
  async destroy(): Promise<void> {
    this.ready.length = 0;
    this.pos = 0;
    if (this.stream.closed) return;
    const closed = once(this.stream, 'close').catch(() => undefined);
    this.stream.destroy();
    await closed;
  }

  private rotate(): void {
    if (this.pos === 0) return;
    this.ready.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(this.chunkBytes);
    this.pos = 0;
  }

  private throwIfFailed(): void {
    if (this.error) throw this.error;
  }
}

const PAD2: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const dayCache = new Map<number, string>();

/** Epoch seconds → `YYYY-MM-DDTHH:MM:SSZ` (UTC, no milliseconds); day strings are cached. */
export function isoSeconds(sec: number): string {
  const s = Math.floor(sec);
  const day = Math.floor(s / 86400);
  let dayStr = dayCache.get(day);
  if (dayStr === undefined) {
    dayStr = new Date(day * 86400000).toISOString().slice(0, 10);
    if (dayCache.size < 100_000) dayCache.set(day, dayStr);
  }
  let rem = s - day * 86400;
  const h = Math.floor(rem / 3600);
  rem -= h * 3600;
  const m = Math.floor(rem / 60);
  const secs = rem - m * 60;
  return `${dayStr}T${PAD2[h]}:${PAD2[m]}:${PAD2[secs]}Z`;
}

/** Integer cents → `123.45` (non-negative only). */
export function formatCents(cents: number): string {
  const whole = Math.floor(cents / 100);
  return `${whole}.${PAD2[cents - whole * 100]}`;
}
