export { LockAbortedError, LockLostError, LockTimeoutError } from './errors.js'
export { createLocks, Locks, type LocksOptions, MAX_LOCK_NAME_LENGTH } from './locks.js'
export { LOCK_CHANNEL, lockKey } from './redis.js'
export type { LockHandle, LockOptions, LockStats } from './types.js'
