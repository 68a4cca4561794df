/** Redis Cluster hash slots: CRC16 (XMODEM) of the key, or of its `{hash tag}`, modulo 16384. */
const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1
  TABLE[i] = crc & 0xffff
}

export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8')
  let start = 0
  let end = bytes.length
  const open = bytes.indexOf(0x7b) // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1) // }
    if (close > open + 1) {
      start = open + 1
      end = close
    }
  }
  let crc = 0
  for (let i = start; i < end; i++)
    crc = ((crc << 8) ^ (TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number)) & 0xffff
  return crc % 16384
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
