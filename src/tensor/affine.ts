/**
 * @file `x·w + bias` as the kernels compose it: the reference a backend's optional `affine` kernel
 * equals bit for bit, and what callers run on a backend without one. Imports tensor/ only.
 */
import { type Data, repeatRows } from './Tensor.js'
import type { Kernels } from './kernels.js'

/** The batch offsets of a single matrix (read-only by contract, like every index map). */
const SINGLE = new Int32Array(1)

/** `bias` added to every row of `product` (`[rows, bias.length]`) by `kernels.binary`. */
export const addToRows = (kernels: Kernels, product: Data, bias: Data): Data =>
  kernels.binary('add', product, null, repeatRows(bias, product.length), null, product.length)

/** `x[m, k]·w[k, n]`, then `bias[n]` added to every row, each a separate kernel call of `kernels`. */
export const composedAffine = (kernels: Kernels, x: Data, w: Data, bias: Data, m: number, k: number, n: number): Data =>
  addToRows(kernels, kernels.matmul(x, SINGLE, w, SINGLE, m, k, n, false, false), bias)
