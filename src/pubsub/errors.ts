import { CacheError } from '../errors.js'

/** A `messages()` reader fell too far behind: more than `maxBuffered` messages waited for it. */
export class ChannelOverflowError extends CacheError {
  static override readonly code = 'E_CHANNEL_OVERFLOW'
}

/** A last-seen id (`since`, an SSE `Last-Event-ID`) is not a stream id such as `1700000000000-0`. */
export class InvalidEventIdError extends CacheError {
  static override readonly code = 'E_INVALID_EVENT_ID'
}
