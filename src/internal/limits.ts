/**
 * The largest value cachekit writes or decompresses by default, in bytes: 16 MiB. One limit for
 * the codec and the Redis store, so a value one accepts the other does not refuse. Larger values
 * belong in object storage; in Redis they block the server while they travel.
 */
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024
