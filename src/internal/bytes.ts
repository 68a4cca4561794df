/**
 * A byte count in the largest 1024-based unit that keeps it at 1 or more (up to tebibytes): the
 * value in that unit and the unit's power of 1024 (0 bytes, 1 kibi... 4 tebi). The admin page and
 * the Redis inspection spell the units their own way.
 */
export function scaleBytes(n: number): readonly [value: number, power: number] {
  let value = n
  let power = 0
  while (value >= 1024 && power < 4) {
    value /= 1024
    power++
  }
  return [value, power]
}
