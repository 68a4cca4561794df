/** A time source in epoch milliseconds. Tests inject one to move time without waiting. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: Date.now }
