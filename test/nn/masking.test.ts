/**
 * Variable-length sequences: padded steps neither update the state nor produce output, each
 * sequence's final state is its state at its own last real step, and the reverse direction starts
 * there. The reference for every check is the same sequence run alone, unpadded.
 */
import { describe, expect, it } from 'vitest'
import {
  type Tensor, ValueError, ShapeError, add, concat, grad, mul, normal, randomKey, reshape, slice, splitKey, sum, tensor, where, zeros,
} from '../../src/index.js'
import * as nn from '../../src/nn/index.js'
import { expectClose } from './support.js'

const [kParams, kX, kNoise, kW] = splitKey(randomKey(11), 4)
const lengths = [3, 5, 1]
const [B, T, F] = [3, 5, 2]
const padMask = nn.maskFromLengths(lengths, T)
/** Inputs with garbage (not zeros) in the padding, to show it is ignored. */
const x = normal(kX, [B, T, F])

const row = (t: Tensor, b: number, time?: number): Tensor =>
  slice(t, [[b, b + 1], [0, time ?? t.shape[1]]])
const stateRow = (s: Tensor, b: number): Tensor => slice(s, [[0, s.shape[0]], [b, b + 1]])

const layers = [
  ['lstm, 2 layers, bidirectional', nn.lstm({ inputSize: F, hiddenSize: 3, numLayers: 2, bidirectional: true })],
  ['gru, bidirectional', nn.gru({ inputSize: F, hiddenSize: 4, bidirectional: true })],
  ['rnn relu, 2 layers', nn.rnn({ inputSize: F, hiddenSize: 3, numLayers: 2, nonlinearity: 'relu' })],
  ['elman, bidirectional', nn.bidirectional(nn.elman({ inputSize: F, hiddenSize: 3, activation: 'tanh' }))],
  ['stacked elman of two sizes', nn.stacked([nn.elman({ inputSize: F, hiddenSize: 3 }), nn.elman({ inputSize: 3, hiddenSize: 2, activation: 'sigmoid' })])],
] as const

describe.each(layers)('masking: %s', (_name, layer) => {
  const l = layer as nn.RecurrentLayer<any>
  const p = l.init(kParams)
  const masked = l.apply(p, x, { lengths })

  it('padded steps output exactly 0', () => {
    const m = reshape(padMask, [B, T, 1])
    expect(Array.from(where(m, 0, masked.outputs).data).every((v) => v === 0)).toBe(true)
  })

  it('each sequence matches running it alone, unpadded: outputs and final state (both directions)', () => {
    lengths.forEach((n, b) => {
      const alone = l.apply(p, row(x, b, n))
      expectClose(row(masked.outputs, b, n), alone.outputs, 1e-14, `outputs of sequence ${b}`)
      for (const k of Object.keys(alone.state)) {
        const got = Array.isArray(masked.state[k]) ? (masked.state[k] as Tensor[]).map((s) => slice(s, [[b, b + 1]])) : [stateRow(masked.state[k], b)]
        const want = Array.isArray(alone.state[k]) ? alone.state[k] as Tensor[] : [alone.state[k] as Tensor]
        got.forEach((g, i) => expectClose(g, want[i], 1e-14, `state.${k} of sequence ${b}`))
      }
    })
  })

  it('padding values change nothing, and get zero gradient', () => {
    const m = reshape(padMask, [B, T, 1])
    const noisy = where(m, x, mul(normal(kNoise, [B, T, F]), 100))
    const again = l.apply(p, noisy, { lengths })
    expectClose(again.outputs, masked.outputs, 0, 'outputs')
    const w = normal(kW, masked.outputs.shape)
    const gx = grad((xs: Tensor) => sum(mul(l.apply(p, xs, { lengths }).outputs, w)))(noisy)
    expect(Array.from(where(m, 0, gx).data).every((v) => v === 0)).toBe(true)
  })

  it('a mask tensor is the same as lengths; an all-ones mask is the same as none', () => {
    expectClose(l.apply(p, x, { mask: padMask }).outputs, masked.outputs, 0, 'mask vs lengths')
    expectClose(l.apply(p, x, { lengths: [T, T, T] }).outputs, l.apply(p, x).outputs, 0, 'full lengths vs none')
  })
})

describe('masking details', () => {
  const elman = nn.elman({ inputSize: F, hiddenSize: 3, activation: 'tanh' })
  const p = elman.init(kParams)

  it('a hole in the mask keeps the carry: [x0, pad, x2] behaves as [x0, x2]', () => {
    const three = slice(x, [[0, 1], [0, 3]])
    const holed = elman.apply(p, three, { mask: tensor([[1, 0, 1]]) })
    const skipped = elman.apply(p, concat([slice(three, [[0, 1], [0, 1]]), slice(three, [[0, 1], [2, 3]])], 1))
    expectClose(holed.state.h, skipped.state.h, 1e-15, 'final state')
  })

  it('reversed, each sequence starts at its own last real step (and the seed\'s first step is that step)', () => {
    const reversed = elman.apply(p, x, { lengths, reverse: true })
    lengths.forEach((n, b) => {
      const steps = Array.from({ length: n }, (_, t) => slice(x, [[b, b + 1], [n - 1 - t, n - t]]))
      const flipped = concat(steps, 1)
      const forward = elman.apply(p, flipped)
      expectClose(stateRow(reversed.state.h, b), forward.state.h, 1e-15, `reverse state of ${b}`)
    })
  })

  it('a sequence of length 0 outputs zeros and keeps its initial state', () => {
    const h0 = normal(kNoise, [1, B, 3])
    const { outputs, state } = elman.apply(p, x, { lengths: [0, 2, 5], initialState: { h: h0 } })
    expect(Array.from(row(outputs, 0).data).every((v) => v === 0)).toBe(true)
    expectClose(stateRow(state.h, 0), stateRow(h0, 0), 0, 'state of the empty sequence')
  })

  it('lastStep reads each sequence\'s own last real step', () => {
    const ys = add(reshape(tensor(Array.from({ length: B * T }, (_, i) => i)), [B, T, 1]), zeros([B, T, 2]))
    expect(nn.lastStep(ys, { lengths }).toArray()).toEqual([[2, 2], [9, 9], [10, 10]])
    expect(nn.lastStep(ys).toArray()).toEqual([[4, 4], [9, 9], [14, 14]])
    expect(nn.lastStep(ys, { lengths: [0, 1, 1] }).toArray()).toEqual([[0, 0], [5, 5], [10, 10]])
  })

  it('a last-step readout uses each sequence\'s own last step', () => {
    const net = nn.seedNetwork({ inputSize: F, hidden: [3], output: { size: 2, activation: 'softmax', readout: 'lastStep' } })
    const q = net.init(kParams)
    const out = net.apply(q, x, { lengths })
    expect([...out.shape]).toEqual([B, 2])
    lengths.forEach((n, b) => expectClose(slice(out, [[b, b + 1]]), net.apply(q, row(x, b, n)), 1e-15, `prediction ${b}`))
  })

  it('rejects bad lengths and masks', () => {
    expect(() => elman.apply(p, x, { lengths: [3, 6, 1] })).toThrow(ValueError)
    expect(() => elman.apply(p, x, { lengths: [3, 6, 1] })).toThrow(/lengths\[1\] is 6; each length must be an integer in \[0, 5\]/)
    expect(() => elman.apply(p, x, { lengths: [3, 1] })).toThrow(/one length per sequence \(\[3\]\)/)
    expect(() => elman.apply(p, x, { mask: zeros([3, 4]) })).toThrow(ShapeError)
    expect(() => elman.apply(p, x, { mask: zeros([3, 4]) })).toThrow(/mask must be \[batch, time\] = \[3, 5\].*got \[3, 4\]/)
    expect(() => elman.apply(p, x, { mask: padMask, lengths })).toThrow(/either mask or lengths/)
  })
})
