/**
 * @file Error types shared by every layer. Imports nothing.
 *
 * Programmer errors (wrong shapes, wrong trees, a non-scalar loss) throw one of these classes; data
 * errors coming from outside (files, configs) are returned as `Either` by the io layer instead.
 * Messages follow one pattern: who is speaking, which rule was broken, what was seen, how to fix it.
 */

/** An argument has the wrong shape for the operation. */
export class ShapeError extends Error {
  override readonly name = 'ShapeError'
}

/** Two trees that must have the same structure do not, or a leaf is not what it should be. */
export class TreeError extends Error {
  override readonly name = 'TreeError'
}

/** An argument has the wrong type, dtype or value (outside shapes and trees). */
export class ValueError extends Error {
  override readonly name = 'ValueError'
}

/** Formats a shape the way every message in the library writes it: `[2, 3]`. */
export const showShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`
