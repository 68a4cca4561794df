import type Database from 'better-sqlite3'
import { hashPassword } from '../services/passwords.js'
import type { Db, Param } from './sql.js'

/** How big the demo data set is. `npm start` uses {@link FULL_DATA}; tests use a small one. */
export interface DataSize {
  readonly users: number
  readonly transactions: number
  readonly merchants: number
}

export const FULL_DATA: DataSize = { users: 50, transactions: 500_000, merchants: 300 }
export const SMALL_DATA: DataSize = { users: 6, transactions: 3_000, merchants: 40 }

/** The demo login printed at startup: a staff user and superuser. Every demo user has this password. */
export const DEMO_USER = { username: 'demo', password: 'demo' }

const INCOME: Record<string, string[]> = {
  Salary: ['Base pay', 'Bonus'],
  Investments: ['Dividends', 'Interest'],
  Other: ['Gifts', 'Refunds'],
}
const EXPENSE: Record<string, string[]> = {
  Food: ['Groceries', 'Restaurants', 'Coffee'],
  Home: ['Rent', 'Utilities', 'Repairs'],
  Transport: ['Public transport', 'Fuel', 'Taxi'],
  Health: ['Pharmacy', 'Doctor', 'Sport'],
  Leisure: ['Cinema', 'Travel', 'Books'],
  Shopping: ['Clothes', 'Electronics', 'Gifts'],
}
const LEAVES = ['basic', 'extra']
const ACCOUNTS: [string, string][] = [
  ['Card', 'EUR'],
  ['Cash', 'EUR'],
  ['Savings', 'USD'],
]
const DAYS = 730

/** A small deterministic PRNG (mulberry32): the same data set on every first start. */
function random(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `YYYY-MM-DD`, `daysAgo` days before today (UTC). */
export function isoDay(daysAgo: number, now = Date.now()): string {
  return new Date(now - daysAgo * 86_400_000).toISOString().slice(0, 10)
}

interface Plan {
  users: Param[][]
  accounts: Param[][]
  categories: Param[][]
  /** Per user: leaf categories by type, account ids. */
  leaves: Map<number, { income: number[]; expense: number[]; accounts: number[] }>
  merchants: Param[][]
}

/** Everything but the transactions, with explicit ids so one plan fits every database. */
async function plan(size: DataSize): Promise<Plan> {
  const rnd = random(42)
  const p: Plan = { users: [], accounts: [], categories: [], leaves: new Map(), merchants: [] }
  let accountId = 0
  let categoryId = 0
  const hashes = await Promise.all(Array.from({ length: size.users }, () => hashPassword(DEMO_USER.password)))
  for (let u = 1; u <= size.users; u++) {
    const username = u === 1 ? DEMO_USER.username : `user${String(u).padStart(2, '0')}`
    const staff = u === 1 || u % 10 === 0
    p.users.push([
      u,
      username,
      u === 1 ? 'Demo Staff' : `User ${u}`,
      hashes[u - 1] ?? '',
      staff ? 'staff' : 'member',
      u === 1 ? 1 : 0,
    ])
    const mine = { income: [] as number[], expense: [] as number[], accounts: [] as number[] }
    for (const [name, currency] of ACCOUNTS) {
      p.accounts.push([++accountId, u, name, currency])
      mine.accounts.push(accountId)
    }
    for (const [type, tree] of [['income', INCOME] as const, ['expense', EXPENSE] as const]) {
      for (const [top, children] of Object.entries(tree)) {
        const topId = ++categoryId
        p.categories.push([topId, u, null, type, top, 1])
        for (const child of children) {
          const childId = ++categoryId
          p.categories.push([childId, u, topId, type, child, 2])
          for (const leaf of LEAVES) {
            p.categories.push([++categoryId, u, childId, type, `${child} (${leaf})`, 3])
            mine[type].push(categoryId)
          }
        }
      }
    }
    p.leaves.set(u, mine)
  }
  for (let m = 1; m <= size.merchants; m++) {
    // Around Berlin's centre, within about 10 km.
    p.merchants.push([m, `Merchant ${m}`, 13.405 + (rnd() - 0.5) * 0.3, 52.52 + (rnd() - 0.5) * 0.18])
  }
  return p
}

/** Yields transaction rows; balances are summed on the way so accounts agree with their history. */
function* transactions(size: DataSize, p: Plan, balances: Map<number, number>): Generator<Param[]> {
  const rnd = random(7)
  const now = Date.now()
  for (let id = 1; id <= size.transactions; id++) {
    const user = 1 + Math.floor(rnd() * size.users)
    const mine = p.leaves.get(user)!
    const income = rnd() < 0.06
    const leaves = income ? mine.income : mine.expense
    const category = leaves[Math.floor(rnd() * leaves.length)]!
    const account = mine.accounts[Math.floor(rnd() * mine.accounts.length)]!
    const amount = income ? 50_000 + Math.floor(rnd() * 200_000) : 100 + Math.floor(rnd() * 15_000)
    balances.set(account, (balances.get(account) ?? 0) + (income ? amount : -amount))
    yield [
      id,
      user,
      account,
      category,
      income ? 'income' : 'expense',
      amount,
      isoDay(Math.floor(rnd() * DAYS), now),
      '',
    ]
  }
}

const INSERTS = {
  users:
    'INSERT INTO users (id, username, name, password_hash, role, is_superuser) VALUES (?, ?, ?, ?, ?, ?)',
  accounts: 'INSERT INTO accounts (id, user_id, name, currency) VALUES (?, ?, ?, ?)',
  categories: 'INSERT INTO categories (id, user_id, parent_id, type, name, depth) VALUES (?, ?, ?, ?, ?, ?)',
  merchants: 'INSERT INTO merchants (id, name, lon, lat) VALUES (?, ?, ?, ?)',
  transactions:
    'INSERT INTO transactions (id, user_id, account_id, category_id, type, amount, happened_on, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
}

/**
 * Fills an empty database with the demo data set, once (marked in `app_meta`). Returns false when
 * it was already there. `progress` hears the counts as rows go in.
 */
export async function seed(
  db: Db,
  size: DataSize,
  progress: (line: string) => void = () => {},
): Promise<boolean> {
  if (await db.get("SELECT value FROM app_meta WHERE name = 'seeded'")) return false
  const started = Date.now()
  const p = await plan(size)
  const balances = new Map<number, number>()
  const step = Math.max(1, Math.floor(size.transactions / 10))
  const raw = (db as Db & { raw?: Database.Database }).raw
  if (raw) {
    // SQLite: prepared statements in one synchronous transaction (about 1 µs per row).
    const insert = Object.fromEntries(Object.entries(INSERTS).map(([k, sql]) => [k, raw.prepare(sql)]))
    raw.transaction(() => {
      for (const table of ['users', 'accounts', 'categories', 'merchants'] as const) {
        for (const row of p[table]) insert[table]!.run(...row)
      }
      let n = 0
      for (const row of transactions(size, p, balances)) {
        insert['transactions']!.run(...row)
        if (++n % step === 0)
          progress(`  transactions ${n.toLocaleString('en')}/${size.transactions.toLocaleString('en')}`)
      }
      const update = raw.prepare('UPDATE accounts SET balance = ? WHERE id = ?')
      for (const [account, balance] of balances) update.run(balance, account)
      raw.prepare("INSERT INTO app_meta (name, value) VALUES ('seeded', ?)").run(new Date().toISOString())
    })()
  } else {
    await db.transaction(async (tx) => {
      for (const table of ['users', 'accounts', 'categories', 'merchants'] as const) {
        await insertBatches(tx, INSERTS[table], p[table])
      }
      let batch: Param[][] = []
      let n = 0
      for (const row of transactions(size, p, balances)) {
        batch.push(row)
        if (batch.length === 1000) {
          await insertBatches(tx, INSERTS.transactions, batch)
          batch = []
        }
        if (++n % step === 0)
          progress(`  transactions ${n.toLocaleString('en')}/${size.transactions.toLocaleString('en')}`)
      }
      await insertBatches(tx, INSERTS.transactions, batch)
      for (const [account, balance] of balances) {
        await tx.run('UPDATE accounts SET balance = ? WHERE id = ?', [balance, account])
      }
      await tx.run("INSERT INTO app_meta (name, value) VALUES ('seeded', ?)", [new Date().toISOString()])
    })
    if (db.dialect === 'postgres') {
      // Explicit ids do not move PostgreSQL's sequences: move them past the demo rows.
      for (const table of ['users', 'accounts', 'categories', 'transactions', 'transfers', 'merchants']) {
        await db.exec(
          `SELECT setval(pg_get_serial_sequence('${table}', 'id'), COALESCE((SELECT MAX(id) FROM ${table}), 0) + 1, false)`,
        )
      }
    }
  }
  progress(
    `  ${size.users} users, ${p.accounts.length} accounts, ${p.categories.length} categories, ` +
      `${size.transactions.toLocaleString('en')} transactions, ${size.merchants} merchants in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  return true
}

/** One multi-row INSERT per 1000 rows (PostgreSQL and MariaDB): a round trip per batch, not per row. */
async function insertBatches(
  tx: { run(sql: string, params: Param[]): Promise<number> },
  sql: string,
  rows: Param[][],
) {
  const [head, values] = sql.split(' VALUES ') as [string, string]
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000)
    if (chunk.length === 0) continue
    await tx.run(`${head} VALUES ${chunk.map(() => values).join(', ')}`, chunk.flat())
  }
}
