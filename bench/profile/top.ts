/** Prints the functions with the most self time in a `.cpuprofile` (from `node --cpu-prof`). */
import { readFileSync } from 'node:fs'
import path from 'node:path'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
const [file, limit = '30'] = process.argv.slice(2)
if (!file) throw new Error('usage: top.ts <file.cpuprofile> [rows]')
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
}
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<string, number>()
let total = 0
for (const [i, id] of profile.samples.entries()) {
  const dt = profile.timeDeltas[i] ?? 0
  total += dt
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame
  const where = url ? `${path.relative(process.cwd(), url.replace('file://', ''))}:${lineNumber + 1}` : ''
  const name = `${functionName || '(anonymous)'} ${where}`
  self.set(name, (self.get(name) ?? 0) + dt)
}
// Self time by where the code lives: cachekit (dist/ or src/), each package, Node, GC, idle.
const groups = new Map<string, number>()
for (const [name, us] of self) {
  const where = name.slice(name.indexOf(' ') + 1)
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(where)?.[1]
  const group = pkg
    ? pkg
    : /(^|\/)(dist|src)\//.test(where)
      ? 'cachekit'
      : where.startsWith('bench/')
        ? 'bench harness'
        : name.startsWith('(')
          ? name.trim()
          : 'node'
  groups.set(group, (groups.get(group) ?? 0) + us)
}
for (const [group, us] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
  console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${group}`)
}
console.log('')
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(limit))
for (const [name, us] of rows)
  console.log(
    `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`,
  )
