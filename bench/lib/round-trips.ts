/**
 * Counts Redis round trips as the network sees them: a loopback TCP proxy in front of a bench
 * server that counts, per connection, each time the client starts sending again after the server
 * has answered (a "turn"). With one call at a time on an otherwise idle connection, turns are the
 * round trips that call cost, whatever it sends: a script (EVALSHA, whose inner commands INFO
 * commandstats counts too) or a pipelined MULTI ... EXEC (four commands, one round trip) are one
 * turn each. Used outside timed code only; timed runs connect to the server directly.
 */
import net from 'node:net'

const HOST = '127.0.0.1'

export interface RoundTripCounter {
  /** The proxy's port: point a client at `redis://127.0.0.1:${port}`. */
  readonly port: number
  readonly url: string
  /** Turns counted so far over every connection through the proxy. */
  turns(): number
  close(): Promise<void>
}

export async function startRoundTripCounter(targetPort: number): Promise<RoundTripCounter> {
  let turns = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, HOST)
    sockets.add(client)
    sockets.add(upstream)
    let waiting = false
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    client.on('data', (chunk) => {
      if (!waiting) {
        turns++
        waiting = true
      }
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
