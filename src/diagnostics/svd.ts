/**
 * @file Singular values of a small dense matrix in float64, by one-sided Jacobi (Hestenes 1958):
 * plane rotations orthogonalise the columns pairwise until every pair is orthogonal to working
 * precision; the singular values are then the columns' norms. Slower than bidiagonalisation for
 * large matrices, but simple and accurate for small ones — even tiny singular values come out with
 * high relative accuracy (Demmel & Veselić 1992). Imports nothing from the tape.
 */
import { ShapeError } from '../errors.js'

/** Sweeps over all column pairs; quadratic convergence needs far fewer (about 6–10 at n = 100). */
const MAX_SWEEPS = 60

/** Two columns count as orthogonal when |⟨u, v⟩| ≤ TOLERANCE·‖u‖·‖v‖. */
const TOLERANCE = 1e-15

/**
 * The singular values of a `rows × cols` matrix given row-major, largest first: `min(rows, cols)`
 * non-negative numbers.
 * @param matrix `rows · cols` entries, row-major
 * @example
 * ```ts
 * diagnostics.singularValues([3, 0, 0, -2], 2, 2)  // [3, 2]
 * diagnostics.singularValues([1, 1, 1, 1, 1, 1], 2, 3) // [2.449, 0]: rank 1
 * ```
 * @category diagnostics
 */
export const singularValues = (matrix: ArrayLike<number>, rows: number, cols: number): number[] => {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || matrix.length !== rows * cols) {
    throw new ShapeError(`diagnostics.singularValues: expected ${rows} × ${cols} = ${rows * cols} row-major entries, got ${matrix.length}.`)
  }
  // Orthogonalise the columns of the taller orientation: min(rows, cols) columns, each as long as the other side.
  const tall = rows >= cols
  const [length, count] = tall ? [rows, cols] : [cols, rows]
  const columns = Array.from({ length: count }, (_, j) => Float64Array.from({ length }, (_, i) => (tall ? matrix[i * cols + j] : matrix[j * cols + i])))
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false
    for (let p = 0; p < count - 1; p++) {
      for (let q = p + 1; q < count; q++) {
        if (rotate(columns[p], columns[q])) rotated = true
      }
    }
    if (!rotated) break
  }
  return columns.map(norm).sort((a, b) => b - a)
}

/**
 * Rotates columns u and v in their plane so that they become orthogonal; false when they already
 * are. The angle is the one that diagonalises `[[α, γ], [γ, β]]` (α = ‖u‖², β = ‖v‖², γ = ⟨u, v⟩),
 * with the smaller of the two tangents for stability.
 */
const rotate = (u: Float64Array, v: Float64Array): boolean => {
  let alpha = 0
  let beta = 0
  let gamma = 0
  for (let k = 0; k < u.length; k++) {
    alpha += u[k] * u[k]
    beta += v[k] * v[k]
    gamma += u[k] * v[k]
  }
  if (gamma === 0 || Math.abs(gamma) <= TOLERANCE * Math.sqrt(alpha) * Math.sqrt(beta)) return false
  const zeta = (beta - alpha) / (2 * gamma)
  const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.hypot(1, zeta))
  const c = 1 / Math.hypot(1, t)
  const s = c * t
  for (let k = 0; k < u.length; k++) {
    const a = u[k]
    const b = v[k]
    u[k] = c * a - s * b
    v[k] = s * a + c * b
  }
  return true
}

/** ‖x‖₂ without overflow or underflow for extreme entries. */
export const norm = (x: ArrayLike<number>): number => {
  let scale = 0
  for (let i = 0; i < x.length; i++) scale = Math.max(scale, Math.abs(x[i]))
  if (scale === 0 || !Number.isFinite(scale)) return scale
  let sum = 0
  for (let i = 0; i < x.length; i++) sum += (x[i] / scale) ** 2
  return scale * Math.sqrt(sum)
}
