/** Keys and values, generated once outside the timed loops and shared by every contender. */

/**
 * What the applications cachekit serves configure (the first seed app: prefix `hlvm`, a default
 * TTL): every target row is measured with both set, on every contender that has the notion.
 */
export const PREFIX = 'hlvm'
export const TTL = '1h'
export const TTL_MS = 3_600_000
/**
 * The Redis store's per-call deadline in the scenarios. Its 100 ms default trips on this shared
 * 2-core machine when other processes load it (load averages of 10 to 14 were seen, and a 1 s deadline tripped too), and a tripped
 * deadline opens the circuit breaker, after which every call fails fast and the figures mean
 * nothing. The deadline's bookkeeping costs the same whatever its length.
 */
export const STORE_TIMEOUT_MS = 5_000

/** The two value shapes every scenario measures. */
export type ValueKind = 'small' | 'doc'

/** A workload: how many keys, read in random order, and which value shape. */
export interface Workload {
  readonly entries: number
  readonly kind: ValueKind
}

/** 10,000 and 100,000 keys, small objects and ~1 KB documents. */
export const WORKLOADS: readonly Workload[] = [
  { entries: 10_000, kind: 'small' },
  { entries: 100_000, kind: 'small' },
  { entries: 10_000, kind: 'doc' },
  { entries: 100_000, kind: 'doc' },
]

const KIND_LABEL: Record<ValueKind, string> = { small: 'small objects', doc: '~1 KB documents' }

/** How a target row names its configuration, e.g. `prefix+TTL, 100k random keys, small objects`. */
export function describeWorkload(w: Workload): string {
  return `prefix+TTL, ${w.entries / 1000}k random keys, ${KIND_LABEL[w.kind]}`
}

/** Value `i` of a workload: {@link account} or a {@link profileDocument} with its own id. */
export function makeValue(kind: ValueKind): (i: number) => Record<string, unknown> {
  return kind === 'small'
    ? (i) => account(i) as unknown as Record<string, unknown>
    : (i) => ({ ...profileDocument(), id: 100_000 + i })
}

/**
 * A random permutation of `0..n-1` (seeded, so every run and every contender reads the keys in
 * the same order): made before timing, walked by {@link windows} offsets, so the hash lookups miss
 * the CPU caches as an application's do instead of walking consecutive keys.
 */
export function randomOrder(n: number, seed = 0x9e3779b9): Uint32Array {
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  let state = seed >>> 0
  for (let i = n - 1; i > 0; i--) {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    const r = ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
    const j = Math.floor(r * (i + 1))
    const swap = order[i]!
    order[i] = order[j]!
    order[j] = swap
  }
  return order
}

export interface User {
  readonly id: number
  readonly name: string
}

export interface Account extends User {
  readonly active: boolean
  readonly score: number
}

/** A key like `user:123456`. */
export function userKey(i: number): string {
  return `user:${100_000 + i}`
}

/** The `{ id, name }` entry of the memory-footprint scenario. */
export function user(i: number): User {
  return { id: 100_000 + i, name: `User ${i}` }
}

/** The small object value of the core memory scenario. */
export function account(i: number): Account {
  return { id: 100_000 + i, name: `User ${i}`, active: i % 3 !== 0, score: i / 7 }
}

export function generate<T>(n: number, make: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => make(i))
}

/**
 * Hands out windows of `size` consecutive indexes over `0..length`, round robin, so each timed
 * batch walks fresh keys instead of hammering one.
 */
export function windows(length: number, size: number): () => number {
  if (length % size !== 0) throw new Error(`window size ${size} must divide ${length}`)
  let at = -size
  return () => (at = (at + size) % length)
}

/** A ~1 KB document: nested objects, arrays, strings, numbers and a Date. */
export function profileDocument(): Record<string, unknown> {
  return {
    id: 4_815_162_342,
    username: 'ada.lovelace',
    email: 'ada@example.com',
    createdAt: new Date('2024-03-14T15:09:26.535Z'),
    verified: true,
    balance: 12_345.67,
    profile: {
      displayName: 'Ada Lovelace',
      bio: 'Writes programs for engines that do not exist yet; interested in Bernoulli numbers.',
      locale: 'en-GB',
      address: { street: '12 St James Square', city: 'London', postcode: 'SW1Y 4JH', country: 'GB' },
    },
    tags: ['admin', 'beta', 'mathematics', 'poetry'],
    accounts: [
      { id: 1, name: 'Current', currency: 'GBP', balance: 1_520.5, archived: false },
      { id: 2, name: 'Savings', currency: 'GBP', balance: 10_200, archived: false },
      { id: 3, name: 'Travel', currency: 'EUR', balance: 625.17, archived: true },
    ],
    recent: [
      { id: 9001, amount: -42.5, category: 'groceries', note: 'market' },
      { id: 9002, amount: -12.99, category: 'books', note: 'Sketch of the Analytical Engine' },
      { id: 9003, amount: 2_500, category: 'salary', note: 'March' },
      { id: 9004, amount: -60, category: 'transport', note: 'rail pass' },
    ],
    settings: { theme: 'dark', notifications: { email: true, push: false, weekly: true }, pageSize: 50 },
  }
}
