import type { Connection } from './connect.js'
import { type Finding, probe, writeProbe } from './findings.js'
import { formatMs } from './output.js'
import { roundTrip } from './ping.js'

/** SQL codes and messages that say the cache table is missing. */
function missingTable(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code
    if (code === '42P01' || code === 'ER_NO_SUCH_TABLE') return true
    if (e instanceof Error && /no such table|does not exist|doesn't exist/i.test(e.message)) return true
  }
  return false
}

/** `check` for a SQL store: the tables exist, round-trip latency, and a write/read/delete. */
export async function checkSql(connection: Connection): Promise<Finding[]> {
  const findings: Finding[] = []
  const dialect = connection.sql?.name ?? 'sql'
  let tableOk = false
  try {
    await roundTrip(connection) // the first one opens the connection
    const samples: number[] = []
    for (let i = 0; i < 5; i++) samples.push(await roundTrip(connection))
    const ms = samples.sort((a, b) => a - b)[2] ?? 0
    tableOk = true
    findings.push({ name: 'table', status: 'ok', detail: `the cache table exists (${dialect})` })
    findings.push({
      name: 'latency',
      status: ms > 50 ? 'warn' : 'ok',
      detail: `round trip median ${formatMs(ms)} over 5 lookups`,
    })
  } catch (error) {
    if (!missingTable(error)) throw error
    findings.push({
      name: 'table',
      status: 'error',
      detail: `the cache table does not exist in this ${dialect} database`,
      fix: 'Run `cachekit migrate` (or let the app create it: sqlStore autoMigrate, the default)',
    })
  }
  if (tableOk) await probe(findings, 'read/write', connection.scrub, () => writeProbe(connection))
  if (dialect !== 'sqlite') {
    findings.push(
      connection.tls
        ? { name: 'tls', status: 'ok', detail: 'TLS requested in the URL' }
        : { name: 'tls', status: 'ok', detail: 'no TLS in the URL (add sslmode=require across networks)' },
    )
  }
  return findings
}
