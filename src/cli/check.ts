import { checkRedis } from './check-redis.js'
import { checkSql } from './check-sql.js'
import type { Connection } from './connect.js'
import { connect } from './connect.js'
import type { CommandContext } from './context.js'
import type { Finding } from './findings.js'
import { describeError, EXIT, formatMs, type Outcome } from './output.js'

/**
 * `cachekit check` (Django's `setup_cache` as a doctor): connects within `--timeout`, then checks
 * what a cache needs of its server and prints one line per finding with what to do. Exit 0 when
 * nothing is wrong (warnings allowed unless `--strict`), 3 when something is.
 */
export async function checkCommand(ctx: CommandContext, options: { strict?: boolean }): Promise<Outcome> {
  const findings: Finding[] = []
  const started = performance.now()
  let connection: Connection | undefined
  try {
    connection = await connect(ctx.options, ctx.env)
  } catch (error) {
    const { code, message } = describeError(error)
    if (code === 'E_USAGE' || code === 'E_INVALID_OPTION') throw error
    findings.push({
      name: 'connect',
      status: 'error',
      detail: message,
      fix: 'Check the URL, that the server runs and is reachable from here, and the credentials',
    })
  }
  if (connection) {
    const conn = connection
    findings.push({
      name: 'connect',
      status: 'ok',
      detail: `${conn.safeUrl} answered in ${formatMs(performance.now() - started)} (deadline ${formatMs(conn.timeoutMs)})`,
    })
    try {
      if (conn.redis) findings.push(...(await checkRedis(conn, await urlOf(ctx))))
      else findings.push(...(await checkSql(conn)))
    } finally {
      await conn.close()
    }
  }
  const errors = findings.filter((f) => f.status === 'error').length
  const warnings = findings.filter((f) => f.status === 'warn').length
  const failed = errors > 0 || (options.strict === true && warnings > 0)
  const mark = { ok: 'ok  ', warn: 'WARN', error: 'FAIL' } as const
  const text = findings.flatMap((f) => [
    `${mark[f.status]}  ${f.name.padEnd(16)} ${f.detail}`,
    ...(f.fix && f.status !== 'ok' ? [`      ${''.padEnd(16)} → ${f.fix}`] : []),
  ])
  text.push(
    failed
      ? `${errors} problem${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}: fix the FAIL lines above`
      : `All checks passed${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}`,
  )
  return {
    code: failed ? EXIT.problems : EXIT.ok,
    json: { ok: !failed, store: connection?.kind ?? null, errors, warnings, findings },
    text,
  }
}

async function urlOf(ctx: CommandContext): Promise<string> {
  const { resolveUrl } = await import('./connect.js')
  return resolveUrl(ctx.options, ctx.env)
}
