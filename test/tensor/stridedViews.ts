/**
 * @file Shared by the strided-view tests (indexing.test.ts, wasmElementwise.test.ts): naive index
 * arithmetic, the oracle, and an arbitrary of strided views as transposes, slices and broadcasts
 * produce them.
 */
import fc from 'fast-check'

/** `offset + Σ position[d]·strides[d]` for every row-major position of `shape`, by division. */
export const naiveIndex = (shape: readonly number[], strides: readonly number[], offset: number): number[] => {
  const size = shape.reduce((a, b) => a * b, 1)
  return Array.from({ length: size }, (_, i) => {
    let rest = i
    let flat = offset
    for (let d = shape.length - 1; d >= 0; d--) {
      flat += (rest % shape[d]) * strides[d]
      rest = Math.floor(rest / shape[d])
    }
    return flat
  })
}

/**
 * A strided view into a buffer: a random shape (lengths 0 to 5, some 1), strides drawn as a
 * permutation of the row-major strides of a larger buffer, some set to 0 (broadcasts), and an
 * offset, as transposes, slices and broadcasts produce them. `length` covers every index read.
 */
export const viewArb = (maxRank = 5) => fc.integer({ min: 0, max: maxRank }).chain((rank) => fc.record({
  shape: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: rank, maxLength: rank }),
  order: fc.shuffledSubarray(Array.from({ length: rank }, (_, i) => i), { minLength: rank, maxLength: rank }),
  broadcast: fc.array(fc.boolean(), { minLength: rank, maxLength: rank }),
  pad: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: rank, maxLength: rank }),
  offset: fc.integer({ min: 0, max: 7 }),
})).map(({ shape, order, broadcast, pad, offset }) => {
  // The buffer has axis order `order` and each axis `pad` longer than the view (a slice).
  const strides = new Array<number>(shape.length).fill(0)
  let k = 1
  for (let i = order.length - 1; i >= 0; i--) {
    const d = order[i]
    strides[d] = broadcast[d] && shape[d] > 1 ? 0 : k
    k *= Math.max(shape[d], 1) + pad[d]
  }
  return { shape, strides, offset, length: offset + k }
})
