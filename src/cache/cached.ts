import { InvalidOptionError } from '../errors.js'
import type { Ttl } from '../internal/index.js'
import type { Cache } from './cache.js'
import type { GetOrSetOptions } from './get-or-set.js'
import { keyTerm, SEPARATOR } from './keys.js'

/** Options of `cache.cached(fn, options)`: getOrSet options, plus how to build the key from the arguments. */
export interface CachedOptions<A extends unknown[], R> extends Omit<GetOrSetOptions<R>, 'tags'> {
  /**
   * The key: a name, to which the arguments are appended (`'user_stats'` → `user_stats:42`), or a
   * function that builds the whole key from the arguments.
   */
  readonly key: string | ((...args: A) => string)
  readonly ttl?: Ttl
  /** Tags of each result: a list, or a function of the arguments. */
  readonly tags?: readonly string[] | ((...args: A) => readonly string[])
}

/** A function whose results are cached by argument; `keyFor` and `invalidate` address one result. */
export interface CachedFunction<A extends unknown[], R> {
  (...args: A): Promise<R>
  /** The cache key the call with these arguments uses. */
  keyFor(...args: A): string
  /** Removes the cached result of the call with these arguments. */
  invalidate(...args: A): Promise<boolean>
}

/** A TC39 (TypeScript 5) method decorator that caches a method's results by argument. */
export type MethodDecorator<A extends unknown[], R> = <This>(
  method: (this: This, ...args: A) => R | Promise<R>,
  context: ClassMethodDecoratorContext<This>,
) => (this: This, ...args: A) => Promise<R>

export function cached<A extends unknown[], R>(
  cache: Cache,
  fnOrOptions: ((...args: A) => R | Promise<R>) | CachedOptions<A, R>,
  maybeOptions: CachedOptions<A, R> | undefined,
): CachedFunction<A, R> | MethodDecorator<A, R> {
  if (typeof fnOrOptions === 'function') {
    const options = check(maybeOptions)
    return wrap(cache, options, (_self, args) => fnOrOptions(...args))
  }
  const options = check(fnOrOptions)
  const decorator: MethodDecorator<A, R> = (method) => {
    const wrapped = wrap(cache, options, (self, args) => method.apply(self as never, args))
    return function cachedMethod(this: unknown, ...args: A) {
      return wrapped.call(this, ...args)
    }
  }
  return decorator
}

function wrap<A extends unknown[], R>(
  cache: Cache,
  options: CachedOptions<A, R>,
  call: (self: unknown, args: A) => R | Promise<R>,
): CachedFunction<A, R> {
  const { key, tags, ...rest } = options
  const keyFor = (...args: A): string => (typeof key === 'function' ? key(...args) : argsKey(key, args))
  const fn = function cachedCall(this: unknown, ...args: A): Promise<R> {
    let k: string
    let t: readonly string[] | undefined
    try {
      k = keyFor(...args)
      t = typeof tags === 'function' ? tags(...args) : tags
    } catch (error) {
      return Promise.reject(error)
    }
    return cache.getOrSet<R>(k, () => call(this, args), t === undefined ? rest : { ...rest, tags: t })
  } as CachedFunction<A, R>
  fn.keyFor = keyFor
  fn.invalidate = (...args: A) => cache.delete(keyFor(...args))
  return fn
}

function check<A extends unknown[], R>(options: CachedOptions<A, R> | undefined): CachedOptions<A, R> {
  if (
    !options ||
    (typeof options.key !== 'string' && typeof options.key !== 'function') ||
    options.key === ''
  ) {
    throw new InvalidOptionError(
      "cached() needs options with a key: a name ('user_stats') or a function of the arguments",
    )
  }
  return options
}

/**
 * `name:arg1:arg2`, each argument in its typed form (see {@link keyTerm}): distinct arguments give
 * distinct keys, equal ones equal keys; an argument with no key form asks for a `key` function.
 */
function argsKey(name: string, args: readonly unknown[]): string {
  let out = name
  for (let i = 0; i < args.length; i++) out += SEPARATOR + keyTerm(args[i], `argument ${i + 1}`)
  return out
}
