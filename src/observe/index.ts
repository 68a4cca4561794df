// Internal door: what code outside observe/ uses from it. Never in package.json "exports".

export type {
  BurstLogEvent,
  CacheEvent,
  CacheEventType,
  DegradedEvent,
  HttpCacheEvent,
  LoginGuardEvent,
  OneTimeCodeEvent,
  RateLimitEvent,
  Tier,
  TimingEvent,
} from './channels.js'
export {
  BurstLog,
  CHANNELS,
  channel,
  DEGRADED_CHANNEL,
  HTTP_CACHE_CHANNEL,
  LOGIN_GUARD_CHANNEL,
  ONE_TIME_CODE_CHANNEL,
  publishDegraded,
  publishLoginGuard,
  publishOneTimeCode,
  publishTiming,
  RATE_LIMIT_CHANNEL,
  rateLimitChannel,
  TIMING_CHANNEL,
  TIMING_SAMPLE_EVERY,
  timingStart,
} from './channels.js'
