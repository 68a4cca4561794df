import { join } from 'node:path'
import type { RuleString } from 'cachekit/ratelimit'
import { type DataSize, FULL_DATA, SMALL_DATA } from './db/seed.js'

/** Everything the app reads from its environment, in one place (see app/README.md). */
export interface AppConfig {
  /** The environment handed to `cacheFromEnv()` (with the app's defaults filled in). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** `CACHE=off`: the same code over `dummyStore()`, so every read misses (for comparison). */
  readonly cacheOff: boolean
  readonly dataDir: string
  readonly databaseUrl: string | undefined
  /** PostgreSQL only: keep the tables in this schema (`DATABASE_SCHEMA`), e.g. one per test. */
  readonly databaseSchema: string | undefined
  readonly dataSize: DataSize
  readonly port: number
  readonly host: string
  readonly sessionSecret: string
  readonly otpSecret: string
  /** Throttling rules per scope (DRF syntax), from the seed unless `THROTTLE_<SCOPE>` says otherwise. */
  readonly throttle: Readonly<Record<ThrottleScope, RuleString>>
  /** Print one-time PINs to the log (development: there is no SMS gateway). */
  readonly printPins: boolean
  /** Key prefix for locks, channels and the geo index on a shared Redis (`CACHE_PREFIX`). */
  readonly prefix: string
}

export type ThrottleScope =
  | 'anon'
  | 'user'
  | 'staff'
  | 'login'
  | 'pin'
  | 'transfer_member'
  | 'transfer_staff'
  | 'report_user'
  | 'report_ip'

const THROTTLE: Record<ThrottleScope, RuleString> = {
  anon: '100/hour',
  user: '1000/hour',
  staff: '5000/hour',
  login: '5/min',
  pin: '3/min',
  transfer_member: '30/min',
  transfer_staff: '300/min',
  // Seed 2: report generations (cache misses) per user and per address.
  report_user: '10/hour',
  report_ip: '100/hour',
}

const DEV_SESSION_SECRET = 'refapp-dev-session-secret-change-me-0123456789'
const DEV_OTP_SECRET = 'refapp-dev-otp-secret-change-me-0123456789'

/** Reads the configuration; `overrides` (tests) win over the environment. */
export function loadConfig(
  source: Readonly<Record<string, string | undefined>> = process.env,
  root = new URL('.', import.meta.url).pathname,
): AppConfig {
  const dataDir = source['APP_DATA_DIR'] ?? join(root, 'data')
  const prefix = source['CACHE_PREFIX'] ?? 'hlvm'
  const env: Record<string, string | undefined> = { CACHE_TTL: '5m', ...source, CACHE_PREFIX: prefix }
  const redis = ['CACHE_URL', 'REDIS_URL', 'REDIS_LOCATION', 'REDIS_SENTINELS', 'VALKEY_HOST'].some(
    (k) => source[k],
  )
  // Resilience (seed 5): on Redis, fall back to SQL while it is out, unless told otherwise.
  if (redis && !/^(memory:|postgres|mysql|sqlite)/i.test(source['CACHE_URL'] ?? '')) {
    if (env['CACHE_FALLBACK_URL'] === undefined) {
      env['CACHE_FALLBACK_URL'] = source['DATABASE_URL']
        ? 'database'
        : `sqlite:${join(dataDir, 'cache-fallback.db')}`
    } else if (env['CACHE_FALLBACK_URL'] === 'none') {
      delete env['CACHE_FALLBACK_URL']
    }
  } else if (env['CACHE_FALLBACK_URL'] === 'none') {
    delete env['CACHE_FALLBACK_URL']
  }
  const throttle = { ...THROTTLE }
  for (const scope of Object.keys(THROTTLE) as ThrottleScope[]) {
    const value = source[`THROTTLE_${scope.toUpperCase()}`]
    if (value) throttle[scope] = value as RuleString // createRateLimiter checks it
  }
  const size = source['APP_DATA_SIZE']
  return {
    env,
    cacheOff: /^(off|false|0|none)$/i.test(source['CACHE'] ?? ''),
    dataDir,
    databaseUrl: source['DATABASE_URL'] || undefined,
    databaseSchema: source['DATABASE_SCHEMA'] || undefined,
    dataSize: size === 'small' ? SMALL_DATA : size ? parseSize(size) : FULL_DATA,
    port: Number(source['PORT'] ?? 3000),
    host: source['HOST'] ?? '127.0.0.1',
    sessionSecret: source['SESSION_SECRET'] ?? DEV_SESSION_SECRET,
    otpSecret: source['OTP_SECRET'] ?? DEV_OTP_SECRET,
    throttle,
    printPins: source['NODE_ENV'] !== 'production' || source['PRINT_PINS'] === 'true',
    prefix,
  }
}

/** `APP_DATA_SIZE=users,transactions` (e.g. `20,100000`). */
function parseSize(text: string): DataSize {
  const [users, transactions] = text.split(',').map(Number)
  if (!Number.isInteger(users) || !Number.isInteger(transactions) || !users || !transactions) {
    throw new Error('APP_DATA_SIZE takes "small" or "<users>,<transactions>"')
  }
  return { users, transactions, merchants: 100 }
}

/** True when the secrets are the development defaults (printed as a warning at startup). */
export function usesDevSecrets(config: AppConfig): boolean {
  return config.sessionSecret === DEV_SESSION_SECRET || config.otpSecret === DEV_OTP_SECRET
}
