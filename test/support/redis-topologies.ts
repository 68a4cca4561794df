/**
 * Redis topologies for tests: Sentinel (a master, a replica, three sentinels) and Cluster (three
 * masters, one replica each), built from the standalone servers of ./redis.ts.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, HOST, tempDir, waitFor } from './processes.js'
import { cliArgs, Process, type RedisServer, runCli, startRedis, waitReady } from './redis.js'

export interface SentinelSetup {
  readonly masterName: string
  readonly master: RedisServer
  readonly replica: RedisServer
  /** Sentinel ports. */
  readonly sentinels: readonly number[]
  /** `redis+sentinel://h:p,h:p,h:p/<masterName>` */
  readonly url: string
  /** Kills the master and waits until the sentinels promote the replica. */
  failover(): Promise<void>
  stop(): Promise<void>
}

/** A master, one replica and three sentinels (quorum 2, down after 1 s). */
export async function startSentinel(masterName = 'mymaster'): Promise<SentinelSetup> {
  const master = await startRedis()
  const replica = await startRedis({ args: ['--replicaof', HOST, String(master.port)] })
  const sentinels: Process[] = []
  const ports: number[] = []
  try {
    for (let i = 0; i < 3; i++) {
      const dir = tempDir('sentinel')
      const port = await freePort()
      const conf = join(dir, 'sentinel.conf')
      writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${masterName} ${HOST} ${master.port} 2`,
          `sentinel down-after-milliseconds ${masterName} 1000`,
          `sentinel failover-timeout ${masterName} 5000`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'),
      )
      const proc = new Process(dir, [conf, '--sentinel'])
      proc.start()
      sentinels.push(proc)
      ports.push(port)
      await waitReady(port, proc, false)
    }
    await waitFor(() => {
      const out = runCli(cliArgs(ports[0] as number, undefined, undefined), [
        'SENTINEL',
        'REPLICAS',
        masterName,
      ])
      return out.includes(String(replica.port)) && !out.includes('s_down')
    }, 15_000)
  } catch (error) {
    for (const proc of sentinels) await proc.kill()
    await master.stop()
    await replica.stop()
    throw error
  }
  return {
    masterName,
    master,
    replica,
    sentinels: ports,
    url: `redis+sentinel://${ports.map((p) => `${HOST}:${p}`).join(',')}/${masterName}`,
    async failover() {
      await master.kill()
      await waitFor(() => {
        const out = runCli(cliArgs(ports[0] as number, undefined, undefined), [
          'SENTINEL',
          'GET-MASTER-ADDR-BY-NAME',
          masterName,
        ])
        return out.includes(String(replica.port))
      }, 20_000)
    },
    async stop() {
      for (const proc of sentinels) await proc.kill()
      await master.stop()
      await replica.stop()
    },
  }
}

export interface ClusterSetup {
  readonly nodes: readonly RedisServer[]
  /** `redis+cluster://h:p,h:p,h:p` (the masters as created). */
  readonly url: string
  readonly rootNodes: readonly { readonly host: string; readonly port: number }[]
  stop(): Promise<void>
}

/** Three masters with one replica each, created by `redis-cli --cluster create`. */
export async function startCluster(): Promise<ClusterSetup> {
  const nodes: RedisServer[] = []
  try {
    for (let i = 0; i < 6; i++) {
      nodes.push(
        await startRedis({
          args: [
            ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
            ...['--cluster-node-timeout', '1000', '--cluster-require-full-coverage', 'no'],
            // Replicas sync at once (the default waits 5 s), so a failover test has a replica
            // with data: one that never synced refuses to take over.
            ...['--repl-diskless-sync-delay', '0'],
          ],
        }),
      )
    }
    const addresses = nodes.map((n) => `${HOST}:${n.port}`)
    runCli([], ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'])
    await waitFor(() => nodes.every((n) => n.cli('CLUSTER', 'INFO').includes('cluster_state:ok')), 20_000)
    await waitFor(
      () =>
        nodes
          .map((n) => n.cli('INFO', 'replication'))
          .filter((info) => info.includes('role:slave'))
          .every((info) => info.includes('master_link_status:up')),
      20_000,
    )
  } catch (error) {
    for (const node of nodes) await node.stop()
    throw error
  }
  const masters = nodes.slice(0, 3)
  return {
    nodes,
    url: `redis+cluster://${masters.map((n) => `${HOST}:${n.port}`).join(',')}`,
    rootNodes: masters.map((n) => ({ host: HOST, port: n.port })),
    async stop() {
      for (const node of nodes) await node.stop()
    },
  }
}
