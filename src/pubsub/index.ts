export {
  type Channel,
  type ChannelMessage,
  type ChannelOptions,
  channel,
  type DurableOptions,
  type MessageMeta,
  type MessagesOptions,
  type SubscribeOptions,
  type Unsubscribe,
} from './channel.js'
export { ChannelOverflowError, InvalidEventIdError } from './errors.js'
export { compareIds, parseEventId } from './ids.js'
export type { PubSubStore } from './redis.js'
export {
  EVENT_STREAM_HEADERS,
  type EventSink,
  type EventStream,
  type EventStreamOptions,
  openEventStream,
  resolveEventStreamOptions,
} from './sse.js'
