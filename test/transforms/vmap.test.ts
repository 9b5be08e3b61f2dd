/**
 * @file vmap through `scan` and the built-in recurrent layers: the batched scan (a loop step, a
 * traced step, masks, reverse, batch-major, last output only) and every layer (with their sequence
 * kernels, stacked and bidirectional ones, a shared mask) equal the loop over examples, forwards
 * and as per-example gradients `vmap(grad(loss), { inAxes: [null, 0, 0] })`. Each example is
 * itself a batch of two sequences, so the kernels' own rows and vmap's examples are told apart.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, add, cast, grad, losses, matmul, mul, nn, normal, randomKey, scan, splitKey, stack, sum, tanh, tensor, transpose, treeLeaves,
  unstack, vmap,
} from '../../src/index.js'

const SEED = 20261210

/** float64 round-off: the batched products and sums may group terms differently from the loop. */
const TOLERANCE = { atol: 1e-12, rtol: 1e-10 }

const expectTreesClose = (actual: unknown, expected: unknown, what: string, tol = TOLERANCE): void => {
  const [a, e] = [treeLeaves(actual), treeLeaves(expected)]
  expect(a.length, `${what}: leaves`).toBe(e.length)
  a.forEach((x, j) => {
    expect(x.shape, `${what}: leaf ${j} shape`).toEqual(e[j].shape)
    x.data.forEach((v, i) => {
      const w = e[j].data[i]
      if (!(Math.abs(v - w) <= tol.atol + tol.rtol * Math.abs(w))) expect.fail(`${what}: leaf ${j}[${i}] is ${v}, expected ${w}`)
    })
  })
}

/**
 * The loop vmap stands for: `f` on each example (along axis 0 of the batched arguments, which are
 * tensors; `null`: an argument shared by all), each output leaf stacked over the examples.
 */
const loop = (f: (...args: any[]) => unknown, args: readonly unknown[], inAxes: readonly (0 | null)[]): Tensor[] => {
  const slices = args.map((a, i) => (inAxes[i] === null ? null : unstack(a as Tensor)))
  const count = slices.find((s) => s !== null)!.length
  const outs = Array.from({ length: count }, (_, k) => treeLeaves(f(...args.map((a, i) => slices[i]?.[k] ?? a))))
  return outs[0].map((_, j) => stack(outs.map((o) => o[j]), 0))
}

// ---- scan ----

describe('vmap of scan', () => {
  const [k1, k2, k3, k4] = splitKey(randomKey(7), 4)
  const w = normal(k1, [3, 4])
  const u = mul(normal(k2, [4, 4]), 0.5)
  /** A tanh RNN step over rows `[rows, 3]` → `[rows, 4]`. */
  const step = (h: Tensor, x: Tensor) => {
    const next = tanh(add(matmul(x, w), matmul(h, u)))
    return [next, mul(next, 2)] as const
  }
  const xs = normal(k3, [3, 5, 2, 3]) // 3 examples of [time 5, rows 2, 3]
  const h0 = normal(k4, [3, 2, 4])
  // each example's own mask, [time, rows, 1]
  const masks = tensor(Float64Array.from({ length: 3 * 5 * 2 }, (_, i) => ((i * 7) % 5 < 3 ? 1 : 0)), { shape: [3, 5, 2, 1] })

  const variants = fc.record({
    reverse: fc.boolean(), batchMajor: fc.boolean(), last: fc.boolean(), masked: fc.boolean(), sharedInit: fc.boolean(), traceStep: fc.boolean(),
  })

  it('equals the loop over examples, with every option; so do its per-example gradients', () => {
    fc.assert(fc.property(variants, (v) => {
      const run = (h: Tensor, x: Tensor, m: Tensor) => scan(step, h, v.batchMajor ? swap(x) : x, {
        reverse: v.reverse, timeAxis: v.batchMajor ? 1 : 0, outputs: v.last ? 'last' : 'all', traceStep: v.traceStep,
        ...(v.masked ? { mask: v.batchMajor ? swap(m) : m } : {}),
      })
      const init = v.sharedInit ? unstack(h0)[0] : h0
      const inAxes = [v.sharedInit ? null : 0, 0, 0] as const
      expectTreesClose(vmap(run, { inAxes: [...inAxes] })(init, xs, masks), loop(run, [init, xs, masks], inAxes), 'scan')
      const loss = (h: Tensor, x: Tensor, m: Tensor) => {
        const [last, ys] = run(h, x, m)
        return add(sum(mul(last, last)), sum(tanh(ys)))
      }
      const g = grad(loss, { argnums: [0, 1] })
      expectTreesClose(vmap(g, { inAxes: [...inAxes] })(init, xs, masks), loop(g, [init, xs, masks], inAxes), 'gradients')
    }), { numRuns: 12, seed: SEED })
  })

  it('the weights a step closes over get per-example gradients too', () => {
    const loss = (weights: Tensor, h: Tensor, x: Tensor) => {
      const cell = (c: Tensor, xt: Tensor) => {
        const next = tanh(add(matmul(xt, weights), matmul(c, u)))
        return [next, next] as const
      }
      return sum(scan(cell, h, x)[1])
    }
    const perExample = vmap(grad(loss), { inAxes: [null, 0, 0] })(w, h0, xs)
    expect(perExample.shape).toEqual([3, 3, 4])
    expectTreesClose(perExample, loop(grad(loss), [w, h0, xs], [null, 0, 0]), 'per-example weight gradients')
  })
})

/** `[time, rows, …]` ↔ `[rows, time, …]`. */
const swap = (x: Tensor): Tensor => transpose(x, [1, 0, 2])

// ---- the built-in layers ----

const [inputs, hidden, time, rows, examples] = [3, 4, 5, 2, 3]

const layers: readonly [string, () => nn.RecurrentLayer<any>][] = [
  ['nn.lstm', () => nn.lstm({ inputSize: inputs, hiddenSize: hidden })],
  ['nn.gru', () => nn.gru({ inputSize: inputs, hiddenSize: hidden })],
  ['nn.rnn', () => nn.rnn({ inputSize: inputs, hiddenSize: hidden })],
  ['nn.elman', () => nn.elman({ inputSize: inputs, hiddenSize: hidden })],
  ['nn.minGru', () => nn.minGru({ inputSize: inputs, hiddenSize: hidden })],
  ['nn.minGru (sequential)', () => nn.minGru({ inputSize: inputs, hiddenSize: hidden, mode: 'sequential' })],
  ['nn.lru', () => nn.lru({ inputSize: inputs, hiddenSize: hidden })],
  ['nn.lstm, two layers, bidirectional', () => nn.lstm({ inputSize: inputs, hiddenSize: hidden, numLayers: 2, bidirectional: true })],
]

describe.each(layers)('vmap of %s', (_, make) => {
  const layer = make()
  const [k1, k2, k3] = splitKey(randomKey(11), 3)
  const params = layer.init(k1)
  const xs = normal(k2, [examples, rows, time, inputs]) // each example: a batch of 2 sequences
  const targets = normal(k3, [examples, rows, time, layer.outputSize])
  // One mask for every example (the layers read masks as values, so vmap needs them shared).
  const options = { lengths: [time, 3] }

  it('forwards: outputs and final state equal the loop over examples, with and without a mask', () => {
    for (const opts of [{}, options]) {
      const f = (x: Tensor) => layer.apply(params, x, opts)
      expectTreesClose(vmap(f)(xs), loop(f, [xs], [0]), `forward ${JSON.stringify(opts)}`)
    }
  })

  it('per-example gradients equal the loop of gradients, with a mask', () => {
    const loss = (p: nn.Params, x: Tensor, y: Tensor) => losses.mse(layer.apply(p, x, options).outputs, y)
    const perExample = vmap(grad(loss), { inAxes: [null, 0, 0] })(params, xs, targets)
    treeLeaves(perExample).forEach((g, j) => expect(g.shape).toEqual([examples, ...treeLeaves(params)[j].shape]))
    expectTreesClose(perExample, loop(grad(loss), [params, xs, targets], [null, 0, 0]), 'per-example gradients')
  })
})

describe('vmap of a layer in float32', () => {
  it('per-example LSTM gradients through the kernel agree with the loop to float32 round-off', () => {
    const layer = nn.lstm({ inputSize: inputs, hiddenSize: hidden })
    const params = layer.init(randomKey(3), { dtype: 'float32' })
    const xs = cast(normal(randomKey(4), [examples, rows, time, inputs]), 'float32')
    const loss = (p: nn.Params, x: Tensor) => sum(layer.apply(p, x).outputs)
    expectTreesClose(vmap(grad(loss), { inAxes: [null, 0] })(params, xs), loop(grad(loss), [params, xs], [null, 0]), 'float32', { atol: 1e-5, rtol: 1e-5 })
  })
})

describe('vmap: values that differ per example cannot be read as numbers', () => {
  const xs = normal(randomKey(5), [examples, rows, time, inputs])

  it('item() and toArray() of a batched tensor throw, naming vmap and the batch', () => {
    expect(() => vmap((x: Tensor) => tensor(sum(x).item()))(xs)).toThrow(/vmap: item\(\) read a tensor that holds one value per example \(3 examples/)
    expect(() => vmap((x: Tensor) => tensor(x.toArray() as number[][][]))(xs)).toThrow(/vmap: toArray\(\)/)
  })

  it('a mask or lengths that differ per example is refused by the layers, not read as NaN', () => {
    const layer = nn.lstm({ inputSize: inputs, hiddenSize: hidden })
    const params = layer.init(randomKey(6))
    const masks = tensor(Float64Array.from({ length: examples * rows * time }, (_, i) => (i % time < 3 ? 1 : 0)), { shape: [examples, rows, time] })
    const lengths = tensor([[time, 3], [2, time], [1, 1]])
    expect(() => vmap((x: Tensor, m: Tensor) => layer.apply(params, x, { mask: m }).outputs)(xs, masks)).toThrow(/mask differs between the examples of a vmap/)
    expect(() => vmap((x: Tensor, l: Tensor) => layer.apply(params, x, { lengths: l }).outputs)(xs, lengths)).toThrow(/lengths differs between the examples of a vmap/)
  })
})
