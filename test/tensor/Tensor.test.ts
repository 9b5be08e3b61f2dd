/**
 * @file The Tensor type: shape, size, rank, dtype, toArray and item, and that tensors do not change.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ShapeError, Tensor, add, isTensor, tensor, zeros } from '../../src/index.js'
import { allFinite } from '../../src/tensor/Tensor.js'

describe('Tensor', () => {
  it('reports shape, size, rank and dtype', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]])
    expect(x.shape).toEqual([2, 3])
    expect(x.size).toBe(6)
    expect(x.rank).toBe(2)
    expect(x.dtype).toBe('float64')
    expect(x.data).toBeInstanceOf(Float64Array)
    expect(String(x)).toBe('Tensor(float64, [2, 3])')
  })

  it('toArray returns nested arrays, a number for a scalar', () => {
    expect(tensor(7).toArray()).toBe(7)
    expect(tensor([[[1], [2]]]).toArray()).toEqual([[[1], [2]]])
    expect(zeros([2, 0]).toArray()).toEqual([[], []])
    expect(zeros([0, 2]).toArray()).toEqual([])
  })

  it('item reads a one-element tensor of any rank and rejects others with the shape', () => {
    expect(tensor(3).item()).toBe(3)
    expect(tensor([[3]]).item()).toBe(3)
    expect(() => tensor([1, 2]).item()).toThrow(ShapeError)
    expect(() => tensor([1, 2]).item()).toThrow(/exactly one element, but has shape \[2\]/)
  })

  it('checks that the data fits the shape', () => {
    expect(() => new Tensor(new Float64Array(5), [2, 3])).toThrow(/shape \[2, 3\] holds 6 elements but the data has 5/)
  })

  it('is immutable: the shape is frozen and ops never write to their inputs', () => {
    const x = tensor([1, 2])
    expect(Object.isFrozen(x.shape)).toBe(true)
    const before = Array.from(x.data)
    add(x, x)
    expect(Array.from(x.data)).toEqual(before)
  })

  it('isTensor', () => {
    expect(isTensor(tensor(1))).toBe(true)
    expect(isTensor([1])).toBe(false)
    expect(isTensor(null)).toBe(false)
  })
})

describe('allFinite', () => {
  const special = fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1e308, -3.4e38, 5e-324)
  it.each(['float32', 'float64'] as const)('agrees with every(Number.isFinite) on %s data, any length and position', (dtype) => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.double(), special), { maxLength: 40 }), (values) => {
      const data = dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values)
      expect(allFinite(data)).toBe(data.every(Number.isFinite))
    }), { numRuns: 300, seed: 11 })
  })

  it('finds a single non-finite element among finite ones in every lane of the unrolled loop', () => {
    for (let at = 0; at < 11; at++) {
      const data = new Float64Array(11).fill(2.5)
      data[at] = NaN
      expect(allFinite(data), `NaN at ${at}`).toBe(false)
      data[at] = -Infinity
      expect(allFinite(data), `−∞ at ${at}`).toBe(false)
    }
    expect(allFinite(new Float32Array(0))).toBe(true)
  })
})
