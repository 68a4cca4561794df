/**
 * The first seed's caching plan, over {@link financeQueries}: every read goes through
 * `cache.getOrSet` under a key of the seed's shape, tagged by user, and every write invalidates
 * what it changed (by tag, or by key for `has_superuser`), then tells the live channel.
 */
import type { Cache } from 'cachekit'
import type { CategoryType, FinanceQueries, NewTransaction } from './finance.js'

/** The tags a user's entries carry: a write deletes exactly the ones it changes. */
export const tags = {
  categories: (userId: number) => `user:${userId}:categories`,
  transactions: (userId: number) => `user:${userId}:transactions`,
  accounts: (userId: number) => `user:${userId}:accounts`,
}

/** TTLs from the seed: trees and account lists 5 minutes, statistics 10. */
const TTL = { tree: '5m', stats: '10m', accounts: '5m', transactions: '5m', superuser: '5m' } as const

export interface BalanceUpdate {
  accounts: { id: number; balance: number }[]
  reason: 'transaction' | 'transfer'
}

export function cachedFinance(
  cache: Cache,
  q: FinanceQueries,
  onBalances: (userId: number, update: BalanceUpdate) => Promise<void>,
) {
  /**
   * The write has committed: its invalidation must happen, or readers get the old value until the
   * TTL. A store call that times out once (a busy Redis) is retried a few times before giving up.
   */
  const invalidate = async (...names: string[]) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await Promise.all(names.map((tag) => cache.deleteByTag(tag)))
        return
      } catch (error) {
        if (attempt >= 4) throw error
        await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt))
      }
    }
  }
  const afterMoneyMoved = async (userId: number, update: BalanceUpdate) => {
    // Statistics, the transaction pages and the account lists (balances) changed; trees did not.
    await invalidate(tags.transactions(userId), tags.accounts(userId))
    await onBalances(userId, update)
  }
  return {
    categoryTree: (userId: number, type: CategoryType, depth: number) =>
      cache.getOrSet(`category_tree:${type}:${userId}:${depth}`, () => q.categoryTree(userId, type, depth), {
        ttl: TTL.tree,
        tags: [tags.categories(userId)],
      }),
    stats: (userId: number) =>
      cache.getOrSet(`user_stats:${userId}`, () => q.stats(userId), {
        ttl: TTL.stats,
        tags: [tags.transactions(userId), tags.accounts(userId)],
      }),
    accounts: (userId: number) =>
      cache.getOrSet(`user_accounts:${userId}:my`, () => q.accounts(userId), {
        ttl: TTL.accounts,
        tags: [tags.accounts(userId)],
      }),
    transactions: (userId: number, page: number) =>
      cache.getOrSet(`user_transactions:${userId}:${page}`, () => q.transactions(userId, page), {
        ttl: TTL.transactions,
        tags: [tags.transactions(userId)],
      }),
    hasSuperuser: () => cache.getOrSet('has_superuser', () => q.hasSuperuser(), { ttl: TTL.superuser }),
    /** Dashboard fragment caching (seed 5): the rendered HTML of the summary, tagged like its data. */
    fragment: (name: string, userId: number, render: () => Promise<string>) =>
      cache.getOrSet(`fragment:${name}:${userId}`, render, {
        ttl: TTL.stats,
        tags: [tags.transactions(userId), tags.accounts(userId), tags.categories(userId)],
      }),

    async addTransaction(userId: number, t: NewTransaction) {
      const result = await q.addTransaction(userId, t)
      await afterMoneyMoved(userId, {
        accounts: [{ id: t.accountId, balance: result.balance }],
        reason: 'transaction',
      })
      return result
    },
    async transfer(userId: number, from: number, to: number, amount: number, fence: number) {
      const accounts = await q.transfer(userId, from, to, amount, fence)
      await afterMoneyMoved(userId, { accounts, reason: 'transfer' })
      return accounts
    },
    async addCategory(userId: number, type: CategoryType, name: string, parentId: number | null) {
      const id = await q.addCategory(userId, type, name, parentId)
      await invalidate(tags.categories(userId))
      return id
    },
    /** Grants or removes superuser rights; the seed deletes `has_superuser` when they change. */
    async setSuperuser(userId: number, value: boolean) {
      const changed = await q.setSuperuser(userId, value)
      await cache.delete('has_superuser')
      return changed
    },
  }
}

export type CachedFinance = ReturnType<typeof cachedFinance>
