/**
 * @file Learning-rate schedules: pure functions from the step count (0 for the first update) to a
 * learning rate. Optimisers take a number or a schedule wherever they take a learning rate; the
 * step count lives in the optimiser state (`count`), so a schedule itself keeps no state. Imports
 * errors only.
 */
import { ValueError } from '../errors.js'

/** A learning rate as a function of the step count (0, 1, 2, …). @category schedules */
export type Schedule = (step: number) => number

/** A constant learning rate or a schedule. @category schedules */
export type LearningRate = number | Schedule

const expectFinite = (who: string, name: string, value: number): number => {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueError(`${who}: ${name} must be a finite number, got ${String(value)}.`)
  }
  return value
}

const expectPositive = (who: string, name: string, value: number): number => {
  if (!(expectFinite(who, name, value) > 0)) throw new ValueError(`${who}: ${name} must be positive, got ${value}.`)
  return value
}

const expectStep = (who: string, step: number): number => {
  if (typeof step !== 'number' || !(step >= 0) || !Number.isFinite(step)) {
    throw new ValueError(`${who}: the step must be a finite number ≥ 0, got ${String(step)}.`)
  }
  return step
}

/** Turns a learning rate that may be a number into a schedule. */
export const asSchedule = (who: string, lr: LearningRate): Schedule => {
  if (typeof lr === 'function') return lr
  const value = expectFinite(who, 'the learning rate', lr)
  return () => value
}

/**
 * The same value at every step: `η(k) = value`.
 * @example
 * ```ts
 * console.log(optim.constant(0.1)(500)) // 0.1
 * ```
 * @category schedules
 */
export const constant = (value: number): Schedule => {
  expectFinite('optim.constant', 'value', value)
  return (step) => (expectStep('optim.constant', step), value)
}

export interface ExponentialDecayOptions {
  /** Factor applied per `transitionSteps` steps (0.5 halves the rate). */
  readonly decayRate: number
  /** Steps over which the rate is multiplied by `decayRate` once. Default 1. */
  readonly transitionSteps?: number
  /** Decay in whole jumps every `transitionSteps` steps instead of smoothly. Default false. */
  readonly staircase?: boolean
}

/**
 * Exponential decay: `η(k) = initValue · decayRate^(k / transitionSteps)`, with the exponent rounded
 * down when `staircase` is set.
 * @example
 * ```ts
 * const lr = optim.exponentialDecay(1, { decayRate: 0.5, transitionSteps: 2 })
 * console.log([0, 1, 2, 4].map(lr)) // [1, 0.707…, 0.5, 0.25]
 * const stairs = optim.exponentialDecay(1, { decayRate: 0.5, transitionSteps: 2, staircase: true })
 * console.log([0, 1, 2, 3].map(stairs)) // [1, 1, 0.5, 0.5]
 * const opt = optim.sgd(lr) // a schedule goes wherever a learning rate does
 * ```
 * @category schedules
 */
export const exponentialDecay = (initValue: number, options: ExponentialDecayOptions): Schedule => {
  const who = 'optim.exponentialDecay'
  expectFinite(who, 'initValue', initValue)
  const rate = expectPositive(who, 'decayRate', options.decayRate)
  const every = expectPositive(who, 'transitionSteps', options.transitionSteps ?? 1)
  const staircase = options.staircase ?? false
  return (step) => {
    const p = expectStep(who, step) / every
    return initValue * rate ** (staircase ? Math.floor(p) : p)
  }
}

export interface CosineDecayOptions {
  /** Steps over which the rate falls from `initValue` to `alpha · initValue`. */
  readonly decaySteps: number
  /** The final rate as a fraction of `initValue`. Default 0. */
  readonly alpha?: number
}

/**
 * Cosine decay (Loshchilov & Hutter's annealing without restarts):
 * `η(k) = initValue · ((1 − α) · ½(1 + cos(π · min(k, K) / K)) + α)` with K = `decaySteps`; it stays
 * at `α · initValue` after K steps.
 * @example
 * ```ts
 * const lr = optim.cosineDecay(1, { decaySteps: 4, alpha: 0.1 })
 * console.log([0, 2, 4, 10].map(lr)) // [1, 0.55, 0.1, 0.1]
 * ```
 * @category schedules
 */
export const cosineDecay = (initValue: number, options: CosineDecayOptions): Schedule => {
  const who = 'optim.cosineDecay'
  expectFinite(who, 'initValue', initValue)
  const steps = expectPositive(who, 'decaySteps', options.decaySteps)
  const alpha = expectFinite(who, 'alpha', options.alpha ?? 0)
  return (step) => {
    const progress = Math.min(expectStep(who, step), steps) / steps
    return initValue * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * progress)) + alpha)
  }
}

export interface WarmupOptions {
  /** Length of the linear ramp, in steps. */
  readonly steps: number
  /** The rate at step 0. Default 0. */
  readonly initValue?: number
}

/**
 * Linear warmup, then another schedule: for k < W (W = `steps`),
 * `η(k) = initValue + (after(0) − initValue) · k / W`; from step W on, `η(k) = after(k − W)`, so the
 * ramp ends exactly where `after` starts and `after` sees its own step count from 0.
 * @example
 * ```ts
 * const lr = optim.warmup(optim.cosineDecay(1e-3, { decaySteps: 1000 }), { steps: 100 })
 * console.log([0, 50, 100, 1100].map(lr)) // [0, 0.0005, 0.001, 0]
 * const opt = optim.adam(lr)
 * ```
 * @category schedules
 */
export const warmup = (after: LearningRate, options: WarmupOptions): Schedule => {
  const who = 'optim.warmup'
  const next = asSchedule(who, after)
  const steps = expectPositive(who, 'steps', options.steps)
  const start = expectFinite(who, 'initValue', options.initValue ?? 0)
  const peak = next(0)
  return (step) => {
    expectStep(who, step)
    return step < steps ? start + ((peak - start) * step) / steps : next(step - steps)
  }
}
