/**
 * @file Build step: writes src/tensor/wasm/kernelsBinary.generated.ts, the WebAssembly SIMD
 * kernels embedded as base64 (so they load in Node and in browsers without `fs` or a bundler
 * plugin). Run by `npm run build`, `npm test` (pretest) and `npm run build:wasm`.
 *
 *   tsx scripts/buildWasm.ts          write the module if it changed
 *   tsx scripts/buildWasm.ts --check  exit 1 if the module is missing or stale
 *   tsx scripts/buildWasm.ts --wat    print the WebAssembly text instead (add --fma for the
 *                                     relaxed-simd variant)
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { currentGeneratedModule } from './wasm/assemble.js'
import { kernelsWat } from './wasm/kernelsWat.js'

const target = fileURLToPath(new URL('../src/tensor/wasm/kernelsBinary.generated.ts', import.meta.url))

const readOrEmpty = (path: string): string => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

const main = async (): Promise<void> => {
  if (process.argv.includes('--wat')) {
    process.stdout.write(kernelsWat({ fma: process.argv.includes('--fma') }))
    return
  }
  const text = await currentGeneratedModule()
  const current = readOrEmpty(target)
  if (process.argv.includes('--check')) {
    if (current !== text) {
      console.error('build:wasm: src/tensor/wasm/kernelsBinary.generated.ts is missing or stale. Run `npm run build:wasm`.')
      process.exitCode = 1
    }
    return
  }
  // Leave an up-to-date file untouched so watchers and incremental builds see no change.
  if (current !== text) writeFileSync(target, text)
}

await main()
