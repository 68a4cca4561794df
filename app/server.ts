/**
 * Starts the reference app: configuration, services, HTTP server. `npm start` runs app/main.ts,
 * which calls {@link startApp}; tests call it in-process with their own configuration.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AppConfig, loadConfig, usesDevSecrets } from './config.js'
import { DEMO_USER } from './db/seed.js'
import { createHttpApp } from './http/app.js'
import { createServices, type Services } from './services/context.js'

export interface RunningApp {
  readonly url: string
  readonly services: Services
  readonly server: Server
  close(): Promise<void>
}

export async function startApp(
  config: AppConfig = loadConfig(),
  log: (line: string) => void = (line) => console.log(line),
): Promise<RunningApp> {
  const started = Date.now()
  const services = await createServices(config, log)
  const app = createHttpApp(services, log)
  const server = createServer(app)
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, resolve)
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${config.host}:${port}`
  const cache = services.cacheDescription
  log(`database: ${services.db.description}`)
  log(
    `cache: ${cache.store}${'l1' in cache && cache.l1 ? ' + L1' : ''}${'fallback' in cache && cache.fallback ? ' + SQL fallback' : ''}` +
      `, prefix ${config.prefix}${config.env['CACHE_VERSION'] ? `, version ${config.env['CACHE_VERSION']}` : ''}`,
  )
  if (usesDevSecrets(config)) log('warning: SESSION_SECRET / OTP_SECRET not set: using development secrets')
  log(
    `ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${url}  (demo login: ${DEMO_USER.username} / ${DEMO_USER.password})`,
  )
  return {
    url,
    services,
    server,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await services.close()
    },
  }
}
