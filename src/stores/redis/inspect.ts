import { scaleBytes } from '../../internal/index.js'
import type { NodeSender } from './driver.js'

/** What Redis says about itself, as admin pages show it. Cluster figures are summed over masters. */
export interface RedisInspection {
  readonly topology: 'standalone' | 'sentinel' | 'cluster'
  /** Masters asked (1 outside Cluster). */
  readonly nodes: number
  readonly redisVersion: string
  readonly uptimeSeconds: number
  readonly connectedClients: number
  readonly usedMemory: number
  readonly usedMemoryHuman: string
  /** 0 = no limit. */
  readonly maxmemory: number
  readonly maxmemoryHuman: string
  readonly maxmemoryPolicy: string
  readonly totalCommandsProcessed: number
  readonly keyspaceHits: number
  readonly keyspaceMisses: number
  /** hits / (hits + misses), 0 to 1; 0 before any lookup. */
  readonly hitRate: number
  readonly evictedKeys: number
  readonly expiredKeys: number
  /** Keys in the selected database (all masters in Cluster). */
  readonly dbSize: number
}

/** Parses INFO text into `field -> value`. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue
    const colon = line.indexOf(':')
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return fields
}

function num(fields: Map<string, string>, name: string): number {
  const n = Number(fields.get(name))
  return Number.isFinite(n) ? n : 0
}

export function formatBytes(bytes: number): string {
  const [value, power] = scaleBytes(bytes)
  return power === 0 ? `${value}B` : `${value.toFixed(2)}${['B', 'K', 'M', 'G', 'T'][power]}`
}

export async function inspectNodes(
  topology: RedisInspection['topology'],
  nodes: readonly NodeSender[],
): Promise<RedisInspection> {
  const replies = await Promise.all(
    nodes.map(async (send) => {
      const [info, size] = await Promise.all([send(['INFO']), send(['DBSIZE'])])
      return { fields: parseInfo(String(info)), dbSize: Number(size) }
    }),
  )
  const sum = (name: string) => replies.reduce((total, r) => total + num(r.fields, name), 0)
  const first = replies[0]?.fields ?? new Map<string, string>()
  const hits = sum('keyspace_hits')
  const misses = sum('keyspace_misses')
  const usedMemory = sum('used_memory')
  const maxmemory = sum('maxmemory')
  const single = replies.length === 1
  return {
    topology,
    nodes: replies.length,
    redisVersion: first.get('redis_version') ?? first.get('valkey_version') ?? '',
    uptimeSeconds: num(first, 'uptime_in_seconds'),
    connectedClients: sum('connected_clients'),
    usedMemory,
    usedMemoryHuman: (single && first.get('used_memory_human')) || formatBytes(usedMemory),
    maxmemory,
    maxmemoryHuman: (single && first.get('maxmemory_human')) || formatBytes(maxmemory),
    maxmemoryPolicy: first.get('maxmemory_policy') ?? '',
    totalCommandsProcessed: sum('total_commands_processed'),
    keyspaceHits: hits,
    keyspaceMisses: misses,
    hitRate: hits + misses === 0 ? 0 : hits / (hits + misses),
    evictedKeys: sum('evicted_keys'),
    expiredKeys: sum('expired_keys'),
    dbSize: replies.reduce((total, r) => total + (Number.isFinite(r.dbSize) ? r.dbSize : 0), 0),
  }
}
