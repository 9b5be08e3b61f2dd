/**
 * @file `npm run bench:perexample`: per-example gradients of an LSTM (issue 19 §3), float32, the
 * default backend, one process. The loss of one example is the MSE of `nn.lstm`'s outputs against
 * a target; its gradient with respect to every parameter is taken for each of B examples, either
 * by `vmap(grad(loss), { inAxes: [null, 0, 0] })` (one pass over the batch) or by a loop calling
 * `grad(loss)` once per example (the examples sliced beforehand, outside the timing). Both give
 * the same `[B, ...]` gradients (checked here). Each variant runs once per round, in turn; the
 * medians over rounds and the median of the per-round ratios are printed. Not a test.
 *   npm run bench:perexample -- [--rounds 7] [--batch 32] [--time 32] [--inputs 16] [--hidden 64]
 */
import { parseArgs } from 'node:util'
import { type Tensor, grad, losses, nn, randomKey, stack, tensor, treeLeaves, unstack, vmap } from '../src/index.js'
import { K } from '../src/tensor/backend.js'
import { benchData, interleaved, median } from './configs.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' }, batch: { type: 'string', default: '32' }, time: { type: 'string', default: '32' },
    inputs: { type: 'string', default: '16' }, hidden: { type: 'string', default: '64' },
  },
})
const [batch, time, inputs, hidden, rounds] = ['batch', 'time', 'inputs', 'hidden', 'rounds'].map((k) => Number(values[k as keyof typeof values]))

const layer = nn.lstm({ inputSize: inputs, hiddenSize: hidden })
const params = layer.init(randomKey(0), { dtype: 'float32' })
const xs = tensor(benchData(batch * time * inputs, 1), { shape: [batch, 1, time, inputs], dtype: 'float32' })
const ys = tensor(benchData(batch * time * hidden, 2), { shape: [batch, 1, time, hidden], dtype: 'float32' })
/** One example: x `[1, time, inputs]` (a batch of one sequence), y `[1, time, hidden]`. */
const loss = (p: nn.Params, x: Tensor, y: Tensor): Tensor => losses.mse(layer.apply(p, x).outputs, y)

const perExample = vmap(grad(loss), { inAxes: [null, 0, 0] })
const examples = unstack(xs)
const targets = unstack(ys)
const loop = (): nn.Params[] => examples.map((x, i) => grad(loss)(params, x, targets[i]))

// The two agree (float32 round-off: the batched products sum in another order).
const batched = treeLeaves(perExample(params, xs, ys))
const looped = treeLeaves(loop())
const stacked = batched.map((_, j) => stack(looped.filter((_, k) => k % batched.length === j), 0))
let worst = 0
batched.forEach((g, j) => g.data.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - stacked[j].data[i])) }))
if (!(worst < 1e-4)) throw new Error(`vmap(grad) and the loop disagree by ${worst}`)

const variants: Record<string, () => unknown> = { 'vmap(grad(loss))': () => perExample(params, xs, ys), 'loop of grad(loss)': loop }
const times = interleaved(variants, rounds)
const ratios = times['loop of grad(loss)'].map((t, i) => t / times['vmap(grad(loss))'][i])
console.log(`# per-example gradients of nn.lstm, B ${batch} × T ${time} × in ${inputs} × H ${hidden} float32, backend ${K.name}: medians over ${rounds} interleaved rounds`)
console.log('| variant | median ms |')
console.log('| --- | ---: |')
for (const name of Object.keys(times)) console.log(`| ${name} | ${median(times[name]).toFixed(1)} |`)
console.log(`loop ÷ vmap (median of per-round ratios): ${median(ratios).toFixed(2)}×; largest difference between the two: ${worst.toExponential(1)}`)
