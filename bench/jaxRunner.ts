/**
 * jax-js peer for the training-step benchmark: the same models as scangrad's runner written with
 * jax-js array ops, float32 on its WebAssembly device, one `jit` over the whole step (loss, gradient
 * by `valueAndGrad`, Adam update). jax-js has no `scan`, so the recurrence is a JavaScript loop that
 * `jit` unrolls while tracing. Usage:
 *   tsx bench/jaxRunner.ts <C1|C2|C3|C4> [steps]
 * Prints one JSON BenchResult line.
 *
 * jax-js counts references: every function, `jit`-compiled ones included, consumes (decrements)
 * the arrays passed to it, and `.ref` takes an extra reference for a value that is used again. The
 * code below follows that rule so that nothing leaks between steps and peak RSS stays meaningful.
 */
import { blockUntilReady, defaultDevice, init, jit, nn as jnn, numpy as np, tree, valueAndGrad } from '@jax-js/jax'
import { type BenchConfig, benchData, configByName, median, warmUp } from './configs.js'

/** Recurrent weights (gates stacked as PyTorch orders them: i, f, g, o for the LSTM) and the head. */
type Params = { wx: np.Array; wh: np.Array; b: np.Array; wo: np.Array; bo: np.Array }

const gatesOf = (c: BenchConfig): number => (c.cell === 'lstm' ? 4 : 1)

/** Weights uniform in ±1/√fanIn from the benchmark LCG (the values do not matter for timing). */
const initParams = (c: BenchConfig): Params => {
  const g = gatesOf(c) * c.hidden
  const uniform = (shape: [number, number] | [number], fanIn: number, seed: number): np.Array => {
    const n = shape.reduce((a, b) => a * b, 1)
    return np.array(benchData(n, seed).map((v) => (2 * v) / Math.sqrt(fanIn)), { shape })
  }
  return {
    wx: uniform([c.inputSize, g], c.hidden, 11),
    wh: uniform([c.hidden, g], c.hidden, 12),
    b: uniform([g], c.hidden, 13),
    wo: uniform([c.hidden, c.outputs], c.hidden, 14),
    bo: uniform([c.outputs], c.hidden, 15),
  }
}

const symbols = (n: number, classes: number, seed: number): Int32Array =>
  Int32Array.from(benchData(n, seed), (v) => Math.floor((v + 0.5) * classes) % classes)

/** The scangrad runner's inputs and targets: [B, T, I] (dense or one-hot) and one-hot or dense targets. */
const batchFor = (c: BenchConfig): { x: np.Array; y: np.Array } => {
  const oneHot = (n: number, classes: number, seed: number, shape: number[]): np.Array =>
    jnn.oneHot(np.array(symbols(n, classes, seed), { dtype: np.int32 }), classes).astype(np.float32).reshape(shape)
  const x = c.input === 'oneHot'
    ? oneHot(c.batch * c.time, c.inputSize, 1, [c.batch, c.time, c.inputSize])
    : np.array(benchData(c.batch * c.time * c.inputSize, 1), { shape: [c.batch, c.time, c.inputSize] })
  const y = c.head === 'lastSoftmax'
    ? oneHot(c.batch, c.outputs, 2, [c.batch, c.outputs])
    : c.head === 'stepSoftmax'
      ? oneHot(c.batch * c.time, c.outputs, 2, [c.batch, c.time, c.outputs])
      : np.array(benchData(c.batch * c.time * c.outputs, 2), { shape: [c.batch, c.time, c.outputs] })
  return { x, y }
}

/**
 * One cell step from the pre-activation z = x_t·Wx + h·Wh + b: Elman h' = tanh z; LSTM with
 * [i, f, g, o] = split(z), c' = σ(f)⊙c + σ(i)⊙tanh g, h' = σ(o)⊙tanh c'. Consumes z and c.
 */
const cellStep = (c: BenchConfig, z: np.Array, cell: np.Array | null): [np.Array, np.Array | null] => {
  if (c.cell === 'elman' || cell === null) return [np.tanh(z), null]
  const [i, f, g, o] = np.split(z, 4, 1)
  const next = jnn.sigmoid(f).mul(cell).add(jnn.sigmoid(i).mul(np.tanh(g)))
  return [jnn.sigmoid(o).mul(np.tanh(next.ref)), next]
}

/** The loss of one batch: recurrence over T steps (unrolled), dense head, softmax cross-entropy or MSE. */
const lossFn = (c: BenchConfig) => (p: Params, x: np.Array, y: np.Array): np.Array => {
  const projected = np.matmul(x, p.wx).add(p.b) // [B, T, G]: all input projections in one product
  let h = np.zeros([c.batch, c.hidden])
  let cell: np.Array | null = c.cell === 'lstm' ? np.zeros([c.batch, c.hidden]) : null
  const hs: np.Array[] = []
  for (let t = 0; t < c.time; t++) {
    const z = projected.ref.slice([], t).add(np.matmul(h, p.wh.ref))
    ;[h, cell] = cellStep(c, z, cell)
    if (c.head !== 'lastSoftmax') hs.push(h.ref)
  }
  projected.dispose()
  p.wh.dispose()
  tree.dispose(cell)
  const features = c.head === 'lastSoftmax' ? h : (h.dispose(), np.stack(hs, 1))
  const out = np.matmul(features, p.wo).add(p.bo)
  return c.head === 'stepLinear'
    ? np.square(out.sub(y)).mean()
    : y.mul(jnn.logSoftmax(out, -1)).sum(-1).mean().neg()
}

type State = { params: Params; m: Params; v: Params }

const adam = { beta1: 0.9, beta2: 0.999, eps: 1e-8, lr: 1e-3 }

/**
 * One training step under `jit`: gradient, then Adam m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
 * p ← p − α_t·m/(√v + ε) with the bias-corrected rate α_t = lr·√(1−β₂ᵗ)/(1−β₁ᵗ) passed in as data
 * so that the step compiles once.
 */
const makeStep = (c: BenchConfig) => jit((s: State, rate: np.Array, x: np.Array, y: np.Array) => {
  const [loss, grads] = valueAndGrad(lossFn(c))(tree.ref(s.params), x, y)
  const next: State = { params: { ...s.params }, m: { ...s.m }, v: { ...s.v } }
  for (const key of Object.keys(s.params) as (keyof Params)[]) {
    const g = grads[key]
    const m = s.m[key].mul(adam.beta1).add(g.ref.mul(1 - adam.beta1))
    const v = s.v[key].mul(adam.beta2).add(np.square(g).mul(1 - adam.beta2))
    next.params[key] = s.params[key].sub(rate.ref.mul(m.ref).div(np.sqrt(v.ref).add(adam.eps)))
    next.m[key] = m
    next.v[key] = v
  }
  rate.dispose()
  return { state: next, loss }
})

const main = async (): Promise<void> => {
  const [name = 'C1', stepsArg = '10'] = process.argv.slice(2)
  await init('wasm')
  defaultDevice('wasm')
  const c = configByName(name)
  const steps = Number(stepsArg)
  const { x, y } = batchFor(c)
  const params = initParams(c)
  let state: State = { params, m: tree.map((p: np.Array) => np.zerosLike(p), tree.ref(params)), v: tree.map((p: np.Array) => np.zerosLike(p), tree.ref(params)) }
  const step = makeStep(c)
  let t = 0 // Adam's step count
  const trainStep = async (): Promise<void> => {
    t++
    const rate = adam.lr * Math.sqrt(1 - adam.beta2 ** t) / (1 - adam.beta1 ** t)
    const out = step(state, np.array(rate), x.ref, y.ref)
    await blockUntilReady(out) // jax-js dispatches lazily: wait for the parameters and the loss
    state = out.state
    out.loss.dispose()
  }
  const warmupSteps = await warmUp(trainStep) // the first step compiles
  const times: number[] = []
  for (let i = 0; i < steps; i++) {
    const start = performance.now()
    await trainStep()
    times.push(performance.now() - start)
  }
  console.log(JSON.stringify({
    framework: 'jax-js-jit', config: c.name, medianMs: median(times), steps, warmupSteps,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }))
}

await main()
