/**
 * @file Products with a one-hot operand, done as row selection: when every row of A holds a single
 * 1 and zeros elsewhere (one-hot encoded symbols, the usual input of a character model), `A·B`
 * picks rows of B and `Aᵀ·G` adds rows of G into place. Detecting it costs one pass over A, which
 * stops at the first entry that is neither 0 nor the row's single 1, so a dense A pays almost
 * nothing. The row additions of `Aᵀ·B` run on the active backend (`scatterRows`).
 */
import { type Data, allFinite } from './Tensor.js'
import { addToRows } from './affine.js'
import { K } from './backend.js'
import { jsKernels } from './jsKernels.js'

/** Products smaller than this (multiply-adds) are not worth the scan. */
const MIN_WORK = 1 << 15

/**
 * For x viewed as `[rows, cols]`: the column of each row's single 1 when every row is one-hot,
 * else null.
 */
export const oneHotColumns = (x: Data, rows: number, cols: number): Int32Array | null => {
  const columns = new Int32Array(rows)
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    let found = -1
    for (let j = 0; j < cols; j++) {
      const v = x[base + j]
      if (v === 0) continue
      if (v !== 1 || found >= 0) return null
      found = j
    }
    if (found < 0) return null
    columns[r] = found
  }
  return columns
}

/**
 * What the scan found for each A, by its data: a product's A is usually met again by its VJP (the
 * input-weight gradient `xᵀ·dZ` reads the same one-hot x), and tensor data is never written.
 */
const scanned = new WeakMap<Data, { readonly rows: number; readonly columns: Int32Array | null }>()

/** `oneHotColumns`, remembered per A and view. */
const columnsOf = (x: Data, rows: number, cols: number): Int32Array | null => {
  const known = scanned.get(x)
  if (known !== undefined && known.rows === rows) return known.columns
  const columns = oneHotColumns(x, rows, cols)
  scanned.set(x, { rows, columns })
  return columns
}

/** op(A)'s one-hot columns when an m × k · k × n product is worth selecting (see `selectProduct`), else null. */
const selectable = (a: Data, m: number, k: number, n: number, transposeA: boolean): Int32Array | null =>
  m * k * n < MIN_WORK || k < 8 ? null : transposeA ? columnsOf(a, k, m) : columnsOf(a, m, k)

/** Row `columns[i]` of b `[·, n]` as row i of an `[m, n]` array. */
const selectRows = (b: Data, columns: Int32Array, m: number, n: number): Data => {
  const out = b instanceof Float32Array ? new Float32Array(m * n) : new Float64Array(m * n)
  for (let i = 0; i < m; i++) out.set(b.subarray(columns[i] * n, (columns[i] + 1) * n), i * n)
  return out
}

/**
 * `op(A)·B` by selection when A `[rows, cols]` (as stored) is one-hot by rows and B is finite, else
 * null: `A·B` (m = rows, k = cols) copies row `column[i]` of B to row i; `Aᵀ·B` (k = rows, m = cols)
 * adds row p of B to row `column[p]` (in order of p, accumulated in doubles as jsKernels.matmul
 * does). Equal to the product up to its summation order. Selection skips the 0·b terms, which are
 * NaN for b = ±∞ or NaN, hence the finiteness condition.
 */
export const selectProduct = (a: Data, b: Data, m: number, k: number, n: number, transposeA: boolean): Data | null => {
  const columns = selectable(a, m, k, n, transposeA)
  if (columns === null) return null
  if (!transposeA) return allFinite(b) ? selectRows(b, columns, m, n) : null
  // Every row of B lands in some row of the sums, so a non-finite B leaves a non-finite sum: checking
  // the m·n sums instead of the k·n entries of B (the VJP's B is the long cotangent).
  const sums = (K.scatterRows ?? jsKernels.scatterRows!)(b, columns, m, n)
  return allFinite(sums) ? sums : null
}

/**
 * `A·B + bias` by selection under `selectProduct`'s conditions (A `[m, k]` one-hot by rows, B
 * finite), else null. Each output row is some row of B plus the bias, so the bias goes onto
 * whichever is fewer, B's k rows before selecting or the m selected ones after: the same sums
 * either way, and a character model's vocabulary is far shorter than its batch · time rows.
 */
export const selectAffine = (a: Data, b: Data, bias: Data, m: number, k: number, n: number): Data | null => {
  const columns = selectable(a, m, k, n, false)
  if (columns === null || !allFinite(b)) return null
  return k < m ? selectRows(addToRows(K, b, bias), columns, m, n) : addToRows(K, selectRows(b, columns, m, n), bias)
}
