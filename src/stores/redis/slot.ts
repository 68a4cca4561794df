import calculateSlot from 'cluster-key-slot'

/**
 * The Redis Cluster hash slot of a key (CRC16 of the key or its `{hash tag}`, modulo 16384), as
 * both Redis clients compute it: with their own `cluster-key-slot`.
 */
export function keySlot(key: string): number {
  return calculateSlot(key)
}

/** Groups the indexes of `keys` by hash slot, keeping their order inside each group. */
export function groupBySlot(keys: readonly string[]): Map<number, number[]> {
  const groups = new Map<number, number[]>()
  keys.forEach((key, i) => {
    const slot = keySlot(key)
    const group = groups.get(slot)
    if (group) group.push(i)
    else groups.set(slot, [i])
  })
  return groups
}

/**
 * Splits keys into batches a multi-key command can take: by hash slot in Cluster, by `size`
 * elsewhere. Each batch lists indexes into `keys`.
 */
export function batchesOf(keys: readonly string[], cluster: boolean, size: number): number[][] {
  if (cluster) return [...groupBySlot(keys).values()]
  const batches: number[][] = []
  for (let i = 0; i < keys.length; i += size) {
    batches.push(Array.from({ length: Math.min(size, keys.length - i) }, (_, j) => i + j))
  }
  return batches
}
