import type { LockBy, LoginAttempt } from '../ratelimit/index.js'
import type { CommandContext } from './context.js'
import { withConnection } from './context.js'
import { EXIT, type Outcome, UsageError } from './output.js'

export interface UnlockOptions {
  readonly user?: string
  readonly ip?: string
  /** Forget failures too (the guard's `reset`), not only the lockout. */
  readonly reset?: boolean
  /** The guard's `prefix` (default `cachekit:guard`). */
  readonly guardPrefix?: string
  /** The guard's `lockBy`, as `ip,username,username+ip`. Default `ip`. */
  readonly lockBy?: string
}

/** Parses `--lock-by ip,username,username+ip`. */
export function parseLockBy(text: string): LockBy[] {
  const attribute = (name: string) => {
    const trimmed = name.trim()
    if (trimmed === 'user') return 'username'
    if (trimmed === 'ip' || trimmed === 'username' || trimmed === 'userAgent') return trimmed
    throw new UsageError(`--lock-by: unknown attribute ${JSON.stringify(trimmed)} (ip, username, userAgent)`)
  }
  return text.split(',').map((part) => {
    const names = part.split('+').map(attribute)
    return names.length === 1 ? (names[0] as LockBy) : names
  })
}

/**
 * `cachekit unlock --user U | --ip A`: ends the login guard's lockouts of a user, an address or the
 * pair, as `guard.unlock` does (logged in the lockout log with `by: 'cli'`). Give the guard's
 * `--lock-by` and `--guard-prefix` when the app sets them.
 */
export async function unlockCommand(ctx: CommandContext, options: UnlockOptions): Promise<Outcome> {
  if (options.user === undefined && options.ip === undefined) {
    throw new UsageError('unlock needs --user, --ip or both')
  }
  const lockBy = parseLockBy(options.lockBy ?? 'ip')
  return withConnection(ctx, async (connection) => {
    if (!connection.redis) {
      throw new UsageError(
        `unlock needs the Redis the login guard keeps its records in; ${connection.safeUrl} is SQL`,
      )
    }
    const { createLoginGuard } = await import('../ratelimit/index.js')
    const guard = createLoginGuard({
      store: connection.redis,
      lockBy,
      ...(options.guardPrefix === undefined ? {} : { prefix: options.guardPrefix }),
    })
    try {
      const target: LoginAttempt = {
        ...(options.user === undefined ? {} : { username: options.user }),
        ...(options.ip === undefined ? {} : { ip: options.ip }),
      }
      const admin = { by: 'cli', note: 'cachekit unlock' }
      const lifted = options.reset ? await guard.reset(target, admin) : await guard.unlock(target, admin)
      const who = [options.user && `user ${options.user}`, options.ip && `IP ${options.ip}`]
        .filter(Boolean)
        .join(' and ')
      return {
        code: EXIT.ok,
        json: {
          ok: true,
          user: options.user ?? null,
          ip: options.ip ?? null,
          reset: Boolean(options.reset),
          lifted,
        },
        text: [
          `${options.reset ? 'Reset' : 'Unlocked'} ${who}: ${lifted} lockout${lifted === 1 ? '' : 's'} lifted`,
        ],
      }
    } finally {
      await guard.close()
    }
  })
}
