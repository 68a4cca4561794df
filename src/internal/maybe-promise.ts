/** A value or a promise of it: what a store or a factory may return. */
export type MaybePromise<T> = T | Promise<T>

/** Applies `fn` to a value that may or may not be a promise, staying synchronous when it can. */
export function whenResolved<T, R>(value: MaybePromise<T>, fn: (value: T) => R): MaybePromise<R> {
  return value instanceof Promise ? value.then(fn) : fn(value)
}
