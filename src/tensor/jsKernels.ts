/**
 * @file The reference kernels: plain, monomorphic loops over typed arrays. Every other backend is
 * tested against these. Results are accumulated in JavaScript doubles and rounded once on store.
 */
import { type DType, type Data, allocate, dtypeOf } from './Tensor.js'
import type { BinaryOp, IndexMap, Kernels, UnaryKernel } from './kernels.js'

const like = (x: Data, size = x.length): Data => (x instanceof Float32Array ? new Float32Array(size) : new Float64Array(size))

// ---- unary ----
// One loop per operation keeps each call site monomorphic, which a shared `map(fn)` would not be.

const neg: UnaryKernel = (x) => { const o = like(x); for (let i = 0; i < x.length; i++) o[i] = -x[i]; return o }
const exp: UnaryKernel = (x) => { const o = like(x); for (let i = 0; i < x.length; i++) o[i] = Math.exp(x[i]); return o }
const log: UnaryKernel = (x) => { const o = like(x); for (let i = 0; i < x.length; i++) o[i] = Math.log(x[i]); return o }
const sqrt: UnaryKernel = (x) => { const o = like(x); for (let i = 0; i < x.length; i++) o[i] = Math.sqrt(x[i]); return o }
const abs: UnaryKernel = (x) => { const o = like(x); for (let i = 0; i < x.length; i++) o[i] = Math.abs(x[i]); return o }
const sign: UnaryKernel = (x) => { const o = like(x); for (let i = 0; i < x.length; i++) o[i] = Math.sign(x[i]); return o }
const square: UnaryKernel = (x) => { const o = like(x); for (let i = 0; i < x.length; i++) o[i] = x[i] * x[i]; return o }
const tanh: UnaryKernel = (x) => { const o = like(x); for (let i = 0; i < x.length; i++) o[i] = Math.tanh(x[i]); return o }
const relu: UnaryKernel = (x) => { const o = like(x); for (let i = 0; i < x.length; i++) o[i] = x[i] > 0 ? x[i] : 0; return o }

/** Evaluated through exp(−|x|) so neither branch overflows at |x| = 1000. */
const sigmoid: UnaryKernel = (x) => {
  const o = like(x)
  for (let i = 0; i < x.length; i++) {
    const v = x[i]
    const e = Math.exp(-Math.abs(v))
    o[i] = v >= 0 ? 1 / (1 + e) : e / (1 + e)
  }
  return o
}

/** softplus(x) = max(x, 0) + log1p(exp(−|x|)): exact for large |x| without overflow. */
const softplus: UnaryKernel = (x) => {
  const o = like(x)
  for (let i = 0; i < x.length; i++) {
    const v = x[i]
    o[i] = (v > 0 ? v : 0) + Math.log1p(Math.exp(-Math.abs(v)))
  }
  return o
}

const leakyRelu = (x: Data, slope: number): Data => {
  const o = like(x)
  for (let i = 0; i < x.length; i++) o[i] = x[i] > 0 ? x[i] : slope * x[i]
  return o
}

const pow = (x: Data, exponent: number): Data => {
  const o = like(x)
  for (let i = 0; i < x.length; i++) o[i] = Math.pow(x[i], exponent)
  return o
}

const cast = (x: Data, dtype: DType): Data => {
  const o = allocate(dtype, x.length)
  o.set(x)
  return o
}

// ---- binary ----

const binary = (op: BinaryOp, a: Data, ai: IndexMap, b: Data, bi: IndexMap, size: number): Data => {
  const o = like(a, size)
  const direct = ai === null && bi === null
  // Index maps are materialised only when shapes differ; the identity case reads a[i], b[i] directly.
  const A = ai ?? identity(size)
  const B = bi ?? identity(size)
  switch (op) {
    case 'add':
      if (direct) for (let i = 0; i < size; i++) o[i] = a[i] + b[i]
      else for (let i = 0; i < size; i++) o[i] = a[A[i]] + b[B[i]]
      break
    case 'sub':
      if (direct) for (let i = 0; i < size; i++) o[i] = a[i] - b[i]
      else for (let i = 0; i < size; i++) o[i] = a[A[i]] - b[B[i]]
      break
    case 'mul':
      if (direct) for (let i = 0; i < size; i++) o[i] = a[i] * b[i]
      else for (let i = 0; i < size; i++) o[i] = a[A[i]] * b[B[i]]
      break
    case 'div':
      if (direct) for (let i = 0; i < size; i++) o[i] = a[i] / b[i]
      else for (let i = 0; i < size; i++) o[i] = a[A[i]] / b[B[i]]
      break
    case 'maximum':
      for (let i = 0; i < size; i++) { const p = a[A[i]], q = b[B[i]]; o[i] = p >= q ? p : q }
      break
    case 'minimum':
      for (let i = 0; i < size; i++) { const p = a[A[i]], q = b[B[i]]; o[i] = p <= q ? p : q }
      break
    case 'greater':
      for (let i = 0; i < size; i++) o[i] = a[A[i]] > b[B[i]] ? 1 : 0
      break
    case 'greaterEqual':
      for (let i = 0; i < size; i++) o[i] = a[A[i]] >= b[B[i]] ? 1 : 0
      break
    case 'equal':
      for (let i = 0; i < size; i++) o[i] = a[A[i]] === b[B[i]] ? 1 : 0
      break
  }
  return o
}

let identityCache = new Int32Array(0)
/** A shared identity index map, grown on demand (read-only by contract). */
const identity = (size: number): Int32Array => {
  if (identityCache.length < size) {
    identityCache = new Int32Array(Math.max(size, 2 * identityCache.length))
    for (let i = 0; i < identityCache.length; i++) identityCache[i] = i
  }
  return identityCache
}

const where = (cond: Data, ci: IndexMap, a: Data, ai: IndexMap, b: Data, bi: IndexMap, size: number): Data => {
  const o = like(a, size)
  const C = ci ?? identity(size)
  const A = ai ?? identity(size)
  const B = bi ?? identity(size)
  for (let i = 0; i < size; i++) o[i] = cond[C[i]] !== 0 ? a[A[i]] : b[B[i]]
  return o
}

// ---- reductions and data movement ----

const sumInto = (x: Data, index: Int32Array, outSize: number): Data => {
  // Accumulate in float64 even for float32 inputs, then round once.
  const acc = new Float64Array(outSize)
  for (let i = 0; i < x.length; i++) acc[index[i]] += x[i]
  return dtypeOf(x) === 'float64' ? acc : Float32Array.from(acc)
}

const maxInto = (x: Data, index: Int32Array, outSize: number): Data => {
  const o = like(x, outSize).fill(-Infinity)
  for (let i = 0; i < x.length; i++) {
    const v = x[i]
    const j = index[i]
    if (v > o[j] || Number.isNaN(v)) o[j] = v
  }
  return o
}

const argmax = (x: Data, outer: number, n: number, inner: number): Data => {
  const o = like(x, outer * inner)
  for (let b = 0; b < outer; b++) {
    for (let i = 0; i < inner; i++) {
      let best = 0
      let bestValue = x[b * n * inner + i]
      for (let j = 1; j < n; j++) {
        const v = x[(b * n + j) * inner + i]
        if (v > bestValue) { bestValue = v; best = j }
      }
      o[b * inner + i] = best
    }
  }
  return o
}

const gather = (x: Data, index: Int32Array): Data => {
  const o = like(x, index.length)
  for (let i = 0; i < index.length; i++) o[i] = x[index[i]]
  return o
}

const scatterAdd = (x: Data, index: Int32Array, outSize: number): Data => {
  const o = like(x, outSize)
  for (let i = 0; i < x.length; i++) o[index[i]] += x[i]
  return o
}

/**
 * A strided gather without an index map: an odometer over all axes but the last, and a tight loop
 * (or a block copy, for long contiguous rows) along the last.
 */
const gatherStrided = (x: Data, shape: readonly number[], strides: readonly number[], offset: number): Data => {
  const rank = shape.length
  let size = 1
  for (let d = 0; d < rank; d++) size *= shape[d]
  const o = like(x, size)
  if (size === 0) return o
  if (rank === 0) {
    o[0] = x[offset]
    return o
  }
  const n = shape[rank - 1]
  const s = strides[rank - 1]
  const outer = size / n
  const counter = new Array<number>(rank).fill(0)
  let base = offset
  let pos = 0
  for (let r = 0; r < outer; r++) {
    if (s === 1 && n >= 64) o.set(x.subarray(base, base + n), pos)
    else for (let j = 0; j < n; j++) o[pos + j] = x[base + j * s]
    pos += n
    for (let d = rank - 2; d >= 0; d--) {
      counter[d]++
      base += strides[d]
      if (counter[d] < shape[d]) break
      base -= strides[d] * shape[d]
      counter[d] = 0
    }
  }
  return o
}

const sumRows = (x: Data, rows: number, cols: number): Data => {
  // Accumulated in float64 in row order, as sumInto does for this index pattern.
  const acc = new Float64Array(cols)
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    for (let j = 0; j < cols; j++) acc[j] += x[base + j]
  }
  return dtypeOf(x) === 'float64' ? acc : Float32Array.from(acc)
}

// Activation VJPs in one pass. Each intermediate is rounded to the dtype, as the separate kernels
// of the composition would store it, so the result is bit-identical to the composition.
const tanhBackward = (g: Data, t: Data): Data => {
  const o = like(g)
  if (o instanceof Float32Array) {
    for (let i = 0; i < o.length; i++) o[i] = g[i] * Math.fround(1 - Math.fround(t[i] * t[i]))
  } else {
    for (let i = 0; i < o.length; i++) o[i] = g[i] * (1 - t[i] * t[i])
  }
  return o
}

const sigmoidBackward = (g: Data, s: Data): Data => {
  const o = like(g)
  if (o instanceof Float32Array) {
    for (let i = 0; i < o.length; i++) o[i] = g[i] * Math.fround(s[i] * Math.fround(1 - s[i]))
  } else {
    for (let i = 0; i < o.length; i++) o[i] = g[i] * (s[i] * (1 - s[i]))
  }
  return o
}

// ---- matrix product ----

/**
 * Loop orders keep the innermost loop on contiguous memory for each transpose case: i-p-j for
 * a·b (rows of b streamed), dot products of rows for a·bᵀ, p-i-j for aᵀ·b.
 */
const matmul = (
  a: Data, aOffsets: Int32Array, b: Data, bOffsets: Int32Array,
  m: number, k: number, n: number, transposeA: boolean, transposeB: boolean,
): Data => {
  const batches = aOffsets.length
  const o = like(a, batches * m * n)
  const acc = new Float64Array(n)
  for (let batch = 0; batch < batches; batch++) {
    const ao = aOffsets[batch]
    const bo = bOffsets[batch]
    const oo = batch * m * n
    if (!transposeA && !transposeB) {
      for (let i = 0; i < m; i++) {
        acc.fill(0)
        const ar = ao + i * k
        for (let p = 0; p < k; p++) {
          const av = a[ar + p]
          const br = bo + p * n
          for (let j = 0; j < n; j++) acc[j] += av * b[br + j]
        }
        for (let j = 0; j < n; j++) o[oo + i * n + j] = acc[j]
      }
    } else if (!transposeA && transposeB) {
      for (let i = 0; i < m; i++) {
        const ar = ao + i * k
        for (let j = 0; j < n; j++) {
          const br = bo + j * k
          let s = 0
          for (let p = 0; p < k; p++) s += a[ar + p] * b[br + p]
          o[oo + i * n + j] = s
        }
      }
    } else {
      // aᵀ·b or aᵀ·bᵀ: a is stored [k, m].
      for (let i = 0; i < m; i++) {
        acc.fill(0)
        for (let p = 0; p < k; p++) {
          const av = a[ao + p * m + i]
          if (transposeB) for (let j = 0; j < n; j++) acc[j] += av * b[bo + j * k + p]
          else for (let j = 0; j < n; j++) acc[j] += av * b[bo + p * n + j]
        }
        for (let j = 0; j < n; j++) o[oo + i * n + j] = acc[j]
      }
    }
  }
  return o
}

/** The reference backend. @category kernels */
export const jsKernels: Kernels = {
  name: 'js',
  neg, exp, log, sqrt, abs, sign, square, tanh, sigmoid, softplus, relu, leakyRelu, pow, cast,
  binary, where, sumInto, maxInto, argmax, gather, scatterAdd, matmul, gatherStrided, sumRows, tanhBackward, sigmoidBackward,
}
