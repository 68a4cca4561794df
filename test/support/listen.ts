import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A test app's HTTP server, listening on a loopback port. */
export interface Listening {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** Drops keep-alive connections, then closes the server. */
  close(): Promise<void>
}

/**
 * Starts `server` (not listening yet: `createServer(expressApp)`, Hono's `createAdaptorServer`)
 * on a free loopback port.
 */
export async function listen(server: Server): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
