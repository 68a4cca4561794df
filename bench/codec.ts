/**
 * Scenario 4: encoding a ~1 KB document (nested objects, strings, numbers, a Date) for a store
 * that keeps bytes: cachekit's codec in its configurations against JSON, raw msgpackr and
 * node:v8 serialization. Round trips per second, encoded size, and whether the value came back
 * exactly as it went in.
 */

import { isDeepStrictEqual } from 'node:util'
import v8 from 'node:v8'
import { Packr } from 'msgpackr'
import { type CodecOptions, createCodec } from './lib/cachekit.js'
import { profileDocument } from './lib/data.js'
import { ops, percent, ratio, table } from './lib/format.js'
import { type MeasureOptions, measure, type OpTask, pairedRatio, roundsNote } from './lib/measure.js'
import { defineScenario, progress } from './lib/scenario.js'

/** Round trips per timed call: one is a few µs, so ten keep the timer's cost out of the figure. */
const BATCH = 10

interface Contender {
  readonly name: string
  readonly encode: (value: unknown) => Uint8Array | string
  readonly decode: (encoded: never) => unknown
  /** Whether the bytes written are compressed (read from the entry header for cachekit). */
  readonly compressed?: (encoded: Uint8Array) => boolean
}

const cachekit = (name: string, options?: CodecOptions): Contender => {
  const codec = createCodec(options)
  return {
    name,
    encode: codec.encode,
    decode: codec.decode as (encoded: never) => unknown,
    // Header byte 2, bits 0-1: the compression of the entry (see src/codec/codec.ts).
    compressed: (encoded) => (encoded[2]! & 0b11) !== 0,
  }
}

export default defineScenario({
  title: '4. Codec: encode + decode of a ~1 KB object',
  async run({ quick }) {
    const doc = profileDocument()
    const packr = new Packr()
    const contenders: Contender[] = [
      cachekit('cachekit msgpack (`createCodec()`)'),
      cachekit("cachekit json (`serializer: 'json'`)", { serializer: 'json' }),
      cachekit("cachekit msgpack + gzip (`compression: { algorithm: 'gzip' }`)", {
        compression: { algorithm: 'gzip' },
      }),
      cachekit("cachekit msgpack + brotli (`compression: { algorithm: 'brotli' }`)", {
        compression: { algorithm: 'brotli' },
      }),
      cachekit('cachekit msgpack + gzip, `threshold: 0`', {
        compression: { algorithm: 'gzip', threshold: 0 },
      }),
      cachekit('cachekit msgpack + brotli, `threshold: 0`', {
        compression: { algorithm: 'brotli', threshold: 0 },
      }),
      cachekit("cachekit json + gzip (`compression: { algorithm: 'gzip' }`)", {
        serializer: 'json',
        compression: { algorithm: 'gzip' },
      }),
      {
        name: 'JSON.stringify / JSON.parse',
        encode: (value) => JSON.stringify(value),
        decode: ((text: string) => JSON.parse(text)) as (encoded: never) => unknown,
      },
      {
        name: 'msgpackr `new Packr()`',
        encode: (value) => packr.pack(value),
        decode: ((bytes: Uint8Array) => packr.unpack(bytes)) as (encoded: never) => unknown,
      },
      {
        name: 'node:v8 serialize / deserialize',
        encode: (value) => v8.serialize(value),
        decode: ((bytes: Buffer) => v8.deserialize(bytes)) as (encoded: never) => unknown,
      },
    ]

    let sink = 0
    const tasks: OpTask[] = contenders.map((c) => ({
      name: c.name,
      ops: BATCH,
      async: false,
      fn: () => {
        for (let i = 0; i < BATCH; i++) {
          const back = c.decode(c.encode(doc) as never) as { id?: unknown }
          if (back.id !== doc['id']) sink++
        }
      },
    }))
    const options: MeasureOptions = quick
      ? { time: 100, warmupTime: 30, rounds: 1 }
      : { time: 100, warmupTime: 20, rounds: 10 }
    progress(`${contenders.length} codecs × ${options.rounds} rounds`)
    const results = await measure(tasks, options)
    if (sink !== 0) throw new Error('a codec lost the id field')

    const jsonBytes = Buffer.byteLength(JSON.stringify(doc))
    const baseline = results.get('JSON.stringify / JSON.parse')!
    const rows = contenders.map((c) => {
      const encoded = c.encode(doc)
      const size = typeof encoded === 'string' ? Buffer.byteLength(encoded) : encoded.byteLength
      const exact = isDeepStrictEqual(c.decode(encoded as never), doc)
      const m = results.get(c.name)!
      return [
        c.name,
        `${ops(m.opsPerSec)} ${percent(m.spread)}`,
        ratio(pairedRatio(m, baseline)),
        size,
        ratio(size / jsonBytes),
        c.compressed ? (c.compressed(encoded as Uint8Array) ? 'yes' : 'no') : '-',
        exact ? 'yes' : 'no (Date → string)',
      ]
    })
    const body = [
      `The document: ${jsonBytes} bytes as JSON; ${Object.keys(doc).length} top-level fields, nested objects and arrays, a \`Date\` (\`createdAt\`). One operation is \`decode(encode(doc))\`; ${BATCH} per timed call; round trips/s is ${roundsNote(options)}.`,
      'cachekit\'s compression applies from `threshold` bytes (default 1024) of serialized payload, and only when it shrinks the entry: the "compressed" column says whether this document\'s entry was compressed. The `threshold: 0` rows force it, to show what compression costs and saves on a value this size. JSON.stringify yields a string (its size counted in UTF-8 bytes).',
      '"÷ JSON" is the median of the per-round ratios to JSON.stringify/parse; "exact" is `util.isDeepStrictEqual(decoded, original)`.',
      '',
      table(
        ['Codec', 'round trips/s', '÷ JSON', 'encoded bytes', 'size ÷ JSON', 'compressed', 'exact'],
        rows,
      ),
    ].join('\n')
    return { body, targets: [] }
  },
})
