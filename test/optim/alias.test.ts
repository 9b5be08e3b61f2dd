import { describe, expect, it } from 'vitest'
import { type Tensor, add, grad, mul, square, sum, tensor } from '../../src/index.js'
import * as optim from '../../src/optim/index.js'

/** Elementwise |a − e| ≤ tol, reporting the worst index. */
const expectClose = (actual: Tensor | number[], expected: readonly number[], tol = 1e-12): void => {
  const values = Array.isArray(actual) ? actual : Array.from(actual.data)
  expect(values.length).toBe(expected.length)
  values.forEach((v, i) => {
    if (!(Math.abs(v - expected[i]) <= tol)) expect.fail(`index ${i}: got ${v}, expected ${expected[i]} (tol ${tol})`)
  })
}

type Params = { w: Tensor }
const p0: Params = { w: tensor([1, -1]) }

/** Two updates with the given gradients; returns both updates and the final parameters. */
const twoSteps = (opt: optim.GradientTransformation<any>, g1: number[], g2: number[]) => {
  let params = p0
  let state = opt.init(params)
  const updates: Tensor[] = []
  for (const g of [g1, g2]) {
    const [u, next] = opt.update({ w: tensor(g) }, state, params)
    updates.push(u.w)
    params = optim.applyUpdates(params, u)
    state = next
  }
  return { updates, params: params.w }
}

describe('optim: each optimiser follows its update rule on a hand-computed two-step example', () => {
  // Common setting: η = 0.1, w₀ = [1, −1]; the gradients are given, not computed from a loss.

  it('sgd: u = −η g', () => {
    // g₁ = [3, −4] → u₁ = [−0.3, 0.4];  g₂ = [4, 3] → u₂ = [−0.4, −0.3];  w₂ = [1 − 0.7, −1 + 0.1] = [0.3, −0.9]
    const r = twoSteps(optim.sgd(0.1), [3, -4], [4, 3])
    expectClose(r.updates[0], [-0.3, 0.4])
    expectClose(r.updates[1], [-0.4, -0.3])
    expectClose(r.params, [0.3, -0.9])
  })

  it('momentum (μ = 0.9): m ← μ m + g, u = −η m', () => {
    // m₁ = g₁ = [3, −4] → u₁ = [−0.3, 0.4]
    // m₂ = 0.9·[3, −4] + [4, 3] = [2.7 + 4, −3.6 + 3] = [6.7, −0.6] → u₂ = [−0.67, 0.06]
    // w₂ = [1 − 0.3 − 0.67, −1 + 0.4 + 0.06] = [0.03, −0.54]
    const r = twoSteps(optim.momentum(0.1, { momentum: 0.9 }), [3, -4], [4, 3])
    expectClose(r.updates[0], [-0.3, 0.4])
    expectClose(r.updates[1], [-0.67, 0.06])
    expectClose(r.params, [0.03, -0.54])
  })

  it('momentum with nesterov: u = −η (g + μ m)', () => {
    // μ = 0.5, one coordinate: m₁ = 2, u₁ = −0.1·(2 + 0.5·2) = −0.3;  m₂ = 0.5·2 + 4 = 5, u₂ = −0.1·(4 + 2.5) = −0.65
    const opt = optim.momentum(0.1, { momentum: 0.5, nesterov: true })
    let state = opt.init({ w: tensor([0]) })
    const [u1, s1] = opt.update({ w: tensor([2]) }, state)
    const [u2] = opt.update({ w: tensor([4]) }, (state = s1))
    expectClose(u1.w, [-0.3])
    expectClose(u2.w, [-0.65])
  })

  it('adagrad (ε = 1, outside the root): G ← G + g², u = −η g / (√G + ε)', () => {
    // ε = 1 is large on purpose: ε inside the root (√(G + ε)) would give different numbers.
    // G₁ = [9, 16], √G₁ = [3, 4] → u₁ = −0.1·[3/4, −4/5] = [−0.075, 0.08]
    // G₂ = [9 + 16, 16 + 9] = [25, 25], √G₂ = [5, 5] → u₂ = −0.1·[4/6, 3/6] = [−1/15, −0.05]
    // w₂ = [1 − 0.075 − 1/15, −1 + 0.08 − 0.05] = [103/120, −0.97]
    const r = twoSteps(optim.adagrad(0.1, { eps: 1 }), [3, -4], [4, 3])
    expectClose(r.updates[0], [-0.075, 0.08])
    expectClose(r.updates[1], [-1 / 15, -0.05])
    expectClose(r.params, [103 / 120, -0.97])
  })

  it('adagradMomentum (μ = 0.5, ε = 1): m ← μ m + g / (√G + ε), u = −η m', () => {
    // Adagrad-scaled gradients as above: s₁ = [0.75, −0.8], s₂ = [2/3, 0.5]
    // m₁ = s₁ → u₁ = [−0.075, 0.08]
    // m₂ = 0.5·[0.75, −0.8] + [2/3, 0.5] = [0.375 + 2/3, −0.4 + 0.5] = [25/24, 0.1] → u₂ = [−5/48, −0.01]
    // w₂ = [1 − 0.075 − 5/48, −1 + 0.08 − 0.01] = [197/240, −0.93]
    const r = twoSteps(optim.adagradMomentum(0.1, { momentum: 0.5, eps: 1 }), [3, -4], [4, 3])
    expectClose(r.updates[0], [-0.075, 0.08])
    expectClose(r.updates[1], [-5 / 48, -0.01])
    expectClose(r.params, [197 / 240, -0.93])
  })

  it('rmsprop (ρ = 0.75, ε = 1, outside the root): v ← ρ v + (1 − ρ) g², u = −η g / (√v + ε)', () => {
    // g₁ = [2, −4]: v₁ = 0.25·[4, 16] = [1, 4], √v₁ = [1, 2] → u₁ = −0.1·[2/2, −4/3] = [−0.1, 2/15]
    // g₂ = [1, 2]:  v₂ = 0.75·[1, 4] + 0.25·[1, 4] = [1, 4] → u₂ = −0.1·[1/2, 2/3] = [−0.05, −1/15]
    // w₂ = [1 − 0.1 − 0.05, −1 + 2/15 − 1/15] = [0.85, −14/15]
    const r = twoSteps(optim.rmsprop(0.1, { decay: 0.75, eps: 1 }), [2, -4], [1, 2])
    expectClose(r.updates[0], [-0.1, 2 / 15])
    expectClose(r.updates[1], [-0.05, -1 / 15])
    expectClose(r.params, [0.85, -14 / 15])
  })

  it('adam (β₁ = 0.5, β₂ = 0.75, ε = 1): bias-corrected moments, u = −η m̂ / (√v̂ + ε)', () => {
    // t = 1, g₁ = [1, −2]: m₁ = 0.5 g₁, v₁ = 0.25 g₁²; m̂ = m₁ / 0.5 = g₁, v̂ = v₁ / 0.25 = g₁² = [1, 4]
    //   u₁ = −0.1·[1/(1 + 1), −2/(2 + 1)] = [−0.05, 1/15]
    // t = 2, g₂ = [−1, 2]: m₂ = 0.5 m₁ + 0.5 g₂ = 0.25 g₁ + 0.5 g₂ = [−0.25, 0.5];  m̂ = m₂ / (1 − 0.25) = [−1/3, 2/3]
    //   v₂ = 0.75 v₁ + 0.25 g₂² = 0.1875 g₁² + 0.25 g₂² = [0.4375, 1.75];  v̂ = v₂ / (1 − 0.5625) = [1, 4]
    //   u₂ = −0.1·[(−1/3)/(1 + 1), (2/3)/(2 + 1)] = [1/60, −1/45]
    // w₂ = [1 − 0.05 + 1/60, −1 + 1/15 − 1/45] = [29/30, −43/45]
    const r = twoSteps(optim.adam(0.1, { b1: 0.5, b2: 0.75, eps: 1 }), [1, -2], [-1, 2])
    expectClose(r.updates[0], [-0.05, 1 / 15])
    expectClose(r.updates[1], [1 / 60, -1 / 45])
    expectClose(r.params, [29 / 30, -43 / 45])
  })

  it('adam with the default β₁ = 0.9, β₂ = 0.999: a constant gradient gives steps of η (up to ε)', () => {
    // g₁ = g₂ = g: m̂ = g and v̂ = g² at every t (bias correction exactly undoes the zero start), so u = −η g / (|g| + ε).
    const r = twoSteps(optim.adam(0.1), [3, -4], [3, -4])
    expectClose(r.updates[0], [-0.1, 0.1], 1e-9)
    expectClose(r.updates[1], [-0.1, 0.1], 1e-9)
  })

  it('adamw (λ = 0.5, Adam as above): u = −η (m̂ / (√v̂ + ε) + λ w), w before the step', () => {
    // u₁ = −0.1·([0.5, −2/3] + 0.5·[1, −1]) = −0.1·[1, −7/6] = [−0.1, 7/60];  w₁ = [0.9, −53/60]
    // u₂ = −0.1·([−1/6, 2/9] + 0.5·[0.9, −53/60]) = −0.1·[17/60, −79/360] = [−17/600, 79/3600]
    // w₂ = [0.9 − 17/600, −53/60 + 79/3600] = [523/600, −3101/3600]
    const r = twoSteps(optim.adamw(0.1, { b1: 0.5, b2: 0.75, eps: 1, weightDecay: 0.5 }), [1, -2], [-1, 2])
    expectClose(r.updates[0], [-0.1, 7 / 60])
    expectClose(r.updates[1], [-17 / 600, 79 / 3600])
    expectClose(r.params, [523 / 600, -3101 / 3600])
  })
})

describe('optim: equivalences', () => {
  const grads = [[0.3, -1.2], [2, 0.5], [-0.7, 0.1]]

  const run = (opt: optim.GradientTransformation<any>) => {
    let state = opt.init(p0)
    return grads.map((g) => {
      const [u, next] = opt.update({ w: tensor(g) }, state, p0)
      state = next
      return Array.from(u.w.data)
    })
  }

  it('adam(η) gives the same updates as chain(scaleByAdam(), scale(−η))', () => {
    expect(run(optim.adam(0.01))).toEqual(run(optim.chain(optim.scaleByAdam(), optim.scale(-0.01))))
  })

  it('momentum(η, { momentum: 0 }) gives the same updates as sgd(η)', () => {
    expect(run(optim.momentum(0.05, { momentum: 0 }))).toEqual(run(optim.sgd(0.05)))
  })

  it('adamw with weightDecay 0 is adam', () => {
    expect(run(optim.adamw(0.01, { weightDecay: 0 }))).toEqual(run(optim.adam(0.01)))
  })

  it('scaleByLearningRate flips the sign unless asked not to', () => {
    expect(run(optim.scaleByLearningRate(0.5, { flipSign: false }))[0]).toEqual([0.15, -0.6])
    expect(run(optim.scaleByLearningRate(0.5))[0]).toEqual([-0.15, 0.6])
  })

  it('a learning rate may be a schedule of the step count, starting at 0', () => {
    const seen: number[] = []
    const schedule = (k: number) => (seen.push(k), [1, 0.5, 0.25][k])
    expect(run(optim.sgd(schedule))).toEqual([[-0.3, 1.2], [-1, -0.25], [0.175, -0.025]])
    expect(seen).toEqual([0, 1, 2])
  })
})

describe('optim: every optimiser shrinks a quadratic', () => {
  // f(w, b) = ½ (w₁² + 10 w₂²) + ½ b²: an ill-conditioned bowl with its minimum 0 at the origin.
  const f = (p: { w: Tensor; b: Tensor }) => mul(add(sum(mul(tensor([1, 10]), square(p.w))), sum(square(p.b))), 0.5)
  const start = { w: tensor([2, -3]), b: tensor([1]) }
  const table: [string, optim.GradientTransformation<any>][] = [
    ['sgd', optim.sgd(0.08)],
    ['momentum', optim.momentum(0.02, { momentum: 0.9 })],
    ['momentum (nesterov)', optim.momentum(0.02, { momentum: 0.9, nesterov: true })],
    ['adagrad', optim.adagrad(0.5)],
    ['adagradMomentum', optim.adagradMomentum(0.1, { momentum: 0.9 })],
    ['rmsprop', optim.rmsprop(0.02)],
    ['adam', optim.adam(0.05)],
    ['adamw', optim.adamw(0.05, { weightDecay: 0.01 })],
    ['l2 then adam', optim.chain(optim.l2(1e-3), optim.adam(0.05))],
    ['clipped sgd', optim.chain(optim.clipByGlobalNorm(1), optim.sgd(0.08))],
    ['adam, cosine-scheduled', optim.adam(optim.cosineDecay(0.1, { decaySteps: 200 }))],
  ]

  it.each(table)('%s', (_name, opt) => {
    const df = grad(f)
    let params = start
    let state = opt.init(params)
    for (let i = 0; i < 200; i++) {
      const [u, next] = opt.update(df(params), state, params)
      params = optim.applyUpdates(params, u)
      state = next
    }
    expect(f(params).item()).toBeLessThan(1e-2 * f(start).item())
  })
})
