/**
 * @file Constructors and dtypes: tensor, zeros, ones, full, scalar, eye, arange; casting and dtype
 * promotion in binary ops and in gradients.
 */
import { describe, expect, it } from 'vitest'
import {
  type Tensor, ShapeError, ValueError, add, arange, cast, eye, full, grad, matmul, mul, ones, scalar, sum, tensor, zeros,
} from '../../src/index.js'

describe('tensor', () => {
  it('builds from a number, nested arrays and typed arrays', () => {
    expect(tensor(2.5).shape).toEqual([])
    expect(tensor([1, 2, 3]).shape).toEqual([3])
    expect(tensor([[1, 2], [3, 4]]).toArray()).toEqual([[1, 2], [3, 4]])
    expect(tensor([]).shape).toEqual([0])
    expect(tensor([[]]).shape).toEqual([1, 0])
    const f32 = tensor(new Float32Array([1, 2, 3, 4]), { shape: [2, 2] })
    expect(f32.dtype).toBe('float32')
    expect(f32.toArray()).toEqual([[1, 2], [3, 4]])
  })

  it('copies a typed array, so later writes to it do not reach the tensor', () => {
    const source = new Float64Array([1, 2])
    const x = tensor(source)
    source[0] = 99
    expect(x.toArray()).toEqual([1, 2])
  })

  it('takes a dtype and a shape', () => {
    const x = tensor([0.1, 0.2], { dtype: 'float32' })
    expect(x.dtype).toBe('float32')
    expect(x.data[0]).toBe(Math.fround(0.1))
    expect(tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }).toArray()).toEqual([[1, 2], [3, 4], [5, 6]])
    expect(tensor(new Float32Array([1, 2]), { dtype: 'float64' }).dtype).toBe('float64')
  })

  it('rejects ragged arrays, non-numbers, bad dtypes and shapes that do not fit', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError)
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged: expected 2 entries at \[1\]/)
    expect(() => tensor([[1, 2], [3, 'x' as unknown as number]])).toThrow(/expected a number at \[1\]\[1\], got string/)
    expect(() => tensor([1], { dtype: 'int32' as 'float32' })).toThrow(ValueError)
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/3 values cannot take shape \[2, 2\]/)
    expect(() => tensor([1, 2], { shape: [-1, -2] })).toThrow(/non-negative integers/)
  })
})

describe('constructors', () => {
  it('zeros, ones, full and scalar', () => {
    expect(zeros([2, 2]).toArray()).toEqual([[0, 0], [0, 0]])
    expect(ones([3]).toArray()).toEqual([1, 1, 1])
    expect(full([2], 7, { dtype: 'float32' }).data).toEqual(new Float32Array([7, 7]))
    expect(scalar(4).shape).toEqual([])
    expect(scalar(4, 'float32').dtype).toBe('float32')
    expect(zeros([0]).size).toBe(0)
    expect(() => zeros([2.5])).toThrow(ShapeError)
  })

  it('eye and arange', () => {
    expect(eye(2).toArray()).toEqual([[1, 0], [0, 1]])
    expect(eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]])
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3])
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75])
    expect(arange(3, 0, -1).toArray()).toEqual([3, 2, 1])
    expect(arange(2, 1).size).toBe(0)
    expect(() => arange(0, 1, 0)).toThrow(/step must be a finite non-zero number/)
  })
})

describe('dtypes', () => {
  const x32 = tensor([1.5, -2], { dtype: 'float32' })
  const x64 = tensor([0.25, 4])

  it('cast converts in both directions and rounds to float32', () => {
    expect(cast(x64, 'float32').dtype).toBe('float32')
    expect(cast(x32, 'float64').dtype).toBe('float64')
    expect(cast(tensor([1 / 3]), 'float32').item()).toBe(Math.fround(1 / 3))
    expect(cast(x32, 'float32')).toBe(x32)
    expect(() => cast(x32, 'float16' as 'float32')).toThrow(/dtype must be 'float32' or 'float64', got "float16"/)
  })

  it('ops keep float32; mixing float32 with float64 promotes to float64', () => {
    expect(add(x32, x32).dtype).toBe('float32')
    expect(mul(x32, 2).dtype).toBe('float32')
    expect(add(x32, x64).dtype).toBe('float64')
    expect(add(x32, x64).toArray()).toEqual([1.75, 2])
    expect(matmul(tensor([[1, 2]], { dtype: 'float32' }), tensor([[1], [1]])).dtype).toBe('float64')
    expect(sum(x32).dtype).toBe('float32')
  })

  it('a gradient has the dtype of its argument, even through a promotion', () => {
    const g = grad((a: Tensor) => sum(mul(a, x64)))(x32)
    expect(g.dtype).toBe('float32')
    expect(g.toArray()).toEqual([0.25, 4])
    expect(grad((a: Tensor) => sum(cast(a, 'float32')))(x64).dtype).toBe('float64')
  })
})
