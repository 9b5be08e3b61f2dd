/**
 * @file `npm run playground`: builds the static playground page into playground/dist/ with
 * esbuild: the page script and the training worker as ES modules for the browser, the first names
 * (read with the library's Node loader, at build time) inside the worker's bundle, and the HTML and
 * CSS copied beside them. Serve the folder with any static file server; with the headers
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` the
 * page trains on several threads.
 */
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Plugin, build } from 'esbuild'
import { loadNames } from '../src/data/node/names.js'

const here = fileURLToPath(new URL('.', import.meta.url))

/** Where `npm run playground` writes the page. */
export const defaultOutput = join(here, 'dist')

/** `import names from 'playground:names'`: the names, as a JSON module. */
const namesModule = (names: readonly string[]): Plugin => ({
  name: 'playground-names',
  setup(b) {
    b.onResolve({ filter: /^playground:names$/ }, (args) => ({ path: args.path, namespace: 'playground-names' }))
    b.onLoad({ filter: /.*/, namespace: 'playground-names' }, () => ({ contents: JSON.stringify(names), loader: 'json' }))
  },
})

/**
 * Builds the page into `output` (emptied first). The bundles target the browser: a Node module
 * anywhere in their imports fails the build.
 * @returns the files written, with their sizes in bytes.
 */
export const buildPlayground = async (output = defaultOutput): Promise<{ file: string; bytes: number }[]> => {
  rmSync(output, { recursive: true, force: true })
  mkdirSync(output, { recursive: true })
  await build({
    entryPoints: { main: join(here, 'main.ts'), worker: join(here, 'worker.ts') },
    outdir: output,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    plugins: [namesModule(loadNames())],
    logLevel: 'warning',
  })
  for (const file of ['index.html', 'style.css']) copyFileSync(join(here, file), join(output, file))
  return ['index.html', 'style.css', 'main.js', 'worker.js'].map((file) => ({ file: join(output, file), bytes: statSync(join(output, file)).size }))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await buildPlayground()
  for (const { file, bytes } of files) console.log(`${file}  ${(bytes / 1024).toFixed(0)} kB`)
  console.log(`Serve ${defaultOutput} with a static file server and open index.html.`)
}
