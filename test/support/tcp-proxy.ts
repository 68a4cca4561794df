import net from 'node:net'

/**
 * A loopback TCP proxy in front of one Redis, so a test can cut one client off (every connection
 * dropped, new ones refused) while others keep talking to the server directly.
 */
export interface TcpProxy {
  readonly port: number
  /** Drops every connection and refuses new ones for `ms`, then accepts again. */
  cut(ms: number): Promise<void>
  close(): Promise<void>
}

export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>()
  let server: net.Server
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect({ host: '127.0.0.1', port: targetPort })
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('close', () => sockets.delete(s))
          s.on('error', () => {})
        }
        client.pipe(upstream).pipe(client)
        client.on('close', () => upstream.destroy())
        upstream.on('close', () => client.destroy())
      })
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port))
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const s of sockets) s.destroy()
    })
  const port = await listen(0)
  return {
    port,
    async cut(ms) {
      await stop()
      await new Promise((resolve) => setTimeout(resolve, ms))
      await listen(port)
    },
    close: stop,
  }
}
