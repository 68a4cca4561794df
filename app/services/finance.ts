/**
 * The finance queries, uncached: what the database answers. app/services/cached.ts puts the
 * cache in front of the reads; the load test checks cached answers against these.
 */
import { isoDay } from '../db/seed.js'
import type { Db, Queryable } from '../db/sql.js'

export type CategoryType = 'income' | 'expense'
export interface CategoryNode {
  id: number
  name: string
  children: CategoryNode[]
}
export interface Account {
  id: number
  name: string
  currency: string
  balance: number
}
export interface MonthTotals {
  month: string
  income: number
  expense: number
  count: number
}
export interface UserStats {
  since: string
  months: MonthTotals[]
  topExpenses: { category: string; total: number }[]
  balances: { currency: string; total: number }[]
}
export interface TransactionRow {
  id: number
  date: string
  type: CategoryType
  amount: number
  account: string
  category: string
  note: string
}
export interface User {
  id: number
  username: string
  name: string
  role: 'member' | 'staff'
  passwordHash: string
}
export interface NewTransaction {
  accountId: number
  categoryId: number
  type: CategoryType
  amount: number
  date: string
  note: string
}

/** A write refused by the rules (wrong owner, bad amount): 400 for the client. */
export class FinanceError extends Error {
  override name = 'FinanceError'
}

/** A transfer whose fencing token is older than the one the account row holds: a stale lock holder. */
export class FencedOutError extends FinanceError {
  override name = 'FencedOutError'
}

const PAGE_SIZE = 20

/** Reads and writes of the finance domain, one SQL statement each, visible here. */
export function financeQueries(db: Db) {
  const n = (value: unknown) => Number(value ?? 0)
  return {
    async userByName(username: string): Promise<User | undefined> {
      const row = await db.get(
        'SELECT id, username, name, role, password_hash FROM users WHERE username = ?',
        [username],
      )
      return row && toUser(row)
    },
    async userById(id: number): Promise<User | undefined> {
      const row = await db.get('SELECT id, username, name, role, password_hash FROM users WHERE id = ?', [id])
      return row && toUser(row)
    },
    async hasSuperuser(): Promise<boolean> {
      return (await db.get('SELECT id FROM users WHERE is_superuser = 1 LIMIT 1')) !== undefined
    },
    async categoryTree(userId: number, type: CategoryType, depth: number): Promise<CategoryNode[]> {
      const rows = await db.all(
        'SELECT id, parent_id, name FROM categories WHERE user_id = ? AND type = ? AND depth <= ? ORDER BY depth, name, id',
        [userId, type, depth],
      )
      const nodes = new Map<number, CategoryNode>()
      const roots: CategoryNode[] = []
      for (const row of rows) {
        const node: CategoryNode = { id: n(row['id']), name: String(row['name']), children: [] }
        nodes.set(node.id, node)
        const parent = row['parent_id'] == null ? undefined : nodes.get(n(row['parent_id']))
        ;(parent ? parent.children : roots).push(node)
      }
      return roots
    },
    async accounts(userId: number): Promise<Account[]> {
      const rows = await db.all(
        'SELECT id, name, currency, balance FROM accounts WHERE user_id = ? ORDER BY id',
        [userId],
      )
      return rows.map((r) => ({
        id: n(r['id']),
        name: String(r['name']),
        currency: String(r['currency']),
        balance: n(r['balance']),
      }))
    },
    /** Six months of totals per month, the top expense categories and balances per currency. */
    async stats(userId: number, now = Date.now()): Promise<UserStats> {
      const since = `${isoDay(0, now).slice(0, 7)}-01`
      const start = new Date(`${since}T00:00:00Z`)
      start.setUTCMonth(start.getUTCMonth() - 5)
      const from = start.toISOString().slice(0, 10)
      const monthly = await db.all(
        `SELECT SUBSTR(happened_on, 1, 7) AS month, type, SUM(amount) AS total, COUNT(*) AS count
         FROM transactions WHERE user_id = ? AND happened_on >= ? GROUP BY SUBSTR(happened_on, 1, 7), type`,
        [userId, from],
      )
      const top = await db.all(
        `SELECT c.name AS category, SUM(t.amount) AS total FROM transactions t JOIN categories c ON c.id = t.category_id
         WHERE t.user_id = ? AND t.happened_on >= ? AND t.type = 'expense'
         GROUP BY c.id, c.name ORDER BY total DESC, c.id LIMIT 5`,
        [userId, from],
      )
      const balances = await db.all(
        'SELECT currency, SUM(balance) AS total FROM accounts WHERE user_id = ? GROUP BY currency ORDER BY currency',
        [userId],
      )
      const months = new Map<string, MonthTotals>()
      for (let i = 0; i < 6; i++) {
        const d = new Date(start)
        d.setUTCMonth(d.getUTCMonth() + i)
        const month = d.toISOString().slice(0, 7)
        months.set(month, { month, income: 0, expense: 0, count: 0 })
      }
      for (const row of monthly) {
        const m = months.get(String(row['month']))
        if (!m) continue
        m[row['type'] === 'income' ? 'income' : 'expense'] += n(row['total'])
        m.count += n(row['count'])
      }
      return {
        since: from,
        months: [...months.values()],
        topExpenses: top.map((r) => ({ category: String(r['category']), total: n(r['total']) })),
        balances: balances.map((r) => ({ currency: String(r['currency']), total: n(r['total']) })),
      }
    },
    async transactions(userId: number, page: number): Promise<TransactionRow[]> {
      const rows = await db.all(
        `SELECT t.id, t.happened_on, t.type, t.amount, t.note, a.name AS account, c.name AS category
         FROM transactions t JOIN accounts a ON a.id = t.account_id JOIN categories c ON c.id = t.category_id
         WHERE t.user_id = ? ORDER BY t.happened_on DESC, t.id DESC LIMIT ${PAGE_SIZE} OFFSET ${(page - 1) * PAGE_SIZE}`,
        [userId],
      )
      return rows.map((r) => ({
        id: n(r['id']),
        date: String(r['happened_on']),
        type: r['type'] === 'income' ? 'income' : 'expense',
        amount: n(r['amount']),
        account: String(r['account']),
        category: String(r['category']),
        note: String(r['note'] ?? ''),
      }))
    },
    async merchants(): Promise<{ id: number; name: string; lon: number; lat: number }[]> {
      const rows = await db.all('SELECT id, name, lon, lat FROM merchants ORDER BY id')
      return rows.map((r) => ({
        id: n(r['id']),
        name: String(r['name']),
        lon: n(r['lon']),
        lat: n(r['lat']),
      }))
    },
    /** Adds a transaction and moves its account's balance, in one database transaction. */
    async addTransaction(userId: number, t: NewTransaction): Promise<{ id: number; balance: number }> {
      if (!Number.isSafeInteger(t.amount) || t.amount <= 0)
        throw new FinanceError('amount must be a positive number of cents')
      if (!/^\d{4}-\d{2}-\d{2}$/.test(t.date)) throw new FinanceError('date must be YYYY-MM-DD')
      return db.transaction(async (tx) => {
        await owned(tx, 'accounts', t.accountId, userId)
        const category = await tx.get('SELECT type FROM categories WHERE id = ? AND user_id = ?', [
          t.categoryId,
          userId,
        ])
        if (!category || category['type'] !== t.type)
          throw new FinanceError(`no ${t.type} category ${t.categoryId}`)
        const id = await tx.insert(
          'INSERT INTO transactions (user_id, account_id, category_id, type, amount, happened_on, note) VALUES (?, ?, ?, ?, ?, ?, ?)',
          [userId, t.accountId, t.categoryId, t.type, t.amount, t.date, t.note.slice(0, 128)],
        )
        const delta = t.type === 'income' ? t.amount : -t.amount
        await tx.run('UPDATE accounts SET balance = balance + ? WHERE id = ?', [delta, t.accountId])
        const row = await tx.get('SELECT balance FROM accounts WHERE id = ?', [t.accountId])
        return { id, balance: n(row?.['balance']) }
      })
    },
    /**
     * Moves money between two accounts of one user. `fence` is the lock's fencing token: each
     * account row keeps the newest token that wrote it and refuses older ones, so a holder that
     * stalled past its lock's TTL cannot write after the next holder did.
     */
    async transfer(userId: number, from: number, to: number, amount: number, fence: number) {
      if (!Number.isSafeInteger(amount) || amount <= 0)
        throw new FinanceError('amount must be a positive number of cents')
      if (from === to) throw new FinanceError('choose two different accounts')
      return db.transaction(async (tx) => {
        const a = await owned(tx, 'accounts', from, userId)
        const b = await owned(tx, 'accounts', to, userId)
        if (a['currency'] !== b['currency'])
          throw new FinanceError('both accounts must have the same currency')
        for (const [id, delta] of [
          [from, -amount],
          [to, amount],
        ] as const) {
          const changed = await tx.run(
            'UPDATE accounts SET balance = balance + ?, fence = ? WHERE id = ? AND fence < ?',
            [delta, fence, id, fence],
          )
          if (changed !== 1) throw new FencedOutError(`account ${id} was written by a newer lock holder`)
        }
        await tx.insert(
          'INSERT INTO transfers (user_id, from_account, to_account, amount, fence, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          [userId, from, to, amount, fence, new Date().toISOString()],
        )
        const rows = await tx.all('SELECT id, balance FROM accounts WHERE id IN (?, ?)', [from, to])
        return rows.map((r) => ({ id: n(r['id']), balance: n(r['balance']) }))
      })
    },
    /** Grants or removes superuser rights (staff only, checked by the route). */
    async setSuperuser(userId: number, value: boolean): Promise<boolean> {
      return (await db.run('UPDATE users SET is_superuser = ? WHERE id = ?', [value ? 1 : 0, userId])) === 1
    },
    async addCategory(
      userId: number,
      type: CategoryType,
      name: string,
      parentId: number | null,
    ): Promise<number> {
      if (name.trim() === '' || name.length > 64)
        throw new FinanceError('a category name has 1 to 64 characters')
      return db.transaction(async (tx) => {
        let depth = 1
        if (parentId !== null) {
          const parent = await tx.get('SELECT depth, type FROM categories WHERE id = ? AND user_id = ?', [
            parentId,
            userId,
          ])
          if (!parent || parent['type'] !== type) throw new FinanceError(`no ${type} category ${parentId}`)
          depth = n(parent['depth']) + 1
          if (depth > 3) throw new FinanceError('categories are at most 3 levels deep')
        }
        return tx.insert(
          'INSERT INTO categories (user_id, parent_id, type, name, depth) VALUES (?, ?, ?, ?, ?)',
          [userId, parentId, type, name.trim(), depth],
        )
      })
    },
  }
}

export type FinanceQueries = ReturnType<typeof financeQueries>

async function owned(tx: Queryable, table: 'accounts', id: number, userId: number) {
  const row = await tx.get(`SELECT id, currency FROM ${table} WHERE id = ? AND user_id = ?`, [id, userId])
  if (!row) throw new FinanceError(`no account ${id}`)
  return row
}

function toUser(row: Record<string, unknown>): User {
  return {
    id: Number(row['id']),
    username: String(row['username']),
    name: String(row['name']),
    role: row['role'] === 'staff' ? 'staff' : 'member',
    passwordHash: String(row['password_hash']),
  }
}
