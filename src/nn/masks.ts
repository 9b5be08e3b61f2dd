/**
 * @file Variable-length sequences: masks from lengths, the time-major mask the recurrent machinery
 * scans over, and the last real step of each sequence. Masks carry no gradient.
 */
import { ShapeError, ValueError, showShape } from '../errors.js'
import { where } from '../autodiff/ops/elementwise.js'
import { reshape, stopGradient, take } from '../autodiff/ops/structural.js'
import { Batched } from '../autodiff/batching.js'
import { type DType, type Data, Tensor, allocate } from '../tensor/Tensor.js'

/** Where a batch says which of its steps are real. */
export interface SequenceMask {
  /** `[batch, time]`, non-zero for a real step, 0 for padding. */
  readonly mask?: Tensor
  /** One length per sequence; steps `t < lengths[b]` are real. */
  readonly lengths?: Tensor | readonly number[]
}

/**
 * The numbers of a mask or lengths tensor. The layers read them as numbers, so under `vmap` they
 * must be the same for every example; one that differs per example has no numbers to read here.
 */
export const maskValues = (who: string, name: string, x: Tensor): Data => {
  const plain = stopGradient(x)
  if (plain instanceof Batched) {
    throw new ValueError(
      `${who}: ${name} differs between the examples of a vmap, but the recurrent layers read it as numbers: ` +
        'pass it with in axis null (or close over it) so that the whole batch shares it.',
    )
  }
  return plain.data
}

const lengthValues = (who: string, lengths: Tensor | readonly number[], batch: number, time: number): number[] => {
  const values = lengths instanceof Tensor ? Array.from(maskValues(who, 'lengths', lengths)) : [...lengths]
  if (values.length !== batch || (lengths instanceof Tensor && lengths.rank !== 1)) {
    const seen = lengths instanceof Tensor ? showShape(lengths.shape) : `${values.length} numbers`
    throw new ShapeError(`${who}: lengths must hold one length per sequence ([${batch}]), got ${seen}.`)
  }
  values.forEach((n, b) => {
    if (!Number.isInteger(n) || n < 0 || n > time) {
      throw new ValueError(`${who}: lengths[${b}] is ${n}; each length must be an integer in [0, ${time}] (the time axis of the inputs).`)
    }
  })
  return values
}

/**
 * The `[batch, time]` mask of 1s (real steps `t < lengths[b]`) and 0s (padding).
 * @example
 * ```ts
 * console.log(nn.maskFromLengths([3, 1], 4).toArray()) // [[1, 1, 1, 0], [1, 0, 0, 0]]
 * ```
 * @category sequences
 */
export const maskFromLengths = (lengths: Tensor | readonly number[], time: number, options: { dtype?: DType } = {}): Tensor => {
  const batch = lengths instanceof Tensor ? lengths.size : lengths.length
  const values = lengthValues('nn.maskFromLengths', lengths, batch, time)
  const data = allocate(options.dtype ?? 'float64', batch * time)
  values.forEach((n, b) => data.fill(1, b * time, b * time + n))
  return new Tensor(data, [batch, time])
}

/** The `[batch, time]` 0/1 values of a mask or lengths option, or null when neither is given. */
export const batchMask = (who: string, options: SequenceMask, batch: number, time: number): Float64Array | null => {
  if (options.mask !== undefined && options.lengths !== undefined) {
    throw new ValueError(`${who}: pass either mask or lengths, not both.`)
  }
  if (options.lengths !== undefined) {
    return Float64Array.from(maskFromLengths(lengthValues(who, options.lengths, batch, time), time).data)
  }
  if (options.mask === undefined) return null
  const mask = options.mask
  if (!(mask instanceof Tensor) || mask.rank !== 2 || mask.shape[0] !== batch || mask.shape[1] !== time) {
    const seen = mask instanceof Tensor ? showShape(mask.shape) : typeof mask
    throw new ShapeError(`${who}: mask must be [batch, time] = [${batch}, ${time}] (1 for a real step, 0 for padding), got ${seen}.`)
  }
  return Float64Array.from(maskValues(who, 'mask', mask), (v) => (v !== 0 ? 1 : 0))
}

/**
 * The mask laid out for a time-major scan, `[time, batch, 1]`, or null when every step is real
 * (so unmasked batches pay nothing).
 */
export const timeMajorMask = (who: string, options: SequenceMask, batch: number, time: number, dtype: DType): Tensor | null => {
  const m = batchMask(who, options, batch, time)
  if (m === null || m.every((v) => v === 1)) return null
  const data = allocate(dtype, batch * time)
  for (let b = 0; b < batch; b++) for (let t = 0; t < time; t++) data[t * batch + b] = m[b * time + t]
  return new Tensor(data, [time, batch, 1])
}

/**
 * Each sequence's features at its own last real step: `[batch, time, features]` → `[batch, features]`.
 * Without a mask or lengths that is step `time − 1`; a sequence with no real step gives zeros.
 * This is the input of the seed's dense head (`ŷ = σ(h_T·W + b)`).
 * @example
 * ```ts
 * const outputs = reshape(arange(10), [2, 5, 1]) // [batch, time, features]: 0 … 4 and 5 … 9
 * console.log(nn.lastStep(outputs).toArray()) // [[4], [9]]
 * console.log(nn.lastStep(outputs, { lengths: [3, 5] }).toArray()) // [[2], [9]]
 * console.log(nn.lastStep(outputs, { mask: nn.maskFromLengths([0, 2], 5) }).toArray()) // [[0], [6]]: no real step gives zeros
 * ```
 * @category sequences
 */
export const lastStep = (xs: Tensor, options: SequenceMask = {}): Tensor => {
  if (!(xs instanceof Tensor) || xs.rank !== 3) {
    throw new ShapeError(`nn.lastStep: xs must be [batch, time, features], got ${xs instanceof Tensor ? showShape(xs.shape) : typeof xs}.`)
  }
  const [batch, time, features] = xs.shape
  const m = batchMask('nn.lastStep', options, batch, time)
  const last = Array.from({ length: batch }, (_, b) => {
    if (m === null) return time - 1
    for (let t = time - 1; t >= 0; t--) if (m[b * time + t] !== 0) return t
    return -1
  })
  const rows = take(reshape(xs, [batch * time, features]), last.map((t, b) => b * time + Math.max(t, 0)), 0)
  if (last.every((t) => t >= 0)) return rows
  const hasStep = new Tensor(Float64Array.from(last, (t) => (t >= 0 ? 1 : 0)), [batch, 1])
  return where(hasStep, rows, 0)
}
