/**
 * The timed batch loops of the in-process scenarios. One loop source serves every contender, but
 * each contender gets its own compiled copy (a `new Function` whose source names the contender, so
 * V8's eval cache cannot hand back a shared one): a loop shared by closure would share its inline
 * caches too, and the call site would turn megamorphic and slow the fastest contenders down.
 */
import { windows } from './data.js'

export interface BatchInput {
  readonly keys: readonly string[]
  readonly values: readonly unknown[]
  /** Indexes into keys and values, walked in windows of `size` (see data.ts `randomOrder`). */
  readonly order: ArrayLike<number>
  readonly size: number
}

/** Calls that resolve to `undefined` are counted here: a hit path must never miss. */
export interface Misses {
  count: number
}

/** One operation, e.g. `(key) => cache.get(key)` or `(key, value) => cache.set(key, value)`. */
export type Call = (key: string, value: unknown) => unknown

export function batchLoop(
  label: string,
  call: Call,
  mode: { readonly async: boolean; readonly check: boolean },
  input: BatchInput,
  misses: Misses,
): () => unknown {
  const invoke = mode.async ? 'await call(keys[i], values[i])' : 'call(keys[i], values[i])'
  const step = mode.check ? `if ((${invoke}) === undefined) misses.count++` : invoke
  const source = `// ${JSON.stringify(label).replace(/\n/g, ' ')}
return ${mode.async ? 'async ' : ''}function batch() {
  const at = next()
  for (let j = at; j < at + size; j++) {
    const i = order[j]
    ${step}
  }
}`
  const make = new Function('call', 'keys', 'values', 'order', 'next', 'size', 'misses', source)
  const next = windows(input.order.length, input.size)
  return make(call, input.keys, input.values, input.order, next, input.size, misses) as () => unknown
}

/** `0, 1, 2, ...`: the best case (consecutive keys), for the rows labelled as such. */
export function consecutiveOrder(n: number): Uint32Array {
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  return order
}
