import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runChild } from './child.js'

/** Builds a structure of `n` entries and resolves to it; the probe keeps it alive while measuring. */
export type Builder = (n: number) => Promise<unknown>

export interface HeapDelta {
  /** `heapUsed` after building and forced GC, minus before. */
  readonly heapUsed: number
  /** Off-heap `ArrayBuffer` memory (typed arrays), which `heapUsed` does not count. */
  readonly arrayBuffers: number
  readonly buildMs: number
}

const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), 'heap-child.ts')

/**
 * Measures one builder in a fresh Node process with `--expose-gc`, so no other library's heap,
 * JIT code or garbage shares the measurement. `module` is the file that exports `builders`.
 */
export function probeHeap(module: string, builder: string, n: number): Promise<HeapDelta> {
  return runChild<HeapDelta>(probe, [module, builder, String(n)], ['--expose-gc'])
}
