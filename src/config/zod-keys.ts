/** Walks a zod 4 schema to list the keys an object accepts at a path (for "did you mean"). */
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
}

function def(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

function unwrap(s: z.ZodType): z.ZodType[] {
  const d = def(s);
  if (d.innerType && ['optional', 'default', 'nullable', 'prefault', 'catch', 'readonly', 'nonoptional'].includes(d.type)) return unwrap(d.innerType);
  if (d.type === 'pipe' && d.in) return unwrap(d.in);
  if (d.type === 'union' && d.options) return d.options.flatMap(unwrap);
  return [s];
}

export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let nodes = unwrap(schema);
  for (const seg of path) {
    const next: z.ZodType[] = [];
    for (const n of nodes) {
      const d = def(n);
      if (d.type === 'object' && d.shape && typeof seg === 'string' && d.shape[seg]) next.push(...unwrap(d.shape[seg]));
      if (d.type === 'array' && d.element && typeof seg === 'number') next.push(...unwrap(d.element));
    }
    nodes = next;
  }
  const keys = new Set<string>();
  for (const n of nodes) {
    const d = def(n);
    if (d.type === 'object' && d.shape) for (const k of Object.keys(d.shape)) keys.add(k);
  }
  return [...keys];
}
