/** Child entry of {@link probeHeap}: heap used by one builder's structure, after forced GC. */
import { setImmediate as tick } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { childArgs, reply } from './child.js'
import type { Builder, HeapDelta } from './heap.js'

const [file, name, count] = childArgs()
const gc = (globalThis as { gc?: () => void }).gc
if (!file || !name || !count || !gc)
  throw new Error('usage: node --expose-gc heap-child.ts <out> <module> <builder> <n>')
const { builders } = (await import(pathToFileURL(file).href)) as { builders: Record<string, Builder> }
const build = builders[name]
if (!build) throw new Error(`${file} has no builder "${name}"`)

async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 4; i++) {
    await tick()
    gc!()
  }
  return process.memoryUsage()
}

const before = await settle()
const started = performance.now()
// Kept on globalThis so the structure is reachable while the "after" figure is taken.
const holder = globalThis as { held?: unknown }
holder.held = await build(Number(count))
const buildMs = performance.now() - started
const after = await settle()
const delta: HeapDelta = {
  heapUsed: after.heapUsed - before.heapUsed,
  arrayBuffers: after.arrayBuffers - before.arrayBuffers,
  buildMs,
}
await reply(delta)
process.exit(0)
