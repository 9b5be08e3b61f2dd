/**
 * Feed-forward pieces: linear/dense (the seed's per-step output layer and dense head), embedding,
 * dropout, and whole sequence networks.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, add, grad, matmul, mean, mul, normal, randomKey, reshape, sigmoid, splitKey, square, sub, sum, tensor, treeMap,
} from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { expectClose } from './support.js'
import { checkBoth } from './gradHarness.js'

const [kParams, kX, kDrop] = splitKey(randomKey(21), 3)

describe('nn.linear and nn.dense', () => {
  it('y = x·w + b with w [in, out]; on [batch, time, in] it acts at every step (the seed\'s output layer)', () => {
    const layer = nn.dense({ inputSize: 3, outputSize: 2, activation: 'sigmoid' })
    const p = layer.init(kParams)
    expect([...p.w.shape]).toEqual([3, 2])
    expect([...p.b.shape]).toEqual([2])
    const hs = normal(kX, [4, 5, 3])
    const y = layer.apply(p, hs)
    expect([...y.shape]).toEqual([4, 5, 2])
    expectClose(y, sigmoid(add(matmul(hs, p.w), p.b)), 1e-15, 'per-step dense')
  })

  it('PyTorch-like default init U(±1/√in), seed init on request, optional bias', () => {
    const p = nn.linear({ inputSize: 16, outputSize: 8 }).init(kParams)
    for (const v of [...p.w.data, ...p.b.data]) expect(Math.abs(v)).toBeLessThanOrEqual(0.25)
    expect(Object.keys(nn.linear({ inputSize: 2, outputSize: 2, bias: false }).init(kParams))).toEqual(['w'])
  })

  it('gradient-checks at orders 1 and 2 over drawn shapes', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.nat(), (inSize, outSize, seed) => {
      const layer = nn.dense({ inputSize: inSize, outputSize: outSize, activation: 'softmax' })
      const x = normal(randomKey(seed), [2, 3, inSize])
      checkBoth((p: nn.Params, xs: Tensor) => layer.apply(p, xs), [layer.init(randomKey(seed + 1)), x], seed)
    }), { numRuns: 5, seed: 1 })
  })

  it('a clear error for the wrong feature count', () => {
    const layer = nn.linear({ inputSize: 3, outputSize: 2 })
    expect(() => layer.apply(layer.init(kParams), normal(kX, [4, 2])))
      .toThrow(/nn\.linear: expects 3 input features on the last axis, but the input is \[4, 2\] \(2 features\)/)
  })
})

describe('nn.embedding', () => {
  const table = nn.embedding({ numEmbeddings: 5, embeddingDim: 3 })
  const p = table.init(kParams)

  it('gathers rows: [batch, time] indices → [batch, time, dim]', () => {
    const out = table.apply(p, tensor([[0, 4], [4, 2]]))
    expect([...out.shape]).toEqual([2, 2, 3])
    expectClose(reshape(out, [4, 3]), reshape(tensor([...row(p.weight, 0), ...row(p.weight, 4), ...row(p.weight, 4), ...row(p.weight, 2)]), [4, 3]), 0, 'rows')
  })

  it('repeated indices add up in the gradient', () => {
    const g = grad((q: nn.Params) => sum(table.apply(q, [1, 1, 3])))(p)
    expect((g.weight.toArray() as number[][]).map((r) => r[0])).toEqual([0, 2, 0, 1, 0])
  })

  it('rejects indices out of range', () => {
    expect(() => table.apply(p, [0, 5])).toThrow(/indices must be integers in \[0, 5\); found 5 at position 1/)
    expect(() => table.apply(p, [-1])).toThrow(/found -1/)
  })
})

const row = (t: Tensor, i: number): number[] => Array.from(t.data.slice(i * t.shape[1], (i + 1) * t.shape[1]))

describe('nn.dropout', () => {
  const x = normal(kX, [200, 50])

  it('zeros about `rate` of the entries, scales the rest by 1/(1 − rate), and the same key drops the same entries', () => {
    const y = nn.dropout(kDrop, x, 0.25)
    let zeros = 0
    for (let i = 0; i < x.size; i++) {
      if (y.data[i] === 0) zeros++
      else expect(y.data[i]).toBeCloseTo(x.data[i] / 0.75, 14)
    }
    expect(zeros / x.size).toBeGreaterThan(0.23)
    expect(zeros / x.size).toBeLessThan(0.27)
    expect(Array.from(nn.dropout(kDrop, x, 0.25).data)).toEqual(Array.from(y.data))
    expect(nn.dropout(kDrop, x, 0)).toBe(x)
    expect(() => nn.dropout(kDrop, x, 1)).toThrow(/rate must be in \[0, 1\)/)
  })

  it('between stacked layers only when apply gets a key', () => {
    const lstm = nn.lstm({ inputSize: 2, hiddenSize: 8, numLayers: 2, dropout: 0.5 })
    const p = lstm.init(kParams)
    const xs = normal(kX, [3, 4, 2])
    const plain = lstm.apply(p, xs).outputs
    const noKey = nn.lstm({ inputSize: 2, hiddenSize: 8, numLayers: 2 }).apply(p, xs).outputs
    expectClose(plain, noKey, 0, 'no key, no dropout')
    const dropped = lstm.apply(p, xs, { key: kDrop }).outputs
    expect(Array.from(dropped.data)).not.toEqual(Array.from(plain.data))
    expectClose(lstm.apply(p, xs, { key: kDrop }).outputs, dropped, 0, 'same key, same dropout')
  })
})

describe('sequence networks', () => {
  it('nn.seedNetwork: per-step output [batch, time, out] and dense head [batch, out]', () => {
    const xs = normal(kX, [4, 6, 2])
    const perStep = nn.seedNetwork({ inputSize: 2, hidden: [5, 3], activations: ['tanh', 'relu'], output: { size: 2 } })
    const p = perStep.init(kParams)
    expect(Object.keys(p)).toEqual(['recurrent', 'output'])
    expect([...perStep.apply(p, xs).shape]).toEqual([4, 6, 2])
    const head = nn.seedNetwork({ inputSize: 2, hidden: [5, 3], activations: ['tanh', 'relu'], output: { size: 10, activation: 'softmax', readout: 'lastStep' } })
    const q = head.init(kParams)
    const probs = head.apply(q, xs)
    expect([...probs.shape]).toEqual([4, 10])
    for (const r of probs.toArray() as number[][]) expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14)
    const { predictions, outputs, state } = head.applyWithState(q, xs)
    expectClose(predictions, probs, 0, 'applyWithState')
    expect([...outputs.shape]).toEqual([4, 6, 3])
    expect((state.h as Tensor[]).map((h) => [...h.shape])).toEqual([[4, 5], [4, 3]])
  })

  it('nn.sequenceModel over any recurrent layer; mismatched sizes are a clear error', () => {
    const model = nn.sequenceModel({ recurrent: nn.gru({ inputSize: 3, hiddenSize: 4, bidirectional: true }), output: nn.linear({ inputSize: 8, outputSize: 1 }) })
    const p = model.init(kParams)
    expect([...model.apply(p, normal(kX, [2, 5, 3])).shape]).toEqual([2, 5, 1])
    expect(() => nn.sequenceModel({ recurrent: nn.gru({ inputSize: 3, hiddenSize: 4 }), output: nn.linear({ inputSize: 8, outputSize: 1 }) }))
      .toThrow(/the output layer expects 8 features but nn\.gru outputs 4.*inputSize: 4/)
  })

  it('trains: plain gradient steps lower an MSE loss (gradients are return values)', () => {
    const net = nn.seedNetwork({ inputSize: 1, hidden: [4], output: { size: 1 } })
    const xs = reshape(tensor(Array.from({ length: 20 }, (_, t) => Math.sin(t / 3))), [1, 20, 1])
    const ys = reshape(tensor(Array.from({ length: 20 }, (_, t) => Math.sin((t + 1) / 3))), [1, 20, 1])
    const loss = (p: nn.SequenceParams) => mean(square(sub(net.apply(p, xs), ys)))
    let p = net.init(kParams)
    const first = loss(p).item()
    for (let i = 0; i < 30; i++) p = treeMap((w: Tensor, g: Tensor) => sub(w, mul(g, 0.05)), p, grad(loss)(p))
    expect(loss(p).item()).toBeLessThan(0.5 * first)
  })
})
