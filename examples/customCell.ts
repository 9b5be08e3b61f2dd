/**
 * A user-written recurrent cell: a minimal gated unit (MGU; Zhou et al., 2016). We define it,
 * gradient-check it (one fixed case at orders 1 and 2, then a fast-check property), plug it into
 * the same stacking machinery as the built-in cells, and train a two-layer MGU network with plain
 * gradient descent (full batch) to recall the first value of a sequence after five steps.
 * Run: npm run build && npx tsx examples/customCell.ts
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import {
  type Key, type Tensor, add, arbitraries, checkGrads, concat, grad, matmul, mean, mul, nn, normal, randomKey, reshape, sigmoid, slice,
  splitKey, square, sub, sum, tanh, treeLeaves, treeMap, uniform,
} from 'scangrad'

// ---- 1. The cell: (params, carry, x) → [carry, y] ----

/**
 * f_t = σ([x_t, h_{t−1}]·wF + bF)                 (one gate: forget and update at once)
 * h̃_t = tanh([x_t, f_t ⊙ h_{t−1}]·wH + bH)
 * h_t = (1 − f_t) ⊙ h_{t−1} + f_t ⊙ h̃_t  =  h_{t−1} + f_t ⊙ (h̃_t − h_{t−1})
 */
const mguCell: nn.Cell<{ h: Tensor }> = (p, { h }, x) => {
  const f = sigmoid(add(matmul(concat([x, h], -1), p.wF), p.bF))
  const candidate = tanh(add(matmul(concat([x, mul(f, h)], -1), p.wH), p.bH))
  const next = add(h, mul(f, sub(candidate, h)))
  return [{ h: next }, next]
}

/** What the machinery needs: a name for errors, the parameter shapes, the cell. */
const mgu: nn.CellSpec<{ h: Tensor }> = {
  name: 'mgu',
  params: ({ inputSize, hiddenSize }) => ({
    wF: [inputSize + hiddenSize, hiddenSize], bF: [hiddenSize],
    wH: [inputSize + hiddenSize, hiddenSize], bH: [hiddenSize],
  }),
  cell: mguCell,
  init: ({ hiddenSize }) => nn.init.uniform(1 / Math.sqrt(hiddenSize)),
}

// ---- 2. Gradient checks ----

const sizes = { inputSize: 2, hiddenSize: 3 }
const [kParams, kCarry, kX] = splitKey(randomKey(0), 3)
const cellParams = nn.initParams(kParams, mgu.params(sizes), nn.init.uniform(0.8))
const fixed = checkGrads(mguCell, [cellParams, { h: normal(kCarry, [4, 3]) }, normal(kX, [4, 2])], { order: 2 })
if (E.isLeft(fixed)) throw new Error(fixed.left.message)
console.log(`checkGrads on one MGU step: ${fixed.right.checked} derivatives (orders 1 and 2) agree`)

// Property: for any inputs, carries and parameter keys, a whole masked sequence layer checks out.
const layer = nn.recurrent(mgu, sizes)
fc.assert(
  fc.property(
    arbitraries.tensorOfShape([2, 4, 2], { min: -2, max: 2 }),
    arbitraries.key(),
    fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 2 }),
    (xs: Tensor, key: Key, lengths: number[]) => {
      const check = checkGrads((p: nn.Params, x: Tensor) => layer.apply(p, x, { lengths }).outputs, [layer.init(key), xs], { order: 2, mode: 'projected' })
      if (E.isLeft(check)) throw new Error(check.left.message)
    },
  ),
  { numRuns: 20, seed: 7 },
)
console.log('fast-check: the MGU layer passes checkGrads (orders 1 and 2) on 20 drawn cases')

// ---- 3. Plugged into the machinery: two stacked MGU layers, a linear head on the last step ----

const hidden = 8
const model = nn.sequenceModel({
  recurrent: nn.stacked([nn.recurrent(mgu, { inputSize: 1, hiddenSize: hidden }), nn.recurrent(mgu, { inputSize: hidden, hiddenSize: hidden })]),
  output: nn.linear({ inputSize: hidden, outputSize: 1 }),
  readout: 'lastStep',
})

// ---- 4. A tiny memory task: after 5 steps of noise, output the sequence's first value ----

const time = 5
const batchOf = (key: Key, batch: number): { xs: Tensor; ys: Tensor } => {
  const xs = uniform(key, [batch, time, 1], { low: -1, high: 1 })
  return { xs, ys: reshape(slice(xs, [[0, batch], [0, 1]]), [batch, 1]) }
}

const loss = (params: nn.SequenceParams, xs: Tensor, ys: Tensor): Tensor => mean(square(sub(model.apply(params, xs), ys)))

const params0 = model.init(randomKey(1))
const train = batchOf(randomKey(2), 128)
const test = batchOf(randomKey(3), 256)
const learningRate = 0.3
const before = loss(params0, test.xs, test.ys).item()
console.log(`before training: test MSE ${before.toFixed(4)} (always predicting 0 gives ≈ 0.333)`)

let params = params0
for (let step = 1; step <= 400; step++) {
  const grads = grad(loss)(params, train.xs, train.ys)
  // Plain gradient descent, written inline: p ← p − η·∇p / max(1, ‖∇‖), leaf by leaf (the clip
  // keeps a rare exploding recurrent gradient from throwing the parameters away).
  const norm = Math.sqrt(treeLeaves(grads).reduce((total, g) => total + sum(square(g)).item(), 0))
  const stepSize = learningRate / Math.max(1, norm)
  params = treeMap((p: Tensor, g: Tensor) => sub(p, mul(g, stepSize)), params, grads)
  if (step % 100 === 0) console.log(`step ${step}: train MSE ${loss(params, train.xs, train.ys).item().toFixed(4)}, test MSE ${loss(params, test.xs, test.ys).item().toFixed(4)}`)
}
const after = loss(params, test.xs, test.ys).item()
if (!(after < 0.5 * before)) throw new Error(`customCell: the MGU network did not learn (test MSE ${before} → ${after}).`)
