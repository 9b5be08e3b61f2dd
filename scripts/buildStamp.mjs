/**
 * @file Keeps `npm start` from building twice (`npm ci` already built, through `prepare`).
 * `node scripts/buildStamp.mjs --write` (run after every build, by `postbuild`) records a hash of
 * each file the build reads in dist/.build-hash; `--check` exits 0 when dist/ was built from the
 * files as they are now and 1 otherwise, saying which file changed, so that `npm start` builds only
 * when dist/ is missing or stale. Hashes, not times: a checkout or a copy that touches every file
 * without changing it does not force a build, and an edit within the same second does. The stamp
 * is taken when the build ends, so a file edited while a build runs counts as built: build again.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const stamp = join(root, 'dist', '.build-hash')
/** What `npm run build` reads: the sources, the WebAssembly generator and the build's configs. */
const inputs = ['src', 'scripts/buildWasm.ts', 'scripts/wasm', 'tsconfig.json', 'tsconfig.build.json', 'package.json']

/** The files at `path`: itself, or every file below it that the compiler reads (not the READMEs). */
const filesAt = (path) =>
  statSync(path).isDirectory()
    ? readdirSync(path, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && /\.(ts|mts|cts|js|mjs|json)$/.test(e.name))
      .map((e) => join(e.parentPath ?? e.path, e.name))
    : [path]

/** Every input file (relative path) with the SHA-1 of its contents, in a fixed order. */
const hashes = () => {
  const files = inputs.map((input) => join(root, input)).filter(existsSync).flatMap(filesAt)
  return Object.fromEntries(files.map((f) => [relative(root, f), createHash('sha1').update(readFileSync(f)).digest('hex')]).sort(([a], [b]) => a.localeCompare(b)))
}

if (process.argv.includes('--write')) {
  writeFileSync(stamp, JSON.stringify(hashes()))
} else if (process.argv.includes('--check')) {
  const built = existsSync(stamp) && existsSync(join(root, 'dist', 'cli', 'main.js')) ? JSON.parse(readFileSync(stamp, 'utf8')) : null
  const now = hashes()
  const changed = built === null ? 'dist/ has no build' : [...new Set([...Object.keys(now), ...Object.keys(built)])].find((f) => now[f] !== built[f])
  if (changed !== undefined) {
    process.stderr.write(`${built === null ? changed : `${changed} changed since the last build`}: building.\n`)
    process.exitCode = 1
  }
} else {
  process.stderr.write('usage: node scripts/buildStamp.mjs --write | --check\n')
  process.exitCode = 2
}
