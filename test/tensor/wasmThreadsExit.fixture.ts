// Run by wasmThreads.test.ts in a child process: loads the threaded kernels, runs split products and
// split Elman, LSTM and GRU sequences, and returns without closing them (unless given --close). The process must
// still exit. Under tsx, which wraps named inner functions in a helper: the workers' source text
// must run without it.
import { nodeWorkers } from '../../src/nodeThreads.js'
import { loadThreadedWasmKernels } from '../../src/tensor/wasm/threads.js'

const kernels = await loadThreadedWasmKernels({ createWorker: nodeWorkers, minParallelSize: 0, minSize: { matmul: 0 } })
const a = Float64Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i))
const one = new Int32Array(1)
for (let i = 0; i < 20; i++) kernels.matmul(a, one, a, one, 64, 64, 64, false, true)
const extent = { time: 8, batch: 16, hidden: 32, reverse: false, transposed: false }
for (let i = 0; i < 20; i++) kernels.recurrentForward!(a, a.subarray(0, 16 * 32), a.subarray(0, 32 * 32), extent, 'tanh')
for (let i = 0; i < 20; i++) kernels.lstmForward!(a.subarray(0, 8 * 16 * 16), a.subarray(0, 16 * 4), a.subarray(0, 16 * 4), a.subarray(0, 4 * 4 * 4), { ...extent, hidden: 4 })
for (let i = 0; i < 20; i++) kernels.gruForward!(a.subarray(0, 8 * 16 * 12), a.subarray(0, 16 * 4), a.subarray(0, 3 * 4 * 4), a.subarray(0, 12), { ...extent, hidden: 4 })
if (process.argv.includes('--close')) kernels.close()
console.log(`done ${kernels.name}`)
