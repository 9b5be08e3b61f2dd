/**
 * @file diagnostics.singularValues, stepJacobians, lyapunovExponents and recurrences: singular
 * values against PyTorch's (LAPACK) on square, wide, tall, rank-deficient and ill-conditioned
 * matrices, and invariances as properties; a linear step's Jacobians have A's singular values and
 * its Lyapunov exponents are log |eigenvalues of A| (PyTorch); a nonlinear step's Jacobians against
 * finite differences; Σ λ = mean log |det J_t|; a layer's recurrence replays the layer; the errors.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Tensor, ShapeError, ValueError, add, diagnostics, matmul, mul, nn, normal, randomKey, reshape, slice, splitKey, stack, tanh, tensor,
  transpose, zeros,
} from '../../src/index.js'

const { singularValues, stepJacobians, lyapunovExponents, recurrences } = diagnostics

interface Flat { shape: number[]; data: number[] }
const fixture = JSON.parse(readFileSync('test/fixtures/torch/diagnostics/diagnostics.json', 'utf8')) as {
  svd: { matrix: Flat; singularValues: number[] }[]
  lyapunov: { a: Flat; eigenvalues: number[]; exponents: number[]; singularValues: number[] }[]
}
const of = (f: Flat): Tensor => reshape(tensor(f.data), f.shape)

/** |a − e| ≤ rtol·|e| + atol·scale, entry by entry. */
const expectClose = (actual: readonly number[], expected: readonly number[], rtol: number, atol = 0): void => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]), `entry ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(rtol * Math.abs(expected[i]) + atol))
}

const keys = splitKey(randomKey(4), 6)

describe('diagnostics.singularValues', () => {
  it("equals PyTorch's svdvals, largest first (rank-deficient and 12 decades of conditioning included)", () => {
    for (const c of fixture.svd) {
      const [rows, cols] = c.matrix.shape
      const largest = c.singularValues[0]
      // The ill-conditioned matrix was formed by a product, so its smallest values are only known to ~1e-16·σ_max.
      expectClose(singularValues(c.matrix.data, rows, cols), c.singularValues, 1e-12, 1e-14 * largest)
    }
  })

  it('is unchanged by transposition and by a rotation of rows, and its squares sum to the squared Frobenius norm', () => {
    const entries = fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 12, maxLength: 12 })
    fc.assert(fc.property(entries, fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }), (m, angle) => {
      const values = singularValues(m, 4, 3)
      expect(values.every((v, i) => v >= 0 && (i === 0 || v <= values[i - 1]))).toBe(true)
      const transposed = Array.from({ length: 12 }, (_, k) => m[(k % 4) * 3 + Math.floor(k / 4)])
      const scale = Math.max(1, values[0])
      expectClose(singularValues(transposed, 3, 4), values, 1e-12, 1e-13 * scale)
      const [c, s] = [Math.cos(angle), Math.sin(angle)]
      const rotated = [...m]
      for (let j = 0; j < 3; j++) {
        rotated[j] = c * m[j] - s * m[3 + j]
        rotated[3 + j] = s * m[j] + c * m[3 + j]
      }
      expectClose(singularValues(rotated, 4, 3), values, 1e-12, 1e-13 * scale)
      const frobenius = m.reduce((t, v) => t + v * v, 0)
      expect(Math.abs(values.reduce((t, v) => t + v * v, 0) - frobenius)).toBeLessThanOrEqual(1e-12 * Math.max(1, frobenius))
    }), { numRuns: 50, seed: 19 })
  })

  it('names the shape it expected', () => {
    expect(() => singularValues([1, 2, 3], 2, 2)).toThrow(ShapeError)
    expect(() => singularValues([1, 2, 3], 2, 2)).toThrow('diagnostics.singularValues: expected 2 × 2 = 4 row-major entries, got 3.')
  })
})

describe('diagnostics.stepJacobians and lyapunovExponents', () => {
  const linearStep = (a: Tensor) => (c: Tensor, x: Tensor): [Tensor, Tensor] => {
    const next = add(matmul(c, a), x)
    return [next, next]
  }

  it("of c_t = c_{t−1}·A + x_t: every step's singular values are A's, the exponents log |eigenvalues of A| (PyTorch)", () => {
    for (const c of fixture.lyapunov) {
      const a = of(c.a)
      const n = a.shape[0]
      const xs = normal(keys[0], [400, 1, n])
      const values = stepJacobians(linearStep(a), zeros([1, n]), slice(xs, [[0, 3]]))
      expect(values.length).toBe(3)
      values.forEach((v) => expectClose(v, c.singularValues, 1e-12))
      // A finite trajectory's estimate converges as 1/T (the change of basis to A's eigenvectors): 400 steps are within 5e-4.
      const exponents = lyapunovExponents(linearStep(a), zeros([1, n]), xs)
      expectClose(exponents, c.exponents, 0, 2e-3)
      expectClose(lyapunovExponents(linearStep(a), zeros([1, n]), xs, { count: 2 }), exponents.slice(0, 2), 1e-12, 1e-12)
      // Without inputs (xs null, length given) the Jacobians, and so the exponents, are the same.
      expectClose(lyapunovExponents((h: Tensor) => [matmul(h, a), null], zeros([1, n]), null, { length: 400 }), exponents, 1e-12, 1e-12)
    }
  })

  const n = 3
  const w = mul(normal(keys[1], [n, n]), 1.2)
  const u = normal(keys[2], [2, n])
  const tanhStep = (c: Tensor, x: Tensor): [Tensor, Tensor] => {
    const next = tanh(add(matmul(c, w), matmul(x, u)))
    return [next, next]
  }
  const xs = normal(keys[3], [40, 1, 2])
  const c0 = normal(keys[4], [1, n])

  it("of a tanh cell: each step's singular values are those of the finite-difference Jacobian", () => {
    const eps = 1e-6
    let c = c0
    const expected: number[][] = []
    for (let t = 0; t < 5; t++) {
      const x = reshape(slice(xs, [[t, t + 1]]), [1, 2])
      const jacobian = new Float64Array(n * n)
      for (let j = 0; j < n; j++) {
        const bump = zeros([1, n])
        bump.data[j] = eps
        const [plus] = tanhStep(add(c, bump), x)
        const [minus] = tanhStep(add(c, mul(bump, -1)), x)
        for (let i = 0; i < n; i++) jacobian[i * n + j] = (plus.data[i] - minus.data[i]) / (2 * eps)
      }
      expected.push(singularValues(jacobian, n, n))
      c = tanhStep(c, x)[0]
    }
    stepJacobians(tanhStep, c0, slice(xs, [[0, 5]])).forEach((v, t) => expectClose(v, expected[t], 1e-7, 1e-9))
  })

  it('sum to the mean of log |det J_t| over the trajectory (all n exponents), and follow reverse and timeAxis as scan does', () => {
    const exponents = lyapunovExponents(tanhStep, c0, xs)
    const logDet = stepJacobians(tanhStep, c0, xs).reduce((t, v) => t + v.reduce((s, sigma) => s + Math.log(sigma), 0), 0) / 40
    expect(Math.abs(exponents.reduce((t, l) => t + l, 0) - logDet)).toBeLessThan(1e-10)
    expect(exponents.every((l, i) => i === 0 || l <= exponents[i - 1])).toBe(true)
    const flipped = stack(Array.from({ length: 40 }, (_, t) => reshape(slice(xs, [[39 - t, 40 - t]]), [1, 2])))
    expectClose(stepJacobians(tanhStep, c0, xs, { reverse: true }).flat(), stepJacobians(tanhStep, c0, flipped).flat(), 1e-12, 1e-15)
    expectClose(stepJacobians(tanhStep, c0, transpose(xs, [1, 0, 2]), { timeAxis: 1 }).flat(), stepJacobians(tanhStep, c0, xs).flat(), 1e-12, 1e-15)
  })

  it('say what is wrong: count outside 1 … n, a carry that is not [1, n], a step that changes it, no steps', () => {
    expect(() => lyapunovExponents(tanhStep, c0, xs, { count: 4 })).toThrow(ValueError)
    expect(() => lyapunovExponents(tanhStep, c0, xs, { count: 0 })).toThrow(
      'diagnostics.lyapunovExponents: count must be an integer from 1 to 3 (the size of the carry [1, 3]), got 0.',
    )
    expect(() => stepJacobians(tanhStep, zeros([2, n]), xs)).toThrow('diagnostics.stepJacobians: carry0 must have shape [1, n], got [2, 3].')
    expect(() => stepJacobians((c: Tensor) => [reshape(c, [n, 1]), null], c0, xs)).toThrow(
      'diagnostics.stepJacobians: the carry returned by step 0 must have shape [1, 3], got [3, 1].',
    )
    expect(() => lyapunovExponents(tanhStep, c0, slice(xs, [[0, 0]]))).toThrow('diagnostics.lyapunovExponents: the trajectory has no steps')
  })
})

describe('diagnostics.recurrences', () => {
  it("replays a layer's first sequence: stepping each recurrence from its carry0 over its xs gives the layer's outputs (masked, both directions)", () => {
    const layer = nn.lstm({ inputSize: 2, hiddenSize: 3, bidirectional: true })
    const params = layer.init(keys[5], { dtype: 'float64' })
    const x = normal(keys[0], [2, 5, 2])
    const lengths = [4, 5]
    const { outputs } = layer.apply(params, x, { lengths })
    const found = recurrences((p: nn.Params) => layer.apply(p, x, { lengths }).outputs, params)
    expect(found.map((r) => [r.carry0.shape, r.length])).toEqual([[[1, 6], 4], [[1, 6], 4]])
    found.forEach((r, direction) => {
      let carry = r.carry0
      const ys: Tensor[] = []
      for (let t = 0; t < r.length; t++) {
        const [next, y] = r.step(carry, reshape(slice(r.xs as Tensor, [[t, t + 1]]), (r.xs as Tensor).shape.slice(1)))
        carry = next
        ys.push(y as Tensor)
      }
      // The backward direction ran its real steps from the last one.
      const steps = direction === 0 ? [0, 1, 2, 3] : [3, 2, 1, 0]
      steps.forEach((t, i) => expectClose(Array.from(ys[i].data), Array.from(slice(outputs, [[0, 1], [t, t + 1], [3 * direction, 3 * direction + 3]]).data), 1e-12, 1e-14))
    })
    // The exponents of a layer's recurrence come out of the same pieces.
    const [forwards] = found
    expect(lyapunovExponents(forwards.step, forwards.carry0, forwards.xs, { count: 2 }).length).toBe(2)
  })
})
