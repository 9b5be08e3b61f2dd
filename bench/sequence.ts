/**
 * @file `npm run bench:sequence`: what the whole-sequence path buys. For each built-in cell (Elman,
 * LSTM, GRU) at C2's sizes (batch 32, 64 steps, one-hot 64 inputs, hidden 256, a softmax over 64 at
 * every step, Adam, float32, the one-thread WebAssembly backend), one training step with `scan`
 * through the cell's sequence kernel, with the step (without its kernel) traced once, and step by
 * step, alternating in one process; medians of the steps after two warm-up rounds. All three start
 * from the same parameters and must report the same loss to 1e-5. With `--threads`, also the sequence kernels on one thread against two, the threaded backend
 * splitting each sequence into ranges of batch rows: Elman (`projectedRecurrentForward` and
 * `projectedRecurrentBackward`, C1's and C4's sizes, batch-first), LSTM and GRU (C2's sizes);
 * interleaved, medians. Not a test.
 *   npm run bench:sequence -- [--steps 10] [--threads]
 */
import { parseArgs } from 'node:util'
import {
  type Kernels, type Tensor, loadThreadedWasmKernels, loadWasmKernels, losses, nn, oneHot, optim, randomKey, tensor, train, useKernels,
} from '../src/index.js'
import { nodeWorkers } from '../src/node.js'
import { benchData, configByName, median } from './configs.js'

const { values } = parseArgs({ options: { steps: { type: 'string', default: '10' }, threads: { type: 'boolean', default: false } } })
const stepCount = Number(values.steps)
const size = { batch: 32, time: 64, inputSize: 64, hidden: 256, outputs: 64 }

const symbols = (n: number, classes: number, seed: number): number[] =>
  Array.from(benchData(n, seed), (v) => Math.floor((v + 0.5) * classes) % classes)

/** How `scan` runs a cell: through its own kernel, traced once (`traceStep`), or step by step. */
const MODES = ['kernel', 'traced', 'loop'] as const
type Mode = (typeof MODES)[number]

/** The spec as `mode` runs it: without its kernel for 'traced' and 'loop', and not traceable for 'loop'. */
const specFor = <C extends nn.Carry>(spec: nn.CellSpec<C>, mode: Mode): nn.CellSpec<C> => mode === 'kernel' ? spec : {
  ...spec,
  traceable: mode === 'traced',
  bind: (params) => {
    const bound = nn.bindCell(spec, params)
    return { project: bound.project, step: (carry, x) => bound.step(carry, x) }
  },
}

const sizes = { inputSize: size.inputSize, hiddenSize: size.hidden }
/** Per cell, the layer in each mode (same parameter names). */
const cells = {
  elman: (mode: Mode) => nn.recurrent(specFor(nn.elmanSpec('tanh'), mode), sizes),
  lstm: (mode: Mode) => nn.stacked([nn.recurrent(specFor(nn.lstmSpec, mode), { ...sizes, init: nn.init.uniform(1 / 16) })], { name: 'lstm' }),
  gru: (mode: Mode) => nn.stacked([nn.recurrent(specFor(nn.gruSpec, mode), { ...sizes, init: nn.init.uniform(1 / 16) })], { name: 'gru' }),
}

useKernels(loadWasmKernels())
const batch = {
  inputs: oneHot(tensor(symbols(size.batch * size.time, size.inputSize, 1), { shape: [size.batch, size.time] }), size.inputSize, { dtype: 'float32' }),
  targets: oneHot(tensor(symbols(size.batch * size.time, size.outputs, 2), { shape: [size.batch, size.time] }), size.outputs, { dtype: 'float32' }),
}
console.log(`# one training step, float32, wasm, medians over ${stepCount} steps: scan through each cell's kernel, the step traced once, and step by step`)
console.log('| cell | kernel ms | traced ms | step by step ms | traced / kernel | step by step / kernel |')
console.log('|---|---:|---:|---:|---:|---:|')
for (const [name, cell] of Object.entries(cells)) {
  const output = nn.linear({ inputSize: size.hidden, outputSize: size.outputs })
  const optimizer = optim.adam(1e-3)
  const steps = Object.fromEntries(MODES.map((mode) => {
    const model = nn.sequenceModel({ recurrent: cell(mode), output })
    return [mode, train.makeTrainStep(
      (params: nn.SequenceParams, b: { inputs: Tensor; targets: Tensor }) => losses.softmaxCrossEntropy(model.apply(params, b.inputs), b.targets),
      optimizer,
    )]
  })) as Record<Mode, ReturnType<typeof train.makeTrainStep>>
  let params = nn.sequenceModel({ recurrent: cell('kernel'), output }).init(randomKey(0), { dtype: 'float32' })
  let optState = optimizer.init(params)
  const losses0 = MODES.map((mode) => steps[mode](params, optState, batch).loss)
  if (losses0.some((l) => Math.abs(l - losses0[0]) > 1e-5 * Math.abs(losses0[0]))) throw new Error(`bench: ${name} losses differ: ${losses0.join(', ')}`)
  const times: Record<Mode, number[]> = { kernel: [], traced: [], loop: [] }
  for (let i = 0; i < stepCount + 2; i++) {
    for (const mode of MODES) {
      const start = performance.now()
      const result = steps[mode](params, optState, batch)
      if (i >= 2) times[mode].push(performance.now() - start)
      params = result.params as typeof params
      optState = result.optState as typeof optState
    }
  }
  const [kernel, traced, loop] = MODES.map((mode) => median(times[mode]))
  console.log(`| ${name} | ${kernel.toFixed(1)} | ${traced.toFixed(1)} | ${loop.toFixed(1)} | ${(traced / kernel).toFixed(2)} | ${(loop / kernel).toFixed(2)} |`)
}

/** One sequence kernel call pair timed on one thread and on two: its label, its sizes and the call. */
interface ThreadCase {
  readonly label: string
  readonly sizes: string
  readonly run: (k: Kernels) => void
}

const data = (n: number, seed: number, scale: number) => Float32Array.from(benchData(n, seed), (v) => v * scale)

/** The Elman kernels at C1's and C4's sizes, batch-first, with the input projection inside. */
const elmanCase = (name: string): ThreadCase => {
  const c = configByName(name)
  const extent = { time: c.time, batch: c.batch, hidden: c.hidden, reverse: false, transposed: false, batchMajor: true }
  const inputs = c.inputSize + 2 // the Elman layer's [x, continued, 1]
  const x = data(c.batch * c.time * inputs, 1, 1)
  const wIn = data(inputs * c.hidden, 2, 0.2)
  const h0 = new Float32Array(c.batch * c.hidden)
  const w = data(c.hidden * c.hidden, 3, 0.1)
  const g = data(c.batch * c.time * c.hidden, 4, 1)
  const wanted = { x: false, wIn: true, h0: false, w: true }
  return {
    label: `${name} elman`,
    sizes: `[${c.batch}, ${c.time}, ${inputs}] → ${c.hidden}`,
    run: (k) => {
      const hs = k.projectedRecurrentForward!(x, wIn, h0, w, extent, 'tanh')
      k.projectedRecurrentBackward!({ steps: g, last: null }, hs, x, wIn, h0, w, extent, 'tanh', wanted)
    },
  }
}

/** The LSTM and GRU kernels at C2's sizes, from the projected inputs (PyTorch's weight layout). */
const gatedCases = (): ThreadCase[] => {
  const c = configByName('C2')
  const extent = { time: c.time, batch: c.batch, hidden: c.hidden, reverse: false, transposed: true }
  const n = c.batch * c.hidden
  const zeros = new Float32Array(n)
  const g = data(c.time * n, 4, 1)
  const sizes = `[${c.batch}, ${c.time}] → ${c.hidden}`
  const lstm = { p: data(4 * c.time * n, 1, 1), w: data(4 * c.hidden ** 2, 2, 0.05) }
  const gru = { p: data(3 * c.time * n, 1, 1), w: data(3 * c.hidden ** 2, 2, 0.05), b: data(3 * c.hidden, 3, 0.1) }
  return [
    {
      label: 'C2 lstm', sizes, run: (k) => {
        const forward = k.lstmForward!(lstm.p, zeros, zeros, lstm.w, extent)
        k.lstmBackward!(g, g, forward, zeros, zeros, lstm.w, extent, true)
      },
    },
    {
      label: 'C2 gru', sizes, run: (k) => {
        const forward = k.gruForward!(gru.p, zeros, gru.w, gru.b, extent)
        k.gruBackward!(g, forward, zeros, gru.w, extent, { w: true, b: true })
      },
    },
  ]
}

/** ms of each case forwards and backwards, per kernel backend, interleaved. */
const threadRows = async (): Promise<void> => {
  const two = await loadThreadedWasmKernels({ createWorker: nodeWorkers, threads: 2 })
  const one = loadWasmKernels()
  console.log(`\n# the sequence kernels, float32, forwards + backwards, medians over ${3 * stepCount} calls: one thread against two`)
  console.log(`| kernels | sizes | ${one.name} ms | ${two.name} ms | speed-up |`)
  console.log('|---|---|---:|---:|---:|')
  try {
    for (const { label, sizes, run } of [elmanCase('C1'), elmanCase('C4'), ...gatedCases()]) {
      const times = new Map<Kernels, number[]>([[one, []], [two, []]])
      for (let i = 0; i < 3 * stepCount + 3; i++) {
        for (const [k, list] of times) {
          const start = performance.now()
          run(k)
          if (i >= 3) list.push(performance.now() - start)
        }
      }
      const [single, split] = [median(times.get(one)!), median(times.get(two)!)]
      console.log(`| ${label} | ${sizes} | ${single.toFixed(2)} | ${split.toFixed(2)} | ${(single / split).toFixed(2)}× |`)
    }
  } finally {
    two.close()
  }
}
if (values.threads) await threadRows()
