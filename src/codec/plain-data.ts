/**
 * A quick yes for the values most writes carry: primitives, plain objects, arrays and Dates, a few
 * levels deep and a few thousand parts at most. `true` means the full check (`snapshot(value,
 * 'check')`, which walks with a path, a cycle list and the node budget) would pass; `false` means
 * only that this quick look cannot tell, and the full check decides (and names the path in its
 * error). A cycle or a part shared across many parents shows up as depth or parts past the bounds.
 */
export function isPlainData(value: unknown): boolean {
  parts = 0
  return plain(value, 0)
}

/** Deeper or bigger values are left to the full check. */
const MAX_DEPTH = 32
const MAX_PARTS = 10_000

let parts = 0

function plain(value: unknown, depth: number): boolean {
  if (++parts > MAX_PARTS) return false
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return true
    case 'object':
      break
    default:
      return false
  }
  if (value === null) return true
  if (depth >= MAX_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!plain(value[i], depth + 1)) return false
    return true
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    const record = value as Record<string, unknown>
    for (const name of Object.keys(record)) if (!plain(record[name], depth + 1)) return false
    return true
  }
  return proto === Date.prototype
}
