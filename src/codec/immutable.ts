import { ImmutableValueError } from '../errors.js'

/**
 * Read-only `Date`, `Map` and `Set` for frozen snapshots. `Object.freeze` cannot protect the
 * internal state of these built-ins, so a `'freeze'` memory store keeps read-only
 * instances instead: plain built-ins (same prototype and `constructor`, so `instanceof`,
 * `value.constructor === Map` as msgpackr's writer tests it, `util.isDeepStrictEqual` and
 * `structuredClone` see an ordinary `Date`/`Map`/`Set`) whose mutating methods are shadowed by
 * own, non-enumerable, read-only methods that throw {@link ImmutableValueError}, then frozen so
 * the shadows cannot be removed or replaced. Readers can thus be handed the stored object itself.
 * Calling the built-in's own method on it (`Map.prototype.set.call(m, ...)`) deliberately
 * bypasses this; nothing else does.
 */

function refuse(type: string, method: string): never {
  throw new ImmutableValueError(
    `Cannot call ${method}() on a ${type} read from the cache: values of a 'freeze' memory store are read-only; copy it first (new ${type}(value)) or use mutation: 'clone'`,
  )
}

const DATE_SETTERS = [
  'setDate',
  'setFullYear',
  'setHours',
  'setMilliseconds',
  'setMinutes',
  'setMonth',
  'setSeconds',
  'setTime',
  'setUTCDate',
  'setUTCFullYear',
  'setUTCHours',
  'setUTCMilliseconds',
  'setUTCMinutes',
  'setUTCMonth',
  'setUTCSeconds',
  'setYear',
] as const

/** Own, non-enumerable, read-only methods that shadow the built-in's mutators. */
function shadows(type: string, names: readonly string[]): PropertyDescriptorMap {
  const out: PropertyDescriptorMap = {}
  for (const name of names) {
    out[name] = {
      value: function mutate(): never {
        return refuse(type, name)
      },
      writable: false,
      enumerable: false,
      configurable: false,
    }
  }
  return out
}

const DATE_SHADOWS = shadows('Date', DATE_SETTERS)
const MAP_SHADOWS = shadows('Map', ['set', 'delete', 'clear'])
const SET_SHADOWS = shadows('Set', ['add', 'delete', 'clear'])

/** A frozen, read-only `Date` at `time` (epoch ms; `NaN` for an invalid date). */
export function immutableDate(time: number): Date {
  return Object.freeze(Object.defineProperties(new Date(time), DATE_SHADOWS))
}

/** A frozen, read-only `Map` of `entries` (taken as they are: copy them first). */
export function immutableMap(entries: Iterable<readonly [unknown, unknown]>): Map<unknown, unknown> {
  return Object.freeze(Object.defineProperties(new Map(entries), MAP_SHADOWS))
}

/** A frozen, read-only `Set` of `items` (taken as they are: copy them first). */
export function immutableSet(items: Iterable<unknown>): Set<unknown> {
  return Object.freeze(Object.defineProperties(new Set(items), SET_SHADOWS))
}
