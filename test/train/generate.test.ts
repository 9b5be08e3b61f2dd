import { describe, expect, it } from 'vitest'
import {
  type Tensor, add, argmax, concat, expandDims, matmul, normal, oneHot, randomKey, slice, splitKey, squeeze, stack, tanh,
  tensor, transpose, unstack, zeros,
} from '../../src/index.js'
import { type SequenceFn, extrapolate, generate, predict, sample } from '../../src/train/index.js'
import { expectAllClose } from '../helpers/allClose.js'

interface RnnParams {
  readonly wIn: Tensor
  readonly wRec: Tensor
  readonly wOut: Tensor
}

/** h_t = tanh(x_t·wIn + h_{t−1}·wRec), y_t = h_t·wOut: a stateful model in the nn convention. */
const rnn: SequenceFn<RnnParams, Tensor> = (p, xs, { initialState }) => {
  let h = initialState ?? zeros([xs.shape[0], p.wRec.shape[0]])
  const ys: Tensor[] = []
  for (const x of unstack(transpose(xs, [1, 0, 2]))) {
    h = tanh(add(matmul(x, p.wIn), matmul(h, p.wRec)))
    ys.push(matmul(h, p.wOut))
  }
  return { outputs: transpose(stack(ys, 0), [1, 0, 2]), state: h }
}

const makeParams = (features: number, hidden: number, seed: number): RnnParams => {
  const [a, b, c] = splitKey(randomKey(seed), 3)
  return { wIn: normal(a, [features, hidden]), wRec: normal(b, [hidden, hidden]), wOut: normal(c, [hidden, features]) }
}

/** The last time step of [batch, time, f] as [batch, f]. */
const last = (ys: Tensor): Tensor => squeeze(slice(ys, [[0, ys.shape[0]], [ys.shape[1] - 1, ys.shape[1]]]), 1)

describe('train.extrapolate', () => {
  it('feeds each output back as the next input: equals re-running the growing sequence from scratch', () => {
    const params = makeParams(2, 4, 1)
    const xs = normal(randomKey(2), [3, 5, 2])
    const { fitted, outputs, inputs } = extrapolate(rnn, params, xs, 4)
    // The manual loop keeps no state: it appends the last output and runs everything again.
    let sequence = xs
    const expected: Tensor[] = []
    for (let i = 0; i < 4; i++) {
      const y = last(rnn(params, sequence, {}).outputs)
      sequence = concat([sequence, expandDims(y, 1)], 1)
      expected.push(last(rnn(params, sequence, {}).outputs))
    }
    expectAllClose(fitted, rnn(params, xs, {}).outputs)
    expectAllClose(outputs as Tensor, stack(expected, 1))
    expectAllClose(inputs as Tensor, slice(sequence, [[0, 3], [5, 9]]))
  })

  it('maps outputs to inputs with feedback, and explains a size mismatch', () => {
    const params = { ...makeParams(2, 3, 4), wOut: normal(randomKey(9), [3, 1]) }
    const xs = normal(randomKey(5), [1, 4, 2])
    expect(() => extrapolate(rnn, params, xs, 2)).toThrow(/fed-back input must be \[batch, features\] = \[1, 2\], got \[1, 1\]. .*options.feedback/)
    const { outputs } = extrapolate(rnn, params, xs, 2, { feedback: (y) => concat([y, y], 1) })
    expect(outputs?.shape).toEqual([1, 2, 1])
    expect(extrapolate(rnn, params, xs, 0, { feedback: (y) => y }).outputs).toBeNull()
  })
})

describe('train.sample and train.generate', () => {
  const vocab = 5
  const params = makeParams(vocab, 6, 7)
  const prime = oneHot(tensor([[0, 3], [2, 1]]), vocab) // [batch 2, time 2, 5]

  it('the same key gives the same tokens; another key gives others', () => {
    const a = generate(rnn, params, { prime, steps: 20, key: randomKey(1) })
    expect(a.tokens.map((row) => row.length)).toEqual([20, 20])
    expect(generate(rnn, params, { prime, steps: 20, key: randomKey(1) }).tokens).toEqual(a.tokens)
    expect(generate(rnn, params, { prime, steps: 20, key: randomKey(2) }).tokens).not.toEqual(a.tokens)
  })

  it('draws each token from the last output and feeds it back one-hot: equals a manual loop', () => {
    const key = randomKey(3)
    const steps = 6
    const { tokens, state } = generate(rnn, params, { prime, steps, key, temperature: 0.7 })
    const keys = splitKey(key, steps)
    let sequence = prime
    const manual: number[][] = [[], []]
    for (let i = 0; i < steps; i++) {
      const drawn = sample(keys[i], last(rnn(params, sequence, {}).outputs), { temperature: 0.7 })
      drawn.forEach((t, b) => manual[b].push(t))
      sequence = concat([sequence, expandDims(oneHot(drawn, vocab), 1)], 1)
    }
    expect(tokens).toEqual(manual)
    expectAllClose(state, rnn(params, sequence, {}).state)
  })

  it('temperature → 0 approaches the argmax; temperature 0 is the argmax', () => {
    const logits = tensor([[1, 2, 0.5, 1.9], [0.3, -1, 0.2, 0.1]])
    const greedy = Array.from(argmax(logits).data)
    expect(sample(randomKey(0), logits, { temperature: 0 })).toEqual(greedy)
    const rows = 300
    const many = concat(Array.from({ length: rows / 2 }, () => logits), 0)
    const draws = (temperature: number) => sample(randomKey(4), many, { temperature })
    const agreement = (temperature: number) => draws(temperature).filter((c, i) => c === greedy[i % 2]).length / rows
    expect(agreement(0.01)).toBe(1)
    expect(agreement(1)).toBeLessThan(0.6)
    expect(agreement(0.2)).toBeGreaterThan(agreement(1))
    // At temperature 1 the frequencies follow softmax(logits) (row 0: p(1) ≈ 0.36).
    const ones = draws(1).filter((c, i) => i % 2 === 0 && c === 1).length / (rows / 2)
    expect(ones).toBeGreaterThan(0.25)
    expect(ones).toBeLessThan(0.47)
    expect(() => sample(randomKey(0), logits, { temperature: -1 })).toThrow(/temperature must be a finite number ≥ 0/)
  })

  it('greedy generation (temperature 0) follows the argmax of each step', () => {
    const { tokens } = generate(rnn, params, { prime, steps: 5, key: randomKey(0), temperature: 0 })
    let sequence = prime
    for (let i = 0; i < 5; i++) {
      const next = Array.from(argmax(last(rnn(params, sequence, {}).outputs)).data)
      expect(tokens.map((row) => row[i])).toEqual(next)
      sequence = concat([sequence, expandDims(oneHot(next, vocab), 1)], 1)
    }
  })
})

describe('train.predict', () => {
  it('is the one-hot argmax over the last axis, first index on ties, in the input dtype', () => {
    expect(predict(tensor([[0.1, 0.7, 0.2], [0.5, 0.5, 0]])).toArray()).toEqual([[0, 1, 0], [1, 0, 0]])
    const perStep = predict(tensor([[[3, 1], [0, 2]]], { dtype: 'float32' }))
    expect(perStep.toArray()).toEqual([[[1, 0], [0, 1]]])
    expect(perStep.dtype).toBe('float32')
  })
})
