/**
 * @file Error types shared by every layer. Imports nothing.
 *
 * Programmer errors (wrong shapes, wrong trees, a non-scalar loss) throw one of these classes; data
 * errors coming from outside (files, configs) are returned as `Either` by the io layer instead.
 * Messages follow one pattern: who is speaking, which rule was broken, what was seen, how to fix it.
 */

/**
 * An argument has the wrong shape for the operation.
 * @example
 * ```ts
 * const caught = (f: () => unknown): unknown => {
 *   try { f() } catch (e) { return e }
 * }
 * const e = caught(() => matmul(zeros([2, 3]), zeros([4, 5])))
 * e instanceof ShapeError // true
 * String(e)               // 'ShapeError: matmul: inner dimensions differ: a is [2, 3], b is [4, 5] (3 ≠ 4).'
 * ```
 * @category errors
 */
export class ShapeError extends Error {
  override readonly name = 'ShapeError'
}

/**
 * Two trees that must have the same structure do not, or a leaf is not what it should be.
 * @example
 * ```ts
 * const caught = (f: () => unknown): unknown => {
 *   try { f() } catch (e) { return e }
 * }
 * const e = caught(() => treeMap(add, { w: tensor(1) }, { v: tensor(1) }))
 * e instanceof TreeError // true
 * String(e)              // 'TreeError: treeMap: tree 1 does not have the expected structure: at (root): keys differ (only in the first: w; only in the second: v).'
 * ```
 * @category errors
 */
export class TreeError extends Error {
  override readonly name = 'TreeError'
}

/**
 * An argument has the wrong type, dtype or value (outside shapes and trees).
 * @example
 * ```ts
 * const caught = (f: () => unknown): unknown => {
 *   try { f() } catch (e) { return e }
 * }
 * const e = caught(() => randomKey(0.5))
 * e instanceof ValueError // true
 * String(e)               // 'ValueError: randomKey: the seed must be a safe integer, got 0.5.'
 * ```
 * @category errors
 */
export class ValueError extends Error {
  override readonly name = 'ValueError'
}

/** Formats a shape the way every message in the library writes it: `[2, 3]`. */
export const showShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`
