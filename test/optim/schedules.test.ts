import { describe, expect, it } from 'vitest'
import * as optim from '../../src/optim/index.js'

const at = (schedule: optim.Schedule, steps: number[]) => steps.map((k) => +schedule(k).toFixed(12))

describe('optim schedules', () => {
  it('constant', () => {
    expect(at(optim.constant(0.1), [0, 1, 1000])).toEqual([0.1, 0.1, 0.1])
  })

  it('exponentialDecay: η₀ · rate^(k / transitionSteps)', () => {
    // rate 0.5 every 2 steps: k = 0 → 1, k = 1 → 0.5^0.5, k = 2 → 0.5, k = 4 → 0.25
    expect(at(optim.exponentialDecay(1, { decayRate: 0.5, transitionSteps: 2 }), [0, 1, 2, 4])).toEqual([1, +Math.SQRT1_2.toFixed(12), 0.5, 0.25])
    // staircase: the exponent is floor(k / 2)
    expect(at(optim.exponentialDecay(1, { decayRate: 0.5, transitionSteps: 2, staircase: true }), [0, 1, 2, 3, 4])).toEqual([1, 1, 0.5, 0.5, 0.25])
  })

  it('cosineDecay: η₀ · ((1 − α) · ½(1 + cos(π k / K)) + α), constant after K', () => {
    // K = 4: cos(0) = 1 → 1;  cos(π/2) = 0 → 0.5;  cos(π) = −1 → 0;  k = 10 > K → 0
    expect(at(optim.cosineDecay(1, { decaySteps: 4 }), [0, 2, 4, 10])).toEqual([1, 0.5, 0, 0])
    // α = 0.1: 0.9 · 0.5 + 0.1 = 0.55 halfway, 0.1 at the end
    expect(at(optim.cosineDecay(2, { decaySteps: 4, alpha: 0.1 }), [0, 2, 4])).toEqual([2, 1.1, 0.2])
  })

  it('warmup: a linear ramp to the next schedule’s start, then that schedule from its own step 0', () => {
    expect(at(optim.warmup(1, { steps: 4 }), [0, 1, 2, 4, 9])).toEqual([0, 0.25, 0.5, 1, 1])
    // warm up over 2 steps from 0.2 to cosineDecay(1, K = 4): k = 1 → 0.6; k = 2 → cos at 0 = 1; k = 4 → cos at 2 = 0.5; k = 6 → 0
    expect(at(optim.warmup(optim.cosineDecay(1, { decaySteps: 4 }), { steps: 2, initValue: 0.2 }), [0, 1, 2, 4, 6])).toEqual([0.2, 0.6, 1, 0.5, 0])
  })

  it('rejects bad arguments and negative steps', () => {
    expect(() => optim.cosineDecay(1, { decaySteps: 0 })).toThrow(/optim\.cosineDecay: decaySteps must be positive, got 0/)
    expect(() => optim.exponentialDecay(1, { decayRate: -0.5 })).toThrow(/decayRate must be positive/)
    expect(() => optim.constant(1)(-1)).toThrow(/optim\.constant: the step must be a finite number ≥ 0, got -1/)
  })
})
