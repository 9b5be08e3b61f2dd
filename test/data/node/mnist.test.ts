import { beforeAll, describe, expect, it } from 'vitest'
import { randomKey } from '../../../src/index.js'
import { MNIST_SIZE, loadMnist, type Mnist } from '../../../src/data/node/index.js'

describe('loadMnist', () => {
  let mnist: Mnist
  beforeAll(() => {
    mnist = loadMnist({ seed: 0 })
  })

  it('gives [n, 28, 28] images in [0, 1] with integer labels, 8,000 / 2,000 by default', () => {
    const { train, test } = mnist
    expect(MNIST_SIZE).toBe(28)
    expect(train.images.shape).toEqual([8000, 28, 28])
    expect(test.images.shape).toEqual([2000, 28, 28])
    expect(train.images.dtype).toBe('float64')
    expect(train.labels).toHaveLength(8000)
    let lo = Infinity
    let hi = -Infinity
    for (const v of train.images.data) {
      lo = Math.min(lo, v)
      hi = Math.max(hi, v)
    }
    expect(lo).toBe(0)
    expect(hi).toBeGreaterThan(0.99)
    expect(hi).toBeLessThanOrEqual(1)
    expect([...train.labels, ...test.labels].every((l) => Number.isInteger(l) && l >= 0 && l <= 9)).toBe(true)
  })

  it('has every digit roughly equally often in both parts (the package holds 863–1,127 per class)', () => {
    for (const part of [mnist.train, mnist.test]) {
      const counts = Array.from({ length: 10 }, () => 0)
      for (const l of part.labels) counts[l]++
      const share = counts.map((c) => c / part.labels.length)
      expect(Math.min(...share)).toBeGreaterThan(0.07)
      expect(Math.max(...share)).toBeLessThan(0.13)
    }
  })

  it('holds real digits: ink in the centre, blank corners, each image with some ink', () => {
    const { images } = mnist.test
    const at = (i: number, r: number, c: number) => images.data[(i * 28 + r) * 28 + c]
    let centre = 0
    let corner = 0
    for (let i = 0; i < 2000; i++) {
      centre += at(i, 14, 14)
      corner += at(i, 0, 0) + at(i, 27, 27)
      let ink = 0
      for (let p = 0; p < 784; p++) ink += images.data[i * 784 + p]
      expect(ink).toBeGreaterThan(10)
    }
    expect(centre / 2000).toBeGreaterThan(0.2)
    expect(corner).toBe(0)
  })

  it('splits reproducibly: same seed → same split, other seed → another, key ≡ seed', () => {
    const again = loadMnist({ seed: 0, dtype: 'float32' })
    expect(again.test.ids).toEqual(mnist.test.ids)
    expect(again.train.labels).toEqual(mnist.train.labels)
    expect(again.test.images.dtype).toBe('float32')
    expect(Math.abs(again.test.images.data[5000] - mnist.test.images.data[5000])).toBeLessThan(1e-7)
    expect(loadMnist({ key: randomKey(0) }).test.ids).toEqual(mnist.test.ids)
    expect(loadMnist({ seed: 1 }).test.ids).not.toEqual(mnist.test.ids)
    const ids = new Set([...mnist.train.ids, ...mnist.test.ids])
    expect(ids.size).toBe(10000)
    expect(loadMnist({ seed: 0, testFraction: 0.5 }).test.ids).toHaveLength(5000)
  })

  it('refuses a test fraction outside (0, 1)', () => {
    expect(() => loadMnist({ seed: 0, testFraction: 1 })).toThrow(/testFraction must lie in \(0, 1\)/)
  })
})
