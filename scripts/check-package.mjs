// Installs the packed tarball into fresh apps the way a user would (npm install from the tarball
// next to Express 4 or 5 and Fastify 4 or 5), then require()s and imports every door and serves
// one rate-limited request through the framework's door; installs each supported Redis client
// beside it and round-trips a value through Redis. Fails on any npm warning (ERESOLVE and
// peer conflicts surface as warnings or errors), and runs publint and attw on the same tarball.
//
//   node scripts/check-package.mjs          (after npm run build)
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const work = mkdtempSync(join(tmpdir(), 'cachekit-package-'))
const problems = []
/** `--readme`: only the README snippet check (quicker while editing the README). */
const readmeOnly = process.argv.includes('--readme')

function run(cmd, args, cwd) {
  const result = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'warn' },
  })
  return { code: result.status ?? 1, out: `${result.stdout}${result.stderr}` }
}

try {
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
    cwd: root,
    encoding: 'utf8',
  })
  const tarball = join(work, packed.trim().split('\n').pop())

  if (!readmeOnly) checkInstalls(tarball)
  if (!readmeOnly) checkRedisClients(tarball)
  checkReadme(tarball)
} finally {
  rmSync(work, { recursive: true, force: true })
}

function checkInstalls(tarball) {
  const lint = run('npx', ['publint', tarball], root)
  if (lint.code !== 0 || !/All good/.test(lint.out)) problems.push(`publint:\n${lint.out}`)
  // node10 cannot resolve `exports` at all, and TypeScript's node16 CJS mode does not yet model
  // require(esm), which Node >= 20.19 does; every other check must pass.
  const attw = run(
    'npx',
    ['attw', tarball, '--profile', 'node16', '--ignore-rules', 'cjs-resolves-to-esm'],
    root,
  )
  if (attw.code !== 0) problems.push(`attw:\n${attw.out}`)

  const doors = Object.keys(pkg.exports)
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`))
  const apps = [
    { name: 'express4', deps: ['express@4'], door: 'express' },
    {
      name: 'express5',
      deps: ['express@5', 'keyv@5', 'prom-client@15', '@opentelemetry/api@1'],
      door: 'express',
    },
    { name: 'fastify4', deps: ['fastify@4'], door: 'fastify' },
    { name: 'fastify5', deps: ['fastify@5'], door: 'fastify' },
  ]
  for (const app of apps) {
    const dir = join(work, app.name)
    execFileSync('mkdir', ['-p', dir])
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: app.name, private: true, version: '1.0.0' }),
    )
    const install = run('npm', ['install', '--no-audit', '--no-fund', tarball, ...app.deps], dir)
    const warnings = install.out
      .split('\n')
      .filter((line) => /^npm (warn|error)/i.test(line) && !tolerated(line))
    if (install.code !== 0 || warnings.length > 0) {
      problems.push(`${app.name}: npm install failed or warned:\n${install.out}`)
      continue
    }
    // cachekit/keyv, cachekit/prometheus and cachekit/otel are the doors for users of their peer
    // and import it themselves; the other doors load peers lazily.
    const ownPeer = { keyv: 'keyv@', prometheus: 'prom-client@', otel: '@opentelemetry/api@' }
    const loadable = doors.filter((d) => {
      const peer = ownPeer[d.slice(pkg.name.length + 1)]
      return peer === undefined || app.deps.some((dep) => dep.startsWith(peer))
    })
    const requireAll = loadable.map((d) => `require(${JSON.stringify(d)})`).join(';')
    const cjs = run(process.execPath, ['-e', `${requireAll}; console.log('required')`], dir)
    if (cjs.code !== 0 || !cjs.out.includes('required'))
      problems.push(`${app.name}: require() failed:\n${cjs.out}`)
    const esm = run(
      process.execPath,
      ['--input-type=module', '-e', `${loadable.map((d) => `await import(${JSON.stringify(d)})`).join(';')}`],
      dir,
    )
    if (esm.code !== 0) problems.push(`${app.name}: import failed:\n${esm.out}`)
    writeFileSync(join(dir, 'serve.mjs'), serveScript(app.door))
    const served = run(process.execPath, ['serve.mjs'], dir)
    if (served.code !== 0 || !served.out.includes('statuses 200,200,429')) {
      problems.push(`${app.name}: the ${app.door} door did not limit requests:\n${served.out}`)
    }
  }
}

/**
 * The Redis clients the peer range names, each installed beside the tarball and run against the
 * Redis on 127.0.0.1:6379 (a set, a get of a value with a Date, a getOrSet, then clear): node-redis
 * 5 and 6 and ioredis 5 must work; node-redis 4, outside the range (installed with
 * --legacy-peer-deps, as a user forcing it would), must be refused with E_INVALID_OPTION.
 */
function checkRedisClients(tarball) {
  const clients = [
    { name: 'redis4', dep: 'redis@4', make: nodeRedisClient, expect: 'E_INVALID_OPTION' },
    { name: 'redis5', dep: 'redis@5', make: nodeRedisClient, expect: 'round trip ok' },
    { name: 'redis6', dep: 'redis@6', make: nodeRedisClient, expect: 'round trip ok' },
    { name: 'ioredis5', dep: 'ioredis@5', make: ioredisClient, expect: 'round trip ok' },
  ]
  for (const client of clients) {
    const dir = join(work, client.name)
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: client.name, private: true, type: 'module' }),
    )
    const flags = client.name === 'redis4' ? ['--legacy-peer-deps'] : []
    const install = run('npm', ['install', '--no-audit', '--no-fund', ...flags, tarball, client.dep], dir)
    const warnings = install.out
      .split('\n')
      .filter((line) => /^npm (warn|error)/i.test(line) && !tolerated(line))
    if (install.code !== 0 || warnings.length > 0) {
      problems.push(`${client.name}: npm install failed or warned:\n${install.out}`)
      continue
    }
    writeFileSync(
      join(dir, 'round-trip.mjs'),
      roundTripScript(client.make(), `cachekit-package-${client.name}-${process.pid}`),
    )
    const result = run(process.execPath, ['round-trip.mjs'], dir)
    if (result.code !== 0 || !result.out.includes(client.expect)) {
      problems.push(`${client.name}: expected "${client.expect}":\n${result.out}`)
    }
  }
}

function nodeRedisClient() {
  return `import { createClient } from 'redis'
const client = createClient({ url: 'redis://127.0.0.1:6379' })
await client.connect()
const quit = () => client.quit()`
}

function ioredisClient() {
  return `import { Redis } from 'ioredis'
const client = new Redis('redis://127.0.0.1:6379')
const quit = () => client.quit()`
}

function roundTripScript(makeClient, prefix) {
  return `${makeClient}
import { deepStrictEqual } from 'node:assert'
import { createCache } from 'cachekit'
import { redisStore } from 'cachekit/redis'
try {
  const cache = createCache({ store: redisStore({ client }), prefix: ${JSON.stringify(prefix)}, ttl: '1m' })
  const value = { id: 7, at: new Date(0), tags: ['a', 'b'], blob: 'x'.repeat(4096) }
  await cache.set('entry', value)
  deepStrictEqual(await cache.get('entry'), value)
  deepStrictEqual(await cache.getOrSet('computed', () => 42), 42)
  deepStrictEqual(await cache.getOrSet('computed', () => 0), 42)
  await cache.clear()
  await cache.close()
  console.log('round trip ok')
} catch (error) {
  console.log(error.code ?? '', error.message)
} finally {
  await quit()
}
`
}

if (problems.length > 0) {
  console.error(`check-package: ${problems.length} problem(s):\n\n${problems.join('\n\n')}`)
  process.exit(1)
}
if (!readmeOnly) {
  console.log(
    'check-package: the tarball installs into Express 4/5 and Fastify 4/5 apps; require() and import work; node-redis 5/6 and ioredis 5 round-trip and node-redis 4 is refused; publint and attw are clean',
  )
}

/**
 * Type-checks every ```ts block of README.md, each as its own module, in a strict consumer
 * project that installed the tarball (and the peers the snippets use), as a reader who pastes one
 * would. Names a snippet uses without defining (`cache`, `userId`, an Express `app`) are declared
 * once in readmeContext(), so the snippets stay short and still cannot use an API wrongly.
 */
function checkReadme(tarball) {
  const dir = join(work, 'readme')
  mkdirSync(join(dir, 'snippets'), { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme', private: true, type: 'module' }))
  const deps = [
    'typescript@5.9',
    '@types/node@20',
    'express@5',
    '@types/express@5',
    'fastify@5',
    'hono@4',
    'redis@5',
    'ioredis@5',
    'pg@8',
    '@types/pg@8',
    'mysql2@3',
    'better-sqlite3@12',
    '@types/better-sqlite3',
    'keyv@5',
    'cache-manager@7',
    'express-session@1',
    '@types/express-session@1',
    '@fastify/session@11',
    '@fastify/cookie@11',
    'vitest@4',
    'prom-client@15',
    '@opentelemetry/api@1',
    '@nestjs/common@12',
    '@nestjs/core@12',
    '@nestjs/cache-manager@12',
    '@nestjs/throttler@6',
    'reflect-metadata@0.2',
    'rxjs@7',
  ]
  // Types only: no install scripts (better-sqlite3 would compile its addon for nothing).
  const install = run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...deps],
    dir,
  )
  if (install.code !== 0) {
    problems.push(`readme: npm install failed:\n${install.out}`)
    return
  }
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```/gm)]
  const files = blocks.map((match, i) => {
    const line = readme.slice(0, match.index).split('\n').length
    const name = `snippets/readme-${String(i + 1).padStart(2, '0')}-line-${line}.ts`
    writeFileSync(join(dir, name), `${match[1]}\nexport {}\n`)
    return { name, nest: /from '@nestjs\//.test(match[1]) }
  })
  writeFileSync(join(dir, 'context.d.ts'), readmeContext())
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023', 'DOM'],
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    skipLibCheck: true,
  }
  // Nest's snippets are checked as a Nest project compiles them: with legacy decorators (the
  // others keep the standard decorators `@cache.cached` is written for).
  const projects = [
    { config: 'tsconfig.json', options: compilerOptions, files: files.filter((f) => !f.nest) },
    {
      config: 'tsconfig.nest.json',
      options: { ...compilerOptions, experimentalDecorators: true },
      files: files.filter((f) => f.nest),
    },
  ]
  for (const project of projects) {
    if (project.files.length === 0) continue
    const names = project.files.map((f) => f.name)
    writeFileSync(
      join(dir, project.config),
      JSON.stringify({ compilerOptions: project.options, files: ['context.d.ts', ...names] }),
    )
    const tsc = run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project.config], dir)
    if (tsc.code !== 0) problems.push(`readme: ${names.length} snippets, type errors:\n${tsc.out}`)
  }
  if (problems.length === 0) {
    console.log(`check-package: ${files.length} README snippets type-check against the tarball`)
  }
}

/** What the README's snippets take as given: an app's own names, declared with their types. */
function readmeContext() {
  return `
import type { Cache } from 'cachekit'
import type { Store } from 'cachekit'
import type { Express } from 'express'
import type { RateLimiter } from 'cachekit/ratelimit'
import type { Sessions } from 'cachekit/session'
declare global {
  const cache: Cache
  const store: Store
  const url: string
  const app: Express
  const limiter: RateLimiter
  const sessions: Sessions
  const user: { readonly id: string }
  const userId: number
  const id: number
  const stats: Stats
  const username: string
  const ip: string
  const clientIp: string
  const entered: string
  interface Stats { readonly income: number; readonly expense: number }
  interface Course { readonly id: number; readonly published: boolean }
  function buildTree(userId: number): Promise<unknown>
  function loadCourse(id: number): Promise<Course>
  function loadUserStats(userId: number): Promise<Stats>
  function myStore(): Store
  const db: { course(id: number): Promise<Course> }
}
export {}
`
}

/**
 * Warnings that come from other packages and say nothing about cachekit's own metadata: npm 11's
 * notice that a dependency's optional native accelerator (msgpackr-extract, behind msgpackr) has
 * an install script, and engine notices of the framework's own dependencies (Fastify 5's cookie
 * wants Node 22). Peer conflicts (ERESOLVE), deprecations and anything naming cachekit still fail.
 */
function tolerated(line) {
  if (/cachekit|ERESOLVE|peer/i.test(line)) return false
  return /install-scripts|EBADENGINE/.test(line)
}

/** A three-request run through the door with a 2/min rule: the third request must be refused. */
function serveScript(door) {
  const limiter = `
import { memoryStore } from 'cachekit'
import { createRateLimiter } from 'cachekit/ratelimit'
const limiter = createRateLimiter({ store: memoryStore(), rules: { api: '2/min' } })
async function hit(url) {
  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await fetch(url)).status)
  console.log('statuses ' + statuses.join(','))
}`
  if (door === 'express') {
    return `${limiter}
import express from 'express'
import { rateLimit } from 'cachekit/express'
const app = express()
app.get('/', rateLimit({ limiter, scope: 'api' }), (_req, res) => res.send('ok'))
const server = app.listen(0, '127.0.0.1', async () => {
  await hit('http://127.0.0.1:' + server.address().port + '/')
  server.close()
  await limiter.close?.()
})
`
  }
  return `${limiter}
import Fastify from 'fastify'
import { rateLimit } from 'cachekit/fastify'
const app = Fastify()
await app.register(rateLimit({ limiter, scope: 'api' }))
app.get('/', async () => 'ok')
const address = await app.listen({ port: 0, host: '127.0.0.1' })
await hit(address + '/')
await app.close()
await limiter.close?.()
`
}
