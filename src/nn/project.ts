/**
 * @file The affine map on the last axis, `x·w + b`, shared by linear layers and the input
 * projections hoisted out of recurrent steps. Imports ops only.
 */
import { ShapeError, showShape } from '../errors.js'
import { affineRows, matmul } from '../autodiff/ops/linalg.js'
import { reshape } from '../autodiff/ops/structural.js'
import type { Tensor } from '../tensor/Tensor.js'

/** Checks that x `[..., in]` fits w `[in, out]` (an error naming `who` otherwise); returns `in`. */
export const checkInputs = (who: string, x: Tensor, w: Tensor): number => {
  const inner = w.shape[0]
  if (x.rank === 0 || x.shape[x.rank - 1] !== inner) {
    throw new ShapeError(`${who}: expects inputs [..., ${inner}], got ${showShape(x.shape)}.`)
  }
  return inner
}

/**
 * `x·w (+ b)` on the last axis: `[..., in]` · `[in, out]` → `[..., out]`. Leading axes are folded
 * into one, so a whole sequence `[time, batch, in]` is a single matrix product.
 */
export const affine = (who: string, x: Tensor, w: Tensor, b?: Tensor): Tensor => {
  const inner = checkInputs(who, x, w)
  const rows = x.rank === 2 ? x : reshape(x, [-1, inner])
  const y = b === undefined ? matmul(rows, w) : affineRows(rows, w, b)
  return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), w.shape[1]])
}
