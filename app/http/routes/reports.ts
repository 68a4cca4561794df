/**
 * Report generation (seed 2's shape): each report type has its own cache prefix (a namespace) and
 * TTL, a user may generate 10 reports an hour and an address 100; a report served from the cache
 * is not a generation and costs nothing. Writes to the user's transactions invalidate them.
 */
import { clientIp } from 'cachekit/ratelimit'
import { type Request, Router } from 'express'
import { tags } from '../../services/cached.js'
import type { Services } from '../../services/context.js'
import { int, requireUser } from '../types.js'

/** Per type: its namespace TTL and the query that builds it. */
const TYPES = {
  monthly: {
    ttl: '1h',
    sql: `SELECT SUBSTR(happened_on, 1, 7) AS period, type AS label, SUM(amount) AS total, COUNT(*) AS count
          FROM transactions WHERE user_id = ? AND happened_on >= ? GROUP BY SUBSTR(happened_on, 1, 7), type
          ORDER BY period, label`,
  },
  categories: {
    ttl: '10m',
    sql: `SELECT c.type AS period, c.name AS label, SUM(t.amount) AS total, COUNT(*) AS count
          FROM transactions t JOIN categories c ON c.id = t.category_id WHERE t.user_id = ? AND t.happened_on >= ?
          GROUP BY c.type, c.id, c.name ORDER BY period, total DESC, label`,
  },
} as const
type ReportType = keyof typeof TYPES

/** Refused: the user or address generated too many reports this hour. */
class ReportLimitError extends Error {
  constructor(readonly retryAfterMs: number) {
    super('report generation limit reached')
  }
}

export function reportRoutes(s: Services): Router {
  const router = Router()
  const caches = Object.fromEntries(
    Object.entries(TYPES).map(([type, spec]) => [
      type,
      s.cache.namespace(`report_${type}`, { ttl: spec.ttl }),
    ]),
  ) as Record<ReportType, ReturnType<Services['cache']['namespace']>>

  const generate = async (req: Request, type: ReportType, months: number) => {
    const me = req.user!
    // Only a generation counts: both limits must allow it.
    for (const [scope, key] of [
      ['report_user', String(me.id)],
      ['report_ip', clientIp(req) ?? 'unknown'],
    ] as const) {
      const verdict = await s.limiter.consume(scope, key)
      if (!verdict.allowed) throw new ReportLimitError(verdict.retryAfterMs)
    }
    const since = new Date(Date.now() - months * 30.5 * 86_400_000).toISOString().slice(0, 10)
    const rows = await s.db.all(TYPES[type].sql, [me.id, since])
    return {
      type,
      months,
      since,
      generatedAt: new Date().toISOString(),
      rows: rows.map((r) => ({
        period: String(r['period']),
        label: String(r['label']),
        total: Number(r['total']),
        count: Number(r['count']),
      })),
    }
  }

  router.get('/reports/:type', requireUser, async (req, res) => {
    const type = req.params['type'] as ReportType
    if (!(type in TYPES))
      return void res.status(404).json({ error: `reports: ${Object.keys(TYPES).join(', ')}` })
    const months = Math.min(24, int(req.query['months']) ?? 12)
    const me = req.user!
    try {
      const report = await caches[type].getOrSet(`${me.id}:${months}`, () => generate(req, type, months), {
        tags: [tags.transactions(me.id)],
      })
      if (req.query['format'] === 'csv') {
        const csv = [
          'period,label,total_cents,count',
          ...report.rows.map((r) => `${r.period},"${r.label.replace(/"/g, '""')}",${r.total},${r.count}`),
        ]
        return void res
          .type('text/csv')
          .attachment(`${type}-${months}m.csv`)
          .send(`${csv.join('\n')}\n`)
      }
      res.json(report)
    } catch (error) {
      if (!(error instanceof ReportLimitError)) throw error
      res.set('Retry-After', String(Math.ceil(error.retryAfterMs / 1000)))
      res.status(429).json({ error: 'too many reports generated this hour: try again later' })
    }
  })
  return router
}
