/**
 * `performance.now()` read at most once per {@link CALLS} checks, and again as soon as the event
 * loop has turned (a 1 ms timer marks the reading old). lru-cache reads the clock on every TTL
 * check; its own `ttlResolution` caches the reading until a timer fires, which a long promise chain
 * never lets happen, so an entry could outlive its TTL for as long as the chain runs. Here the
 * call count bounds that: within one uninterrupted run of code the reading is at most
 * {@link CALLS} checks old, and after any wait (a timer, I/O) it is fresh.
 */
const CALLS = 64

export class CoarseClock {
  #value = 0
  #left = 0
  #armed = false
  readonly #expire = () => {
    this.#armed = false
    this.#left = 0
  }

  now(): number {
    if (this.#left > 0) {
      this.#left--
      return this.#value
    }
    this.#value = performance.now()
    this.#left = CALLS - 1
    if (!this.#armed) {
      this.#armed = true
      setTimeout(this.#expire, 1).unref()
    }
    return this.#value
  }
}
