// Internal door: what code outside internal/ uses from it. Never in package.json "exports".
export { scaleBytes } from './bytes.js'
export type { CallGuard, Fallback } from './call-guard.js'
export { absorbs, RETHROW } from './call-guard.js'
export type { Clock } from './clock.js'
export { systemClock } from './clock.js'
export { Deadlines, DeadlineTimeoutError, within } from './deadline.js'
export type { Duration, DurationString, DurationUnit, Ttl } from './duration.js'
export {
  DURATION_UNITS,
  describe,
  durationToMs,
  MAX_TIMEOUT_MS,
  MAX_TTL_MS,
  renamedMs,
  requireDuration,
  requireTimeout,
  ttlToMs,
  wholeMs,
} from './duration.js'
export { escapeGlob, globMatcher, globParts, matchGlob } from './glob.js'
export { checkValueBytes, maxValueBytesOption } from './limits.js'
export type { Script, ScriptRunner } from './lua.js'
export { script } from './lua.js'
export { getOrMake } from './maps.js'
export type { MaybePromise } from './maybe-promise.js'
export { whenResolved } from './maybe-promise.js'
export { percentDecode, percentEncode } from './percent.js'
export { passwordOf, redactSecrets, redactUrl, scrubber, secretForms } from './redact.js'
