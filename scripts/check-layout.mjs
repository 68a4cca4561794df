// Every folder under src/ is a door: it has an index.ts (or, beside a public index.ts, an
// internal.ts for what cachekit's own folders need beyond the public API), and code outside a
// folder imports it only through that door. Files may import their own folder and any folder
// that encloses theirs. Run by `npm test`; prints each import that crosses a folder's wall.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = join(root, 'src')
const DOORS = new Set(['index.ts', 'internal.ts'])
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g

const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return walk(path)
    return path.endsWith('.ts') ? [path] : []
  })
const files = walk(src)
const problems = []

for (const dir of new Set(files.map(dirname))) {
  if (dir !== src && ![...DOORS].some((door) => existsSync(join(dir, door)))) {
    problems.push(`${relative(root, dir)}/ has no index.ts door`)
  }
}
for (const file of files) {
  for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const target = resolve(dirname(file), (match[1] ?? match[2] ?? '').replace(/\.js$/, '.ts'))
    const from = dirname(file)
    const to = dirname(target)
    if (from === to || from.startsWith(to + sep) || DOORS.has(basename(target))) continue
    problems.push(
      `${relative(root, file)} imports ${relative(root, target)}: import ${relative(root, to)}/index.ts (or internal.ts)`,
    )
  }
}

if (problems.length > 0) {
  console.error(`imports that cross a folder's door:\n- ${problems.join('\n- ')}`)
  process.exit(1)
}
console.log(`layout OK: ${files.length} files, every cross-folder import goes through a door`)
