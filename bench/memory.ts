/**
 * `npm run bench:memory`: activation memory of `scan` over a 1,000-step tanh RNN (batch 32, hidden
 * 256, float32), without and with `checkpoint`. Runs the forward pass under `vjp` (which keeps what
 * the backward pass will need), collects garbage, and reports the bytes of typed-array storage
 * still held, as a multiple of the carries (one [batch, hidden] state per step). The loss itself,
 * mean(hs²), keeps the stacked outputs and their squares (2× the carries) in every variant. Needs
 * --expose-gc (the script re-runs itself with it). Not a test.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type Tensor, add, matmul, mean, normal, randomKey, scan, splitKey, square, tanh, vjp } from '../src/index.js'

const TIME = 1000
const BATCH = 32
const HIDDEN = 256

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  // Re-run with the collector exposed; forward the output.
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { encoding: 'utf8' })
  process.stdout.write(out)
  process.exit(0)
}

const held = (): number => {
  gc!()
  return process.memoryUsage().arrayBuffers
}

/** Bytes of typed arrays held between the forward pass under `vjp` and its backward pass. */
const measure = (checkpoint: boolean | number): number => {
  const [k1, k2, k3] = splitKey(randomKey(0), 3)
  const w = normal(k1, [HIDDEN, HIDDEN], { dtype: 'float32' })
  const xs = normal(k2, [TIME, BATCH, HIDDEN], { dtype: 'float32' })
  const h0 = normal(k3, [BATCH, HIDDEN], { dtype: 'float32' })
  const base = held()
  const loss = (wi: Tensor): Tensor => {
    const [, hs] = scan((h: Tensor, x: Tensor) => {
      const next = tanh(add(x, matmul(h, wi)))
      return [next, next] as const
    }, h0, xs, { checkpoint })
    return mean(square(hs))
  }
  const [, pullback] = vjp(loss, w)
  const forward = held() - base
  pullback(normal(randomKey(9), [], { dtype: 'float32' })) // keeps the tape alive until here
  return forward
}

const carries = TIME * BATCH * HIDDEN * 4
const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1)
console.log(`scan over ${TIME} steps, batch ${BATCH}, hidden ${HIDDEN}, float32; the carries of all steps take ${mb(carries)} MB`)
console.log('| checkpoint | held after forward MB | × carries |')
console.log('|---|---:|---:|')
for (const checkpoint of [false, true, 10]) {
  const forward = measure(checkpoint)
  console.log(`| ${String(checkpoint)} | ${mb(forward)} | ${(forward / carries).toFixed(2)} |`)
}
