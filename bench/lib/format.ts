/** Markdown and number formatting for RESULTS.md. */

export type Cell = string | number

/** A GitHub-flavoured Markdown table; the first column is left-aligned, the others right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const align = headers.map((_, i) => (i === 0 ? ':--' : '--:'))
  const line = (cells: readonly Cell[]) => `| ${cells.map(String).join(' | ')} |`
  return [line(headers), line(align), ...rows.map(line)].join('\n')
}

/** Operations per second with thousands separators and no false precision. */
export function ops(n: number): string {
  if (!Number.isFinite(n)) return 'n/a'
  const digits = n >= 100 ? 0 : n >= 10 ? 1 : 2
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

export function ratio(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(2)}x` : 'n/a'
}

export function percent(n: number): string {
  return `±${(n * 100).toFixed(0)}%`
}

export function bytes(n: number): string {
  if (Math.abs(n) >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`
  if (Math.abs(n) >= 10 * 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`
  return `${Math.round(n)} B`
}

export function met(ok: boolean): string {
  return ok ? '✅ met' : '❌ not met'
}
