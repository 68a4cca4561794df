/** Keys and values, generated once outside the timed loops and shared by every contender. */

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
