/**
 * @file The error training raises when a loss, a gradient or an update stops being finite. It
 * carries the last finite parameters and optimiser state, so the caller gets its work back.
 * Imports only types from autodiff/ and train/.
 */
import type { NonFiniteCulprit } from '../autodiff/primitive.js'
import { showShape } from '../errors.js'
import type { TrainState } from './types.js'

/**
 * Where the first non-finite value appeared:
 * - `'loss'`: the forward pass (the loss itself is NaN or ±∞);
 * - `'gradient'`: the loss is finite but a gradient is not (the backward pass);
 * - `'update'`: loss and gradients are finite but the optimiser's update overflowed a parameter.
 */
export type NonFinitePhase = 'loss' | 'gradient' | 'update'

/** Where in the run the failure happened (all counted from 0); absent outside `fit`. */
export interface NonFinitePosition {
  readonly epoch?: number
  readonly batch?: number
  /** The truncated-BPTT window within the batch. */
  readonly window?: number
  /** The number of optimiser updates applied before the failing one. */
  readonly step?: number
}

export interface NonFiniteDetails<P, S> extends NonFinitePosition {
  /** The public name raising the error (`fit`, `trainStep`, `tbpttStep`). */
  readonly who: string
  readonly phase: NonFinitePhase
  /** The loss of the failing batch (NaN or ±∞ when `phase` is `'loss'`). */
  readonly loss: number
  /** The first primitive that produced a non-finite value, as `findNonFinite` reports it. */
  readonly culprit: NonFiniteCulprit | null
  /** Paths of the non-finite gradient or parameter leaves (for `'gradient'` and `'update'`). */
  readonly leaves: readonly string[]
  /** The parameters the failing batch started from: the last ones reached by a finite update. */
  readonly params: P
  readonly optState: S
  /** The full resumable state at that point, when raised by `fit`. */
  readonly state?: TrainState<P, S>
}

const describePosition = (p: NonFinitePosition): string => {
  const parts = [
    p.epoch === undefined ? null : `epoch ${p.epoch}`,
    p.batch === undefined ? null : `batch ${p.batch}`,
    p.window === undefined ? null : `window ${p.window}`,
  ].filter((s) => s !== null)
  const step = p.step === undefined ? '' : ` (after ${p.step} update${p.step === 1 ? '' : 's'})`
  return parts.length === 0 ? `in this step${step}` : `at ${parts.join(', ')}${step}, counted from 0`
}

const describeCulprit = (phase: NonFinitePhase, c: NonFiniteCulprit | null): string => {
  const pass = phase === 'loss' ? 'forward pass' : phase === 'gradient' ? 'backward pass' : 'optimiser update'
  if (c === null) return `No primitive produced a non-finite value when the ${pass} was replayed (the inputs may already hold NaN or ±∞).`
  const inputs = c.inputShapes.map(showShape).join(', ')
  return `The first primitive to produce a non-finite value in the ${pass} was '${c.primitive}' (inputs ${inputs}, output ${showShape(c.outputShape)}).`
}

const describeProblem = (phase: NonFinitePhase, loss: number, leaves: readonly string[]): string => {
  const shown = leaves.slice(0, 4).join(', ') + (leaves.length > 4 ? `, … (${leaves.length} in all)` : '')
  if (phase === 'loss') return `the loss became ${loss}`
  if (phase === 'gradient') return `the loss is finite (${loss}) but the gradient of ${shown} is not`
  return `the optimiser update made ${shown} non-finite`
}

const HINTS: Readonly<Record<NonFinitePhase, string>> = {
  loss:
    'If the input data may hold NaN or ±∞, check it first: the first primitive fed such data is the one named. Otherwise keep ' +
    'that primitive inside its domain (for example log(maximum(x, 1e-9)) or a fused, stable loss such as ' +
    'softmaxCrossEntropy), or lower the learning rate if the parameters are diverging.',
  gradient:
    "That primitive's derivative is infinite at its input (sqrt or log at 0, a fractional power of 0): keep the input away " +
    'from that point, for example sqrt(x + 1e-12).',
  update: 'Lower the learning rate or clip the gradients (optim.clipByGlobalNorm).',
}

/**
 * Training met NaN or ±∞. The message names the position (epoch, batch, window), the phase and the
 * first primitive that produced a non-finite value; `params` and `optState` (and, from `fit`,
 * `state`) hold the last finite point of the run, from which training can be inspected or resumed.
 * @example
 * ```ts
 * // a NaN in the inputs: the error names the first primitive it reached
 * const model = nn.linear({ inputSize: 1, outputSize: 1 })
 * const data = { inputs: tensor([[0], [NaN]]), targets: tensor([[1], [3]]) }
 * const params = model.init(randomKey(0))
 * let caught: unknown
 * try {
 *   fit({ loss: train.supervised(model.apply, losses.mse), optimizer: optim.sgd(0.1), params, key: randomKey(1), data, epochs: 1, batchSize: 2 })
 * } catch (e) {
 *   caught = e
 * }
 * caught instanceof NonFiniteLossError // true
 * if (caught instanceof NonFiniteLossError) {
 *   caught.phase              // 'loss'
 *   caught.epoch              // 0
 *   caught.culprit?.primitive // 'affine'
 *   caught.params === params  // true: the last finite parameters, here the initial ones
 * }
 * ```
 * @category training
 */
export class NonFiniteLossError<P = unknown, S = unknown> extends Error {
  override readonly name = 'NonFiniteLossError'
  readonly who: string
  readonly phase: NonFinitePhase
  readonly loss: number
  readonly culprit: NonFiniteCulprit | null
  readonly leaves: readonly string[]
  readonly epoch?: number
  readonly batch?: number
  readonly window?: number
  readonly step?: number
  readonly params: P
  readonly optState: S
  readonly state?: TrainState<P, S>

  constructor(details: NonFiniteDetails<P, S>) {
    super(
      `${details.who}: ${describeProblem(details.phase, details.loss, details.leaves)} ${describePosition(details)}. ` +
        `${describeCulprit(details.phase, details.culprit)} ` +
        'The last finite parameters and optimiser state are on error.params and error.optState' +
        `${details.state === undefined ? '' : ' (error.state resumes from there)'}. ${HINTS[details.phase]}`,
    )
    this.who = details.who
    this.phase = details.phase
    this.loss = details.loss
    this.culprit = details.culprit
    this.leaves = details.leaves
    this.epoch = details.epoch
    this.batch = details.batch
    this.window = details.window
    this.step = details.step
    this.params = details.params
    this.optState = details.optState
    this.state = details.state
  }

  /**
   * What went wrong and where, without the library-level advice (error.params, the hints): for a
   * caller such as the command line, which says itself what its user can do.
   */
  summary(): string {
    return `${describeProblem(this.phase, this.loss, this.leaves)} ${describePosition(this)}. ${describeCulprit(this.phase, this.culprit)}`
  }

  /** The same failure seen from further out: adds position fields and the resumable state. */
  locate(who: string, position: NonFinitePosition, state?: TrainState<P, S>): NonFiniteLossError<P, S> {
    return new NonFiniteLossError<P, S>({ ...this.details(), ...position, window: position.window ?? this.window, who, state })
  }

  private details(): NonFiniteDetails<P, S> {
    const { who, phase, loss, culprit, leaves, epoch, batch, window, step, params, optState, state } = this
    return { who, phase, loss, culprit, leaves, epoch, batch, window, step, params, optState, state }
  }
}
