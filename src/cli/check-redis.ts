import { parseRedisUrl } from '../stores/redis/index.js'
import { parseInfo } from '../stores/redis/internal.js'
import type { Connection } from './connect.js'
import { type Finding, grade, probe, writeProbe } from './findings.js'
import { formatMs } from './output.js'
import { roundTrip } from './ping.js'
import { sendOnce } from './resp.js'

const GOOD_POLICIES = new Set(['allkeys-lru', 'allkeys-lfu'])
const LOOPBACK = /^(127\.|localhost$|::1$|\[::1\]$)/

/**
 * `check` for Redis/Valkey: latency, version, `maxmemory` and eviction policy, persistence, TLS,
 * credentials, a write/read/delete, and the health of Cluster or Sentinel.
 */
export async function checkRedis(connection: Connection, url: string): Promise<Finding[]> {
  const redis = connection.redis
  if (!redis) return []
  const parsed = parseRedisUrl(url)
  const findings: Finding[] = []
  const scrub = connection.scrub

  await probe(findings, 'latency', scrub, async () => {
    const samples: number[] = []
    for (let i = 0; i < 5; i++) samples.push(await roundTrip(connection))
    const median = [...samples].sort((a, b) => a - b)[2] ?? 0
    return {
      name: 'latency',
      status: median > 50 ? 'warn' : 'ok',
      detail: `round trip median ${formatMs(median)} over 5 PINGs`,
      fix: 'Run the cache near the app: a cache slower than 50 ms per call saves little',
    }
  })

  const infos = (await redis.sendToMasters(['INFO']).catch(() => [])).map((reply) => parseInfo(String(reply)))
  const first = infos[0]
  if (!first) {
    findings.push({
      name: 'info',
      status: 'error',
      detail: 'INFO was refused or failed',
      fix: 'Allow +info for the ACL user',
    })
  } else {
    const version = first.get('valkey_version') ?? first.get('redis_version') ?? '?'
    const [major = 0, minor = 0] = (first.get('redis_version') ?? '0.0').split('.').map(Number)
    findings.push({
      name: 'version',
      status: major > 6 || (major === 6 && minor >= 2) ? 'ok' : 'warn',
      detail: `${first.has('valkey_version') ? 'Valkey' : 'Redis'} ${version}`,
      fix: 'cachekit is tested on Redis 6.2 and later (and Valkey 7.2+); upgrade',
    })
    const unlimited = infos.filter((info) => Number(info.get('maxmemory') ?? 0) === 0).length
    findings.push(
      unlimited === 0
        ? {
            name: 'maxmemory',
            status: 'ok',
            detail: `set (${first.get('maxmemory_human') ?? first.get('maxmemory')} per master)`,
          }
        : {
            name: 'maxmemory',
            status: 'warn',
            detail: `no limit on ${unlimited} of ${infos.length} master(s): Redis grows until the machine runs out of memory`,
            fix: 'Set maxmemory (e.g. 75% of the memory given to Redis) in redis.conf',
          },
    )
    const policy = first.get('maxmemory_policy') ?? '?'
    findings.push(
      GOOD_POLICIES.has(policy)
        ? { name: 'eviction', status: 'ok', detail: `${policy}: the least useful keys go first when full` }
        : {
            name: 'eviction',
            status: 'warn',
            detail:
              policy === 'noeviction'
                ? 'noeviction: when memory is full every write fails (OOM) instead of evicting old entries'
                : `${policy}: ${policy.startsWith('volatile') ? 'keys without a TTL are never evicted' : 'not a cache policy'}`,
            fix: 'Set maxmemory-policy allkeys-lru (or allkeys-lfu) for a cache',
          },
    )
    findings.push(persistence(first, await configSave(connection)))
  }

  findings.push(
    parsed.tls
      ? { name: 'tls', status: 'ok', detail: 'TLS in use (rediss://)' }
      : hostsOf(parsed).every((host) => LOOPBACK.test(host))
        ? { name: 'tls', status: 'ok', detail: 'no TLS, on loopback only' }
        : {
            name: 'tls',
            status: 'warn',
            detail: 'no TLS: cache contents and the password cross the network in clear',
            fix: 'Use rediss:// with a server configured with tls-port (see deploy/redis.conf)',
          },
  )

  await probe(findings, 'auth', scrub, async () => {
    const whoami = await redis
      .sendToMasters(['ACL', 'WHOAMI'])
      .then((replies) => String(replies[0]))
      .catch(() => undefined)
    const user = whoami ?? parsed.username ?? 'default'
    if (parsed.password === undefined) {
      return {
        name: 'auth',
        status: 'warn',
        detail: `no password: anyone who reaches the port can read and change the cache (user ${user})`,
        fix: 'Give the cache an ACL user with a password (see deploy/redis.conf) and put it in the URL',
      }
    }
    return {
      name: 'auth',
      status: 'ok',
      detail: user === 'default' ? 'password (default user)' : `ACL user ${user}`,
    }
  })

  await probe(findings, 'read/write', scrub, () => writeProbe(connection))
  if (parsed.topology === 'cluster')
    await probe(findings, 'cluster', scrub, () => clusterHealth(connection, infos))
  if (parsed.topology === 'sentinel') {
    await probe(findings, 'sentinel', scrub, () => sentinelHealth(parsed, connection.timeoutMs, infos))
  }
  return findings
}

function hostsOf(parsed: ReturnType<typeof parseRedisUrl>): string[] {
  if (parsed.topology === 'standalone') return [parsed.host]
  return (parsed.topology === 'sentinel' ? parsed.sentinels : parsed.nodes).map((n) => n.host)
}

async function configSave(connection: Connection): Promise<string | undefined> {
  try {
    const [reply] = await (connection.redis?.sendToMasters(['CONFIG', 'GET', 'save']) ?? Promise.resolve([]))
    // RESP2 gives ['save', value]; RESP3 a map (a Map or an object, by client library).
    if (Array.isArray(reply)) return String(reply[1] ?? '')
    if (reply instanceof Map) return String([...reply.values()][0] ?? '')
    if (reply !== null && typeof reply === 'object') return String(Object.values(reply)[0] ?? '')
    return undefined
  } catch {
    return undefined // CONFIG is usually not granted to the cache's ACL user, rightly
  }
}

function persistence(info: Map<string, string>, save: string | undefined): Finding {
  const aof = info.get('aof_enabled') === '1'
  if (info.get('rdb_last_bgsave_status') === 'err' || info.get('aof_last_write_status') === 'err') {
    return {
      name: 'persistence',
      status: 'error',
      detail: 'the last snapshot or AOF write failed: with stop-writes-on-bgsave-error Redis refuses writes',
      fix: 'Fix the disk (space, permissions) or turn persistence off for a pure cache: save "" and appendonly no',
    }
  }
  const rdb =
    save === undefined
      ? 'RDB snapshots unknown (no CONFIG permission)'
      : save === ''
        ? 'no RDB snapshots'
        : `RDB snapshots "${save}"`
  return {
    name: 'persistence',
    status: 'ok',
    detail: `${rdb}, AOF ${aof ? 'on' : 'off'}${aof || (save !== undefined && save !== '') ? ' (a cache can run without persistence: fewer forks and disk writes)' : ''}`,
  }
}

async function clusterHealth(
  connection: Connection,
  infos: readonly Map<string, string>[],
): Promise<Finding> {
  const replies = await (connection.redis?.sendToMasters(['CLUSTER', 'INFO']) ?? Promise.resolve([]))
  const states = replies.map((reply) => parseInfo(String(reply)))
  const bad = states.filter((s) => s.get('cluster_state') !== 'ok').length
  const first = states[0] ?? new Map<string, string>()
  const assigned = Number(first.get('cluster_slots_assigned') ?? 0)
  const failing = Number(first.get('cluster_slots_fail') ?? 0) + Number(first.get('cluster_slots_pfail') ?? 0)
  const withoutReplica = infos.filter((info) => Number(info.get('connected_slaves') ?? 0) === 0).length
  const detail = `${states.length} masters, state ${bad === 0 ? 'ok' : `not ok on ${bad}`}, ${assigned}/16384 slots assigned, ${failing} failing, ${withoutReplica} master(s) without a replica`
  return grade('cluster', detail, [
    [
      bad > 0 || assigned < 16384 || failing > 0,
      'error',
      'Run redis-cli --cluster check <node> and fix the slots',
    ],
    [withoutReplica > 0, 'warn', 'Give every master a replica so a node failure loses no slots'],
  ])
}

async function sentinelHealth(
  parsed: Extract<ReturnType<typeof parseRedisUrl>, { topology: 'sentinel' }>,
  timeoutMs: number,
  infos: readonly Map<string, string>[],
): Promise<Finding> {
  const results = await Promise.all(
    parsed.sentinels.map((node) =>
      sendOnce(node, ['SENTINEL', 'CKQUORUM', parsed.masterName], { timeoutMs, tls: parsed.tls }).then(
        (reply) => (reply instanceof Error ? `refused: ${reply.message}` : String(reply)),
        (error: unknown) => `unreachable: ${error instanceof Error ? error.message : String(error)}`,
      ),
    ),
  )
  const ok = results.filter((r) => r.startsWith('OK')).length
  const replicas = Number(infos[0]?.get('connected_slaves') ?? 0)
  const detail = `${ok}/${results.length} sentinels see quorum for ${parsed.masterName}; master has ${replicas} replica(s)${ok === results.length ? '' : `: ${results.find((r) => !r.startsWith('OK'))}`}`
  return grade('sentinel', detail, [
    [ok === 0, 'error', 'Start the sentinels and check `sentinel monitor` names the master'],
    [
      ok < results.length || replicas === 0,
      'warn',
      'Every sentinel should see quorum, and the master needs a replica to fail over to',
    ],
  ])
}
