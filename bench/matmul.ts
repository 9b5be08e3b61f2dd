/**
 * @file Matrix-product throughput, JavaScript kernels vs WebAssembly SIMD kernels, in one run:
 * GFLOP/s (2·m·k·n / time) medians of ≥ 10 timed runs after warm-up, for square float32 and float64
 * products of 128, 256 and 512, plus the transposed variants at 512, then the peers (PyTorch on one
 * thread, tfjs-wasm, jax-js) on the float32 512 product. Not a test.
 *
 *   npm run bench:matmul                          JavaScript vs WebAssembly SIMD, and the peers
 *   npm run bench:matmul -- --no-peers            without the peers
 *   npm run bench:matmul -- --relaxed-simd        also the relaxed-SIMD (fused multiply-add) build,
 *                                                 enabling it on Node 20 (default from Node 22)
 *   npm run bench:matmul -- --elementwise         also ns per element of the elementwise kernels (the
 *                                                 data behind the thresholds in src/tensor/wasm/)
 *   npm run bench:matmul -- --threads             also 1 vs 2 threads (loadThreadedWasmKernels) on the
 *                                                 benchmark configs' products and their VJP variants
 *   npm run bench:matmul -- --rounds              also the 512 product's medians in 12 rounds of 20, to
 *                                                 see whether the core's speed changes during the run
 */
import { cpus, loadavg } from 'node:os'
import { type DType, type Data, type Kernels, jsKernels } from '../src/index.js'
import { enableRelaxedSimd, nodeWorkers } from '../src/node.js'
import { loadThreadedWasmKernels } from '../src/tensor/wasm/threads.js'
import { loadWasmKernels } from '../src/tensor/wasm/wasmKernels.js'
import { matmulPeerRows } from './matmulPeers.js'

const everywhere = { binary: 0, math: 0, sum: 0, matmul: 0 }
const wasmKernels = loadWasmKernels({ minSize: everywhere, relaxedSimd: false })
// Node 20 ships relaxed SIMD behind a flag, which enableRelaxedSimd sets.
if (process.argv.includes('--relaxed-simd')) enableRelaxedSimd()
const relaxedKernels = loadWasmKernels({ minSize: everywhere })
const backends: Kernels[] = relaxedKernels.name === wasmKernels.name ? [wasmKernels] : [wasmKernels, relaxedKernels]

const filled = (dtype: DType, length: number): Data => {
  const out = dtype === 'float32' ? new Float32Array(length) : new Float64Array(length)
  for (let i = 0; i < length; i++) out[i] = Math.sin(i * 0.7) // deterministic, no Math.random
  return out
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/**
 * Times `run` after warming up for `warmupMs` (long enough for V8 to tier WebAssembly up from
 * Liftoff to TurboFan); returns the per-run times in ms.
 */
const timeRuns = (run: () => unknown, runs: number, warmupMs: number): number[] => {
  const until = performance.now() + warmupMs
  let warm = 0
  while (warm < 2 || performance.now() < until) { run(); warm++ }
  const times: number[] = []
  for (let r = 0; r < runs; r++) {
    const t = performance.now()
    run()
    times.push(performance.now() - t)
  }
  return times
}

const gflops = (m: number, k: number, n: number, ms: number): number => (2 * m * k * n) / (ms * 1e6)

const matmulRow = (dtype: DType, size: number, transposeA: boolean, transposeB: boolean): string => {
  const a = filled(dtype, size * size)
  const b = filled(dtype, size * size)
  const one = new Int32Array(1)
  const product = (kernels: Kernels) => () => kernels.matmul(a, one, b, one, size, size, size, transposeA, transposeB)
  const runs = Math.max(10, Math.round(2e8 / size ** 3))
  const js = gflops(size, size, size, median(timeRuns(product(jsKernels), size >= 512 ? 10 : runs, 50)))
  const cells = backends.flatMap((kernels) => {
    const times = timeRuns(product(kernels), runs, 400)
    const wasmMedian = gflops(size, size, size, median(times))
    return [wasmMedian.toFixed(1), gflops(size, size, size, Math.min(...times)).toFixed(1), `${(wasmMedian / js).toFixed(0)}×`]
  })
  const variant = `${transposeA ? 'aᵀ' : 'a'}·${transposeB ? 'bᵀ' : 'b'}`
  return `| ${dtype} | ${size} | ${variant} | ${js.toFixed(2)} | ${cells.join(' | ')} |`
}

const elementwiseRows = (): string[] => {
  const rows = ['', '| dtype | n | op | js ns/elem | wasm ns/elem |', '|---|---:|---|---:|---:|']
  for (const dtype of ['float32', 'float64'] as const) {
    for (const n of [64, 256, 1024, 4096, 65536]) {
      const x = filled(dtype, n)
      const y = filled(dtype, n).map((v) => v + 2)
      const zeros = new Int32Array(n)
      const ops: [string, (k: Kernels) => unknown][] = [
        ['add', (k) => k.binary('add', x, null, y, null, n)],
        ['tanh', (k) => k.tanh(x)],
        ['exp', (k) => k.exp(x)],
        ['sigmoid', (k) => k.sigmoid(x)],
        ['sum', (k) => k.sumInto(x, zeros, 1)],
      ]
      for (const [name, op] of ops) {
        const reps = Math.max(1, Math.round(20000 / n))
        const perElement = (k: Kernels): number =>
          (median(timeRuns(() => { for (let r = 0; r < reps; r++) op(k) }, 15, 100)) * 1e6) / (reps * n)
        rows.push(`| ${dtype} | ${n} | ${name} | ${perElement(jsKernels).toFixed(2)} | ${perElement(wasmKernels).toFixed(2)} |`)
      }
    }
  }
  return rows
}

/** The products of the benchmark configs (per step, and C4's input projection), and their VJP variants. */
const THREAD_SHAPES: readonly (readonly [string, number, number, number, boolean, boolean])[] = [
  ['512²', 512, 512, 512, false, false],
  ['C1 h·wRec', 64, 128, 128, false, false], ['C1 hᵀ·g', 128, 64, 128, true, false], ['C1 g·wRecᵀ', 64, 128, 128, false, true],
  ['C2 h·w', 32, 256, 1024, false, false], ['C2 hᵀ·g', 256, 32, 1024, true, false], ['C2 g·wᵀ', 32, 1024, 256, false, true],
  ['C4 h·wRec', 128, 512, 512, false, false], ['C4 hᵀ·g', 512, 128, 512, true, false], ['C4 g·wRecᵀ', 128, 512, 512, false, true],
  ['C4 x·wIn', 4096, 256, 512, false, false], ['C4 xᵀ·g', 256, 4096, 512, true, false], ['C4 g·wInᵀ', 4096, 512, 256, false, true],
]

/** GFLOP/s medians, one thread (plain SIMD) against two (the same build over shared memory), interleaved. */
const threadRows = async (): Promise<string[]> => {
  const threaded = await loadThreadedWasmKernels({ createWorker: nodeWorkers, minSize: everywhere, relaxedSimd: false })
  const rows = ['', `| dtype | product | [m, k] · [k, n] | 1 thread | ${threaded.name} | speed-up |`, '|---|---|---|---:|---:|---:|']
  try {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const [name, m, k, n, transposeA, transposeB] of THREAD_SHAPES) {
        const a = filled(dtype, m * k)
        const b = filled(dtype, k * n)
        const one = new Int32Array(1)
        const reps = Math.max(1, Math.round(2e7 / (m * k * n)))
        const run = (kernels: Kernels) => () => { for (let r = 0; r < reps; r++) kernels.matmul(a, one, b, one, m, k, n, transposeA, transposeB) }
        const [one1, two1] = [timeRuns(run(wasmKernels), 10, 200), timeRuns(run(threaded), 10, 200)]
        const [one2, two2] = [timeRuns(run(wasmKernels), 10, 0), timeRuns(run(threaded), 10, 0)]
        const single = gflops(m, k, n, median([...one1, ...one2]) / reps)
        const split = gflops(m, k, n, median([...two1, ...two2]) / reps)
        rows.push(`| ${dtype} | ${name} | [${m}, ${k}] · [${k}, ${n}] | ${single.toFixed(1)} | ${split.toFixed(1)} | ${(split / single).toFixed(2)}× |`)
      }
    }
  } finally {
    threaded.close()
  }
  return rows
}

/**
 * The float32 and float64 512 products' GFLOP/s in consecutive rounds of 20 (median/best per round),
 * per backend. On a shared host the core's throughput can switch between levels within a second,
 * and a median of 10 then depends on which level the runs fell in.
 */
const roundRows = (): string[] => {
  const size = 512
  const one = new Int32Array(1)
  return (['float32', 'float64'] as const).flatMap((dtype) => {
    const [a, b] = [filled(dtype, size * size), filled(dtype, size * size)]
    return backends.map((kernels) => {
      const product = () => kernels.matmul(a, one, b, one, size, size, size, false, false)
      timeRuns(product, 0, 400)
      const rounds = Array.from({ length: 12 }, () => {
        const times = timeRuns(product, 20, 0)
        return `${gflops(size, size, size, median(times)).toFixed(1)}/${gflops(size, size, size, Math.min(...times)).toFixed(1)}`
      })
      return `${dtype} ${size}² ${kernels.name}, rounds of 20 (median/best GFLOP/s): ${rounds.join(' ')}`
    })
  })
}

const main = async (): Promise<void> => {
  console.log(`# matmul: JavaScript vs WebAssembly SIMD kernels (${new Date().toISOString()})`)
  console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  console.log('GFLOP/s = 2·n³ / time; medians of ≥ 10 runs after warm-up, and the best run.\n')
  const heads = backends.flatMap((k) => [`${k.name} median`, `${k.name} best`, 'vs js'])
  console.log(`| dtype | n | product | js median | ${heads.join(' | ')} |`)
  console.log(`|---|---:|---|---:|${heads.map(() => '---:').join('|')}|`)
  for (const dtype of ['float32', 'float64'] as const) {
    for (const size of [128, 256, 512]) console.log(matmulRow(dtype, size, false, false))
    for (const [tA, tB] of [[false, true], [true, false], [true, true]] as const) console.log(matmulRow(dtype, 512, tA, tB))
  }
  if (!process.argv.includes('--no-peers')) for (const row of await matmulPeerRows(512)) console.log(row)
  if (process.argv.includes('--elementwise')) for (const row of elementwiseRows()) console.log(row)
  if (process.argv.includes('--threads')) for (const row of await threadRows()) console.log(row)
  if (process.argv.includes('--rounds')) for (const row of ['', ...roundRows()]) console.log(row)
}

await main()
