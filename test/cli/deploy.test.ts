/**
 * deploy/ on real servers: redis.conf (with its ACL users), the Sentinel files and the Cluster node
 * file, each started with the real redis-server (ports and paths swapped into temp copies). On
 * each, `cachekit check` passes with every finding ok (latency aside: the machine may be busy), and the `cachekit` ACL user runs
 * the cache, rate-limit, guard, one-time-code, lock, pub/sub and session workload; the commands it
 * must not run are refused.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DEPLOY_PASSWORDS, DeployDir, ROOT, runCli } from '../support/cli.js'
import { cachekitWorkload } from '../support/cli-workload.js'
import { freePort, waitFor } from '../support/processes.js'
import { redisAvailable } from '../support/redis.js'

const USER = `cachekit:${DEPLOY_PASSWORDS.cachekit}`

interface CheckReport {
  ok: boolean
  errors: number
  warnings: number
  findings: { name: string; status: string; detail: string }[]
}

async function checkPasses(url: string): Promise<CheckReport> {
  const result = await runCli(['check', '--json', '--url', url], { timeoutMs: 90_000 })
  const report = result.json<CheckReport>()
  // Every finding is ok; latency alone may warn, on a machine busy with other tests.
  expect(report.findings.filter((f) => f.status !== 'ok' && f.name !== 'latency')).toEqual([])
  expect(result.code).toBe(0)
  expect(report.ok).toBe(true)
  expect(result.stdout + result.stderr).not.toContain(DEPLOY_PASSWORDS.cachekit)
  return report
}

describe.skipIf(!redisAvailable())('deploy/ configurations', () => {
  let deploy: DeployDir | undefined
  afterEach(async () => {
    await deploy?.stop()
    deploy = undefined
  })

  it('compose.yaml mounts only files that exist', () => {
    const compose = readFileSync(join(ROOT, 'deploy/compose.yaml'), 'utf8')
    const mounts = [...compose.matchAll(/- \.\/([\w./-]+):/g)].map((m) => m[1] as string)
    expect(mounts.length).toBeGreaterThan(3)
    for (const file of mounts) expect(existsSync(join(ROOT, 'deploy', file)), file).toBe(true)
    for (const profile of ['standalone', 'sentinel', 'cluster'])
      expect(compose).toContain(`profiles: [${profile}]`)
  })

  it('redis.conf: check passes and the ACL user runs every cachekit workload, nothing more', async () => {
    deploy = new DeployDir()
    const conf = deploy.base()
    const port = await freePort()
    await deploy.start(conf, port, ['--port', String(port)])
    const url = `redis://${USER}@127.0.0.1:${port}`
    const report = await checkPasses(url)
    const byName = Object.fromEntries(report.findings.map((f) => [f.name, f.detail]))
    expect(byName['eviction']).toContain('allkeys-lru')
    expect(byName['auth']).toContain('ACL user cachekit')
    expect(byName['maxmemory']).toContain('256')
    await cachekitWorkload(url)
    const asApp = ['--user', 'cachekit', '--pass', DEPLOY_PASSWORDS.cachekit]
    for (const command of [
      ['FLUSHALL'],
      ['KEYS', '*'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['SCRIPT', 'FLUSH'],
    ]) {
      expect(deploy.cli(port, asApp, command)).toMatch(/NOPERM/)
    }
    // Without credentials nothing works: the default user is off.
    expect(deploy.cli(port, [], ['GET', 'x'])).toMatch(/NOAUTH|NOPERM/)
  }, 120_000)

  it('sentinel/: a primary, a replica and three sentinels; check passes, the workload runs', async () => {
    deploy = new DeployDir()
    const base = deploy.base()
    const node = deploy.copy('sentinel/node.conf', 'node.conf', [[/^include .*$/m, `include ${base}`]])
    const primary = await freePort()
    const replica = await freePort()
    await deploy.start(node, primary, ['--port', String(primary)])
    await deploy.start(node, replica, [
      '--port',
      String(replica),
      '--replicaof',
      '127.0.0.1',
      String(primary),
    ])
    const sentinels: number[] = []
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      const conf = deploy.copy('sentinel/sentinel.conf', `sentinel-${i}.conf`, [
        [/^port 26379$/m, `port ${port}`],
        [/^dir \/data$/m, `dir ${deploy.dir}`],
        [/^sentinel monitor cache redis-primary 6379 2$/m, `sentinel monitor cache 127.0.0.1 ${primary} 2`],
      ])
      await deploy.start(conf, port, [], true)
      sentinels.push(port)
    }
    const d = deploy
    await waitFor(
      () => {
        const sentinelsOk = sentinels.every((p) =>
          d.cli(p, [], ['SENTINEL', 'CKQUORUM', 'cache']).startsWith('OK 3'),
        )
        return sentinelsOk && d.opsCli(replica, 'INFO', 'replication').includes('master_link_status:up')
      },
      60_000,
      200,
    )
    const url = `redis+sentinel://${USER}@${sentinels.map((p) => `127.0.0.1:${p}`).join(',')}/cache`
    const report = await checkPasses(url)
    expect(report.findings.find((f) => f.name === 'sentinel')?.detail).toContain('3/3 sentinels')
    await cachekitWorkload(url)
  }, 150_000)

  it('cluster/: six nodes, three primaries with a replica each; check passes, the workload runs', async () => {
    deploy = new DeployDir()
    const base = deploy.base()
    const ports: number[] = []
    for (let i = 0; i < 6; i++) {
      const port = await freePort({ bus: true })
      const conf = deploy.copy('cluster/node.conf', `node-${i}.conf`, [
        [/^include .*$/m, `include ${base}`],
        [/^cluster-config-file .*$/m, `cluster-config-file ${join(deploy.dir, `nodes-${i}.conf`)}`],
      ])
      await deploy.start(conf, port, ['--port', String(port)])
      ports.push(port)
    }
    deploy.cli(
      ports[0] as number,
      ['--user', 'ops', '--pass', DEPLOY_PASSWORDS.ops],
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
    )
    const d = deploy
    await waitFor(
      () =>
        ports.every((p) => d.opsCli(p, 'CLUSTER', 'INFO').includes('cluster_state:ok')) &&
        ports
          .map((p) => d.opsCli(p, 'INFO', 'replication'))
          .filter((info) => info.includes('role:slave'))
          .every((info) => info.includes('master_link_status:up')),
      60_000,
      200,
    )
    const url = `redis+cluster://${USER}@${ports
      .slice(0, 3)
      .map((p) => `127.0.0.1:${p}`)
      .join(',')}`
    const report = await checkPasses(url)
    expect(report.findings.find((f) => f.name === 'cluster')?.detail).toContain('16384/16384')
    await cachekitWorkload(url)
  }, 180_000)
})
