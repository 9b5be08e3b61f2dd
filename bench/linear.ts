/**
 * @file `npm run bench:linear`: issue 20's speed targets, float32, the default backend, one process.
 *
 * 1. The first-order linear recurrence at T 4096 × B 8 × H 256 (rows of 2,048) against plain
 *    element-wise passes over the same arrays: one multiply (`K.binary('mul')`) and a multiply-add
 *    as the elementwise kernels compute it (a multiply, then an add). Forward and backward, the
 *    default backend's kernel and the JavaScript one. Target: forward within 3× of the multiply-add.
 * 2. One training step (forward, backward, Adam) of `nn.minGru` at B 8, T 4096, H 256 with an MSE
 *    loss on its outputs: parallel mode, sequential mode (the cell by `scan`, step by step, its step
 *    traced once and replayed), the same cell by `scan` on a plain per-step tape (`traceable: false`)
 *    and `nn.gru` of the same sizes. Targets: parallel ≥ 5× faster than sequential, and faster than GRU.
 *
 * Every timed variant runs once per round, in turn, so drift hits all alike; the medians over rounds
 * and the median of the per-round ratios are printed. Not a test.
 *   npm run bench:linear -- [--rounds 7] [--step-rounds 5] [--no-steps]
 */
import { parseArgs } from 'node:util'
import { type Tensor, jsKernels, losses, nn, optim, randomKey, tensor, train } from '../src/index.js'
import { K } from '../src/tensor/backend.js'
import { benchData, interleaved, median } from './configs.js'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '7' }, 'step-rounds': { type: 'string', default: '5' }, 'no-steps': { type: 'boolean', default: false } },
})
const [batch, time, hidden] = [8, 4096, 256]

const ratio = (times: Record<string, number[]>, top: string, bottom: string): number => median(times[top].map((t, i) => t / times[bottom][i]))
const row = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`

// ---- 1. the kernel against element-wise passes ----

const size = batch * hidden
const n = time * size
const a = benchData(n, 1).map((v) => 0.9 + 0.1 * v)
const b = benchData(n, 2)
const g = benchData(n, 3)
const h0 = new Float32Array(size)
const hs = K.linearRecurrence(a, b, h0, time, size, false)
console.log(`# linear recurrence, T ${time} × B ${batch} × H ${hidden} float32, backend ${K.name}: medians over ${values.rounds} interleaved rounds (ms)`)
const kernelTimes = interleaved({
  recurrence: () => K.linearRecurrence(a, b, h0, time, size, false),
  'recurrence (js)': () => jsKernels.linearRecurrence!(a, b, h0, time, size, false),
  backward: () => K.linearRecurrenceBackward(g, a, hs, h0, time, size, false),
  'backward (js)': () => jsKernels.linearRecurrenceBackward!(g, a, hs, h0, time, size, false),
  'complex recurrence': () => K.linearRecurrence(a, b, h0, time, size, true),
  multiply: () => K.binary('mul', a, null, b, null, n),
  'multiply-add': () => K.binary('add', K.binary('mul', a, null, hs, null, n), null, b, null, n),
}, Number(values.rounds))
console.log(row(['variant', 'median ms', '÷ multiply', '÷ multiply-add']))
console.log(row(['---', '---:', '---:', '---:']))
for (const name of Object.keys(kernelTimes)) {
  console.log(row([name, median(kernelTimes[name]).toFixed(1), ratio(kernelTimes, name, 'multiply').toFixed(2), ratio(kernelTimes, name, 'multiply-add').toFixed(2)]))
}

// ---- 2. one training step ----

if (!values['no-steps']) {
  const x = tensor(benchData(batch * time * hidden, 4), { shape: [batch, time, hidden], dtype: 'float32' })
  const y = tensor(benchData(batch * time * hidden, 5), { shape: [batch, time, hidden], dtype: 'float32' })
  const layers: Record<string, nn.RecurrentLayer<nn.HiddenState>> = {
    'minGru parallel': nn.minGru({ inputSize: hidden, hiddenSize: hidden }),
    'minGru sequential': nn.minGru({ inputSize: hidden, hiddenSize: hidden, mode: 'sequential' }),
    'minGru per-step tape': nn.recurrent({ ...nn.minGruSpec, traceable: false }, { inputSize: hidden, hiddenSize: hidden }),
    gru: nn.gru({ inputSize: hidden, hiddenSize: hidden }),
  }
  const optimizer = optim.adam(1e-3)
  const steps = Object.fromEntries(Object.entries(layers).map(([name, layer]) => {
    let params = layer.init(randomKey(0), { dtype: 'float32' })
    let optState = optimizer.init(params)
    const step = train.makeTrainStep((p: nn.Params, batchData: { x: Tensor; y: Tensor }) => losses.mse(layer.apply(p, batchData.x).outputs, batchData.y), optimizer)
    return [name, () => {
      const result = step(params, optState, { x, y })
      params = result.params as nn.Params
      optState = result.optState as typeof optState
      return result.loss
    }]
  })) as Record<string, () => number>
  // Both modes start from the same parameters: their first losses must agree.
  const [lp, ls] = [steps['minGru parallel'](), steps['minGru sequential']()]
  if (Math.abs(lp - ls) > 1e-4 * Math.abs(ls)) throw new Error(`bench:linear: the two modes' losses differ: ${lp} vs ${ls}`)
  console.log(`\n# one training step (MSE on the outputs, Adam), B ${batch} T ${time} H ${hidden} float32: medians over ${values['step-rounds']} interleaved rounds`)
  const stepTimes = interleaved(steps, Number(values['step-rounds']))
  console.log(row(['layer', 'median ms', 'sequential ÷ this', 'per-step tape ÷ this', 'gru ÷ this']))
  console.log(row(['---', '---:', '---:', '---:', '---:']))
  for (const name of Object.keys(stepTimes)) {
    const ratios = ['minGru sequential', 'minGru per-step tape', 'gru'].map((top) => ratio(stepTimes, top, name).toFixed(2))
    console.log(row([name, median(stepTimes[name]).toFixed(0), ...ratios]))
  }
}
