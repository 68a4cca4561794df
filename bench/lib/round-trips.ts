/**
 * Counts Redis round trips as the network sees them: a loopback TCP proxy in front of a bench
 * server that counts, per connection, each time the client starts sending again after the server
 * has answered (a "turn"). With one call at a time on an otherwise idle connection, turns are the
 * round trips that call cost, whatever it sends: a script (EVALSHA, whose inner commands INFO
 * commandstats counts too) or a pipelined MULTI ... EXEC (four commands, one round trip) are one
 * turn each. It also counts the commands clients send (top-level RESP arrays: a script is one,
 * whatever it runs inside the server), which with many calls in flight is the number of requests
 * per call, MONITOR-free. Used outside timed code only; timed runs connect to the server directly.
 */
import net from 'node:net'

const HOST = '127.0.0.1'

export interface RoundTripCounter {
  /** The proxy's port: point a client at `redis://127.0.0.1:${port}`. */
  readonly port: number
  readonly url: string
  /** Turns counted so far over every connection through the proxy. */
  turns(): number
  /** Commands sent so far over every connection through the proxy. */
  commands(): number
  close(): Promise<void>
}

export async function startRoundTripCounter(targetPort: number): Promise<RoundTripCounter> {
  let turns = 0
  const counters = new Set<CommandCounter>()
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, HOST)
    sockets.add(client)
    sockets.add(upstream)
    let waiting = false
    const counter = new CommandCounter()
    counters.add(counter)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    client.on('data', (chunk) => {
      if (!waiting) {
        turns++
        waiting = true
      }
      counter.feed(chunk)
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      waiting = false
      client.write(chunk)
    })
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    port,
    url: `redis://${HOST}:${port}`,
    turns: () => turns,
    commands: () => [...counters].reduce((sum, c) => sum + c.count, 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** Counts the commands in a client's request stream: RESP arrays of bulk strings, or inline lines. */
class CommandCounter {
  count = 0
  #line = ''
  /** Bulk strings still to come in the current array. */
  #elements = 0
  /** Payload bytes (and CRLF) of the current bulk string still to skip. */
  #skip = 0

  feed(chunk: Buffer): void {
    let i = 0
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i)
        this.#skip -= n
        i += n
        continue
      }
      const end = chunk.indexOf(10, i)
      if (end < 0) {
        this.#line += chunk.toString('latin1', i)
        return
      }
      const line = (this.#line + chunk.toString('latin1', i, end)).replace(/\r$/, '')
      this.#line = ''
      i = end + 1
      if (line.startsWith('*')) {
        this.#elements = Number(line.slice(1))
        this.count++
      } else if (line.startsWith('$') && this.#elements > 0) {
        this.#skip = Number(line.slice(1)) + 2
        this.#elements--
      } else if (line.length > 0) this.count++
    }
  }
}
