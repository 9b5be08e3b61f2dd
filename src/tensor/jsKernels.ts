/**
 * @file The reference kernels: plain, monomorphic loops over typed arrays. Every other backend is
 * tested against these. Results are accumulated in JavaScript doubles and rounded once on store.
 */
import { type DType, type Data, allocate, dtypeOf } from './Tensor.js'
import { collapseAxes, nextPosition } from './indexing.js'
import { runFused } from './fused.js'
import type { AdamConstants, AdamStepData, BinaryOp, IndexMap, Kernels, LinearRecurrenceBackward, UnaryKernel } from './kernels.js'

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

/** Rows at least this long are copied with `set` on a `subarray` (or filled), whose fixed cost a short loop beats. */
const BLOCK_COPY = 64

/**
 * A strided gather without an index map: the view's axes collapsed (tensor/indexing.ts), then one
 * run per row along the last axis (a block copy for long contiguous rows, a fill for broadcast
 * ones, a tight loop otherwise) and one odometer step per row.
 */
const gatherStrided = (x: Data, shape: readonly number[], strides: readonly number[], offset: number): Data => {
  let size = 1
  for (let d = 0; d < shape.length; d++) size *= shape[d]
  const o = like(x, size)
  if (size === 0) return o
  const view = collapseAxes(shape, strides)
  const rank = view.shape.length
  if (rank === 0) {
    o[0] = x[offset]
    return o
  }
  const n = view.shape[rank - 1]
  const s = view.strides[rank - 1]
  const counter = new Int32Array(rank - 1)
  for (let pos = 0, base = offset; pos < size; pos += n, base += nextPosition(counter, view, rank - 1)) {
    if (s === 1) {
      if (n >= BLOCK_COPY) o.set(x.subarray(base, base + n), pos)
      else for (let j = 0; j < n; j++) o[pos + j] = x[base + j]
    } else if (s === 0 && n >= BLOCK_COPY) {
      o.fill(x[base], pos, pos + n)
    } else {
      for (let j = 0, k = base; j < n; j++, k += s) o[pos + j] = x[k]
    }
  }
  return o
}

/** Parts `[rows, widths[j]]` side by side; long rows are block copies, short ones element loops. */
const concatRows = (parts: readonly Data[], widths: readonly number[], rows: number): Data => {
  let width = 0
  for (const w of widths) width += w
  const o = like(parts[0], rows * width)
  for (let j = 0, start = 0; j < parts.length; start += widths[j], j++) {
    const x = parts[j]
    const n = widths[j]
    for (let r = 0, from = 0, to = start; r < rows; r++, from += n, to += width) {
      if (n >= BLOCK_COPY) o.set(x.subarray(from, from + n), to)
      else for (let i = 0; i < n; i++) o[to + i] = x[from + i]
    }
  }
  return o
}

/**
 * The inverse of `gatherStrided` for a view that writes each position once (a slice): zeros of
 * `outSize` with x placed along the view, row by row as `gatherStrided` reads them.
 */
const scatterStrided = (x: Data, shape: readonly number[], strides: readonly number[], offset: number, outSize: number): Data => {
  const o = like(x, outSize)
  if (x.length === 0) return o
  const view = collapseAxes(shape, strides)
  const rank = view.shape.length
  if (rank === 0) {
    o[offset] = x[0]
    return o
  }
  const n = view.shape[rank - 1]
  const s = view.strides[rank - 1]
  const counter = new Int32Array(rank - 1)
  for (let pos = 0, base = offset; pos < x.length; pos += n, base += nextPosition(counter, view, rank - 1)) {
    if (s === 1 && n >= BLOCK_COPY) o.set(x.subarray(pos, pos + n), base)
    else for (let j = 0, k = base; j < n; j++, k += s) o[k] = x[pos + j]
  }
  return o
}

/**
 * Column sums accumulated in float64 with each column summing its rows in order, as sumInto does
 * for this index pattern (so the two agree bit for bit). Four rows per pass: the order per column
 * is unchanged, with a quarter of the loads and stores of the accumulators.
 */
const sumRows = (x: Data, rows: number, cols: number): Data => {
  const acc = new Float64Array(cols)
  let r = 0
  let base = 0
  for (; r + 4 <= rows; r += 4, base += 4 * cols) {
    for (let j = 0, k = base; j < cols; j++, k++) acc[j] = acc[j] + x[k] + x[k + cols] + x[k + 2 * cols] + x[k + 3 * cols]
  }
  for (; r < rows; r++, base += cols) {
    for (let j = 0; j < cols; j++) acc[j] += x[base + j]
  }
  return dtypeOf(x) === 'float64' ? acc : Float32Array.from(acc)
}

/**
 * Row sums in float64, each row summed left to right, as sumInto does for this index pattern.
 * Four rows advance together: four independent addition chains instead of one.
 */
const sumColumns = (x: Data, rows: number, cols: number): Data => {
  const acc = new Float64Array(rows)
  let r = 0
  for (; r + 4 <= rows; r += 4) {
    const base = r * cols
    let t0 = 0
    let t1 = 0
    let t2 = 0
    let t3 = 0
    for (let j = base, end = base + cols; j < end; j++) {
      t0 += x[j]
      t1 += x[j + cols]
      t2 += x[j + 2 * cols]
      t3 += x[j + 3 * cols]
    }
    acc[r] = t0
    acc[r + 1] = t1
    acc[r + 2] = t2
    acc[r + 3] = t3
  }
  for (; r < rows; r++) {
    let total = 0
    for (let j = r * cols, end = j + cols; j < end; j++) total += x[j]
    acc[r] = total
  }
  return dtypeOf(x) === 'float64' ? acc : Float32Array.from(acc)
}

/** Row maxima with maxInto's rule: a NaN wins and stays. */
const maxColumns = (x: Data, rows: number, cols: number): Data => {
  const o = like(x, rows)
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    let best = -Infinity
    for (let j = 0; j < cols; j++) {
      const v = x[base + j]
      if (v > best || Number.isNaN(v)) best = v
    }
    o[r] = best
  }
  return o
}

// Activation VJPs in one pass. Each intermediate is rounded to the dtype, as the separate kernels
// of the composition would store it, so the result is bit-identical to the composition. One loop
// per dtype, each over arrays of a single type, so the element accesses stay monomorphic when a
// program uses both dtypes (float32 training with float64 gradient checks).

const tanhBackward32 = (g: Float32Array, t: Float32Array): Float32Array => {
  const o = new Float32Array(g.length)
  for (let i = 0; i < o.length; i++) {
    const y = t[i]
    o[i] = g[i] * Math.fround(1 - Math.fround(y * y))
  }
  return o
}

const tanhBackward64 = (g: Float64Array, t: Float64Array): Float64Array => {
  const o = new Float64Array(g.length)
  for (let i = 0; i < o.length; i++) {
    const y = t[i]
    o[i] = g[i] * (1 - y * y)
  }
  return o
}

const sigmoidBackward32 = (g: Float32Array, s: Float32Array): Float32Array => {
  const o = new Float32Array(g.length)
  for (let i = 0; i < o.length; i++) {
    const y = s[i]
    o[i] = g[i] * Math.fround(y * Math.fround(1 - y))
  }
  return o
}

const sigmoidBackward64 = (g: Float64Array, s: Float64Array): Float64Array => {
  const o = new Float64Array(g.length)
  for (let i = 0; i < o.length; i++) {
    const y = s[i]
    o[i] = g[i] * (y * (1 - y))
  }
  return o
}

const tanhBackward = (g: Data, t: Data): Data => {
  if (g instanceof Float32Array && t instanceof Float32Array) return tanhBackward32(g, t)
  if (g instanceof Float64Array && t instanceof Float64Array) return tanhBackward64(g, t)
  // Mixed dtypes (the ops never pass them): the result takes g's dtype, t is read as it is.
  const o = like(g)
  const round = o instanceof Float32Array ? Math.fround : (v: number) => v
  for (let i = 0; i < o.length; i++) o[i] = g[i] * round(1 - round(t[i] * t[i]))
  return o
}

const sigmoidBackward = (g: Data, s: Data): Data => {
  if (g instanceof Float32Array && s instanceof Float32Array) return sigmoidBackward32(g, s)
  if (g instanceof Float64Array && s instanceof Float64Array) return sigmoidBackward64(g, s)
  const o = like(g)
  const round = o instanceof Float32Array ? Math.fround : (v: number) => v
  for (let i = 0; i < o.length; i++) o[i] = g[i] * round(s[i] * round(1 - s[i]))
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

// Adam in one pass, rounding after every operation as the composition's kernels do (a float32 √
// of a float32, taken in double and rounded once, is the correctly rounded float32 √). One loop per
// dtype, for monomorphic element access.

const adam32 = (g: Float32Array, m: Float32Array, v: Float32Array, c: AdamConstants): AdamStepData => {
  const f = Math.fround
  const [b1, mb1, b2, mb2, c1, c2, eps] = [c.b1, 1 - c.b1, c.b2, 1 - c.b2, c.correct1, c.correct2, c.eps].map(f)
  const n = g.length
  const update = new Float32Array(n)
  const mNext = new Float32Array(n)
  const vNext = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const gi = g[i]
    const mi = (mNext[i] = f(f(m[i] * b1) + f(gi * mb1)))
    const vi = (vNext[i] = f(f(v[i] * b2) + f(f(gi * gi) * mb2)))
    update[i] = f(mi * c1) / f(f(Math.sqrt(f(vi * c2))) + eps)
  }
  return { update, m: mNext, v: vNext }
}

const adam64 = (g: Float64Array, m: Float64Array, v: Float64Array, c: AdamConstants): AdamStepData => {
  const [b1, mb1, b2, mb2, c1, c2, eps] = [c.b1, 1 - c.b1, c.b2, 1 - c.b2, c.correct1, c.correct2, c.eps]
  const n = g.length
  const update = new Float64Array(n)
  const mNext = new Float64Array(n)
  const vNext = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const gi = g[i]
    const mi = (mNext[i] = m[i] * b1 + gi * mb1)
    const vi = (vNext[i] = v[i] * b2 + gi * gi * mb2)
    update[i] = (mi * c1) / (Math.sqrt(vi * c2) + eps)
  }
  return { update, m: mNext, v: vNext }
}

const adam = (g: Data, m: Data, v: Data, c: AdamConstants): AdamStepData => {
  if (g instanceof Float32Array && m instanceof Float32Array && v instanceof Float32Array) return adam32(g, m, v, c)
  if (g instanceof Float64Array && m instanceof Float64Array && v instanceof Float64Array) return adam64(g, m, v, c)
  throw new Error(`adam: g, m and v must share one dtype, got ${dtypeOf(g)}, ${dtypeOf(m)} and ${dtypeOf(v)}.`)
}

const scatterRows = (x: Data, to: Int32Array, outRows: number, cols: number): Data => {
  const sums = new Float64Array(outRows * cols)
  for (let p = 0; p < to.length; p++) {
    const into = to[p] * cols
    const from = p * cols
    for (let j = 0; j < cols; j++) sums[into + j] += x[from + j]
  }
  return x instanceof Float32Array ? new Float32Array(sums) : sums
}

// ---- the first-order linear recurrence ----

/**
 * h_t = a_t ⊙ h_{t−1} + b_t, step by step. The next step reads the stored state, not a double
 * carried along, so in float32 the outputs are the states the backward pass multiplies by.
 */
const linearRecurrence = (a: Data, b: Data, h0: Data, time: number, size: number, complex: boolean): Data => {
  const o = like(a, time * size)
  for (let t = 0, at = 0; t < time; t++, at += size) {
    const prev: Data = t === 0 ? h0 : o
    const from = t === 0 ? 0 : at - size
    if (complex) {
      for (let i = 0; i < size; i += 2) {
        const ar = a[at + i], ai = a[at + i + 1], hr = prev[from + i], hi = prev[from + i + 1]
        o[at + i] = ar * hr - ai * hi + b[at + i]
        o[at + i + 1] = ar * hi + ai * hr + b[at + i + 1]
      }
    } else {
      for (let i = 0; i < size; i++) o[at + i] = a[at + i] * prev[from + i] + b[at + i]
    }
  }
  return o
}

/**
 * The reverse recurrence of `linearRecurrence`'s VJP, last step first. `carry` holds
 * a_{t+1} ⊙ λ_{t+1} (conjugated a for complex pairs) in doubles between steps.
 */
const linearRecurrenceBackward = (
  g: Data, a: Data, hs: Data, h0: Data, time: number, size: number, complex: boolean,
): LinearRecurrenceBackward => {
  const da = like(a, time * size)
  const db = like(a, time * size)
  const carry = new Float64Array(size)
  for (let t = time - 1, at = (time - 1) * size; t >= 0; t--, at -= size) {
    const prev: Data = t === 0 ? h0 : hs
    const from = t === 0 ? 0 : at - size
    if (complex) {
      for (let i = 0; i < size; i += 2) {
        const lr = g[at + i] + carry[i], li = g[at + i + 1] + carry[i + 1]
        const hr = prev[from + i], hi = prev[from + i + 1], ar = a[at + i], ai = a[at + i + 1]
        db[at + i] = lr
        db[at + i + 1] = li
        da[at + i] = lr * hr + li * hi
        da[at + i + 1] = li * hr - lr * hi
        carry[i] = ar * lr + ai * li
        carry[i + 1] = ar * li - ai * lr
      }
    } else {
      for (let i = 0; i < size; i++) {
        const l = g[at + i] + carry[i]
        db[at + i] = l
        da[at + i] = l * prev[from + i]
        carry[i] = a[at + i] * l
      }
    }
  }
  const dh0 = like(a, size)
  dh0.set(carry)
  return { da, db, dh0 }
}

/**
 * The reference backend: plain loops over typed arrays, which every other backend is tested against.
 * @example
 * ```ts
 * jsKernels.name // 'js'
 * Array.from(jsKernels.tanh(new Float64Array([0, 1000]))) // [0, 1]
 * const previous = useKernels(jsKernels)
 * try {
 *   sum(square(tensor([3, 4]))).item() // 25, computed by jsKernels
 * } finally {
 *   useKernels(previous)
 * }
 * ```
 * @category kernels
 */
export const jsKernels: Kernels = {
  name: 'js',
  neg, exp, log, sqrt, abs, sign, square, tanh, sigmoid, softplus, relu, leakyRelu, pow, cast,
  binary, where, sumInto, maxInto, argmax, gather, scatterAdd, matmul, gatherStrided, concatRows, scatterStrided, sumRows, sumColumns, maxColumns, scatterRows,
  tanhBackward, sigmoidBackward, adam, linearRecurrence, linearRecurrenceBackward, fused: runFused,
}
