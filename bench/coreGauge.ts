/**
 * A gauge of the core this process runs on: GFLOP/s of a float32 256 × 256 product through
 * scangrad's WebAssembly kernels (fused multiply-adds where the host has relaxed SIMD), the median
 * of the products run in about one second. bench/run.ts starts it alone and then two at once,
 * before and after the training steps, because on a shared VM the two cores need not be equal nor
 * steady, and every ratio in the tables depends on which one a process got. Usage:
 *   node .bench-build/bench/coreGauge.js        (prints one number)
 */
import { loadWasmKernels } from '../src/index.js'
import { enableRelaxedSimd } from '../src/node.js'
import { benchData, median } from './configs.js'

const N = 256

enableRelaxedSimd()
const kernels = loadWasmKernels({ minSize: { binary: 0, math: 0, sum: 0, matmul: 0 } })
const a = benchData(N * N, 1)
const b = benchData(N * N, 2)
const one = new Int32Array(1)
const times: number[] = []
const end = performance.now() + 1000
while (performance.now() < end) {
  const start = performance.now()
  kernels.matmul(a, one, b, one, N, N, N, false, false)
  times.push(performance.now() - start)
}
// The first products run before V8 has optimised the module; the later half is the steady state.
console.log(((2 * N ** 3) / (median(times.slice(times.length >> 1)) * 1e6)).toFixed(1))
