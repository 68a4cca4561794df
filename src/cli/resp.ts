import net from 'node:net'
import tls from 'node:tls'

/** A reply of the RESP2 protocol: text, integer, nil, error (as an Error) or an array of those. */
export type Reply = string | number | null | Error | Reply[]

/**
 * Sends one command to a Redis-protocol server on a fresh connection and returns its reply, within
 * `timeoutMs`. For Sentinel nodes only: data nodes are reached through the store, with its
 * deadline, breaker and credentials.
 */
export function sendOnce(
  endpoint: { host: string; port: number },
  args: readonly string[],
  options: { timeoutMs: number; tls?: boolean },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = options.tls
      ? tls.connect({ host: endpoint.host, port: endpoint.port, servername: endpoint.host })
      : net.connect({ host: endpoint.host, port: endpoint.port })
    let buffer = Buffer.alloc(0)
    const done = (error: Error | undefined, reply?: Reply) => {
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(reply ?? null)
    }
    const timer = setTimeout(
      () =>
        done(new Error(`${endpoint.host}:${endpoint.port} did not answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    )
    socket.once('error', (error) => done(error))
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      const parsed = parse(buffer, 0)
      if (parsed) done(undefined, parsed.reply)
    })
    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
    })
  })
}

/** Parses one reply at `at`; undefined when more bytes are needed. */
function parse(buffer: Buffer, at: number): { reply: Reply; end: number } | undefined {
  const eol = buffer.indexOf('\r\n', at)
  if (eol === -1) return undefined
  const type = String.fromCharCode(buffer[at] ?? 0)
  const line = buffer.toString('utf8', at + 1, eol)
  const next = eol + 2
  switch (type) {
    case '+':
      return { reply: line, end: next }
    case '-':
      return { reply: new Error(line), end: next }
    case ':':
      return { reply: Number(line), end: next }
    case '$': {
      const length = Number(line)
      if (length < 0) return { reply: null, end: next }
      if (buffer.length < next + length + 2) return undefined
      return { reply: buffer.toString('utf8', next, next + length), end: next + length + 2 }
    }
    case '*': {
      const count = Number(line)
      if (count < 0) return { reply: null, end: next }
      const items: Reply[] = []
      let position = next
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, position)
        if (!item) return undefined
        items.push(item.reply)
        position = item.end
      }
      return { reply: items, end: position }
    }
    default:
      return { reply: new Error(`Unexpected reply: ${line}`), end: next }
  }
}
