// Checks package.json `exports` against the build, both ways: every entry points at built files
// that load, and every public door under src/ (a folder's index.ts) has an entry.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
const problems = []
const exported = new Set()

for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') {
    if (!existsSync(join(root, target))) problems.push(`${subpath}: ${target} does not exist`)
    continue
  }
  for (const field of ['types', 'import']) {
    const file = target[field]
    if (!file) problems.push(`${subpath}: no "${field}" condition`)
    else if (!existsSync(join(root, file))) problems.push(`${subpath}: ${field} ${file} is not in the build`)
    else exported.add(file.replace(/^\.\//, ''))
  }
  if (target.import && existsSync(join(root, target.import))) {
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`
    try {
      const mod = await import(specifier)
      if (Object.keys(mod).length === 0) problems.push(`${specifier} exports nothing`)
    } catch (error) {
      problems.push(`${specifier} does not load: ${error.message}`)
    }
  }
}

// Doors: every folder under src/ has an index.ts (scripts/check-layout.mjs sees to that). One that
// starts with `// Internal door:` serves cachekit's own folders and must stay out of "exports";
// any other index.ts is public and needs an entry (the memory and dummy stores are exported from
// the root door).
const INTERNAL = '// Internal door:'
const doors = []
const walk = (dir) => {
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name)
    if (statSync(join(root, path)).isDirectory()) walk(path)
    else if (name === 'index.ts') doors.push(path)
  }
}
walk('src')
const exportedFromRoot = ['dist/stores/memory/index.js', 'dist/stores/dummy/index.js']
for (const door of doors) {
  const built = door.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')
  const internal = (await readFile(join(root, door), 'utf8')).startsWith(INTERNAL)
  if (internal && exported.has(built)) problems.push(`${door} is marked internal but has an "exports" entry`)
  if (!internal && !exported.has(built) && !exportedFromRoot.includes(built)) {
    problems.push(`${door} is a public door with no "exports" entry (or start it with "${INTERNAL}")`)
  }
}

// Every `bin` is in the build and starts with a node shebang (tsc keeps it from the source).
for (const [name, target] of Object.entries(pkg.bin ?? {})) {
  const file = join(root, target)
  if (!existsSync(file)) problems.push(`bin ${name}: ${target} is not in the build`)
  else if (!(await readFile(file, 'utf8')).startsWith('#!/usr/bin/env node\n')) {
    problems.push(`bin ${name}: ${target} does not start with #!/usr/bin/env node`)
  }
}

if (problems.length > 0) {
  console.error(`package exports do not match the build:\n- ${problems.join('\n- ')}`)
  process.exit(1)
}
console.log(`package exports OK: ${Object.keys(pkg.exports).length} entries, ${doors.length} doors`)
