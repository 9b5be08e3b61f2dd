/**
 * @file Shared by the io tests: bit-exact tensor comparison, arbitraries for tensors of both dtypes
 * (with NaN, ±0, ±∞) and for pytrees with awkward keys, and builders for hand-made safetensors bytes.
 */
import fc from 'fast-check'
import { expect } from 'vitest'
import { Tensor, arbitraries, treeFlatten } from '../../src/index.js'

/** Asserts two tensors have the same dtype, shape and bits (Object.is: −0 ≠ 0, NaN = NaN). */
export const expectSameBits = (actual: unknown, expected: Tensor, where = 'tensor'): void => {
  expect(actual, where).toBeInstanceOf(Tensor)
  const a = actual as Tensor
  expect(a.dtype, `${where} dtype`).toBe(expected.dtype)
  expect(a.shape, `${where} shape`).toEqual(expected.shape)
  for (let i = 0; i < a.size; i++) {
    if (!Object.is(a.data[i], expected.data[i])) expect(a.data[i], `${where}[${i}]`).toBe(expected.data[i])
  }
}

/** Asserts two pytrees have the same structure (key order, arrays, null vs undefined) and leaf bits. */
export const expectSameTree = (actual: unknown, expected: unknown, where = 'tree'): void => {
  const a = treeFlatten(actual)
  const e = treeFlatten(expected)
  expect(a.def, `${where} structure`).toStrictEqual(e.def)
  e.leaves.forEach((x, i) => expectSameBits(a.leaves[i], x, `${where} leaf ${i}`))
}

/** Tensors of either dtype, dims 0..3 (empty tensors included), any value including NaN, ±0, ±∞. */
export const anyTensor = (maxDim = 3): fc.Arbitrary<Tensor> =>
  fc.tuple(fc.constantFrom('float32' as const, 'float64' as const), arbitraries.shape({ minDim: 0, maxDim, maxRank: 3 })).chain(([dtype, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1)
    const value = dtype === 'float32' ? fc.float() : fc.double()
    return fc.array(value, { minLength: n, maxLength: n }).map((values) => {
      const data = dtype === 'float32' ? new Float32Array(values) : new Float64Array(values)
      return new Tensor(data, shape)
    })
  })

/** Object keys that stress naming: dots, percents, integer-like keys (which JS orders first), empty. */
export const awkwardKey = fc.oneof(
  fc.constantFrom('w', 'b', 'mu', 'wIn', '0', '1', '10', 'a.b', 'a%2Eb', '%', '', 'x y', 'é', '__proto__'),
  fc.string({ maxLength: 3 }),
)

/** Pytrees of tensors, null and undefined, nested in arrays and objects (built from entries). */
export const pytree = (leaf: fc.Arbitrary<Tensor> = anyTensor(2)): fc.Arbitrary<unknown> =>
  fc.letrec<{ tree: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
    tree: fc.oneof({ depthSize: 'small' }, leaf, fc.constant(null), fc.constant(undefined), tie('array'), tie('object')),
    array: fc.array(tie('tree'), { maxLength: 3 }),
    object: fc
      .uniqueArray(fc.tuple(awkwardKey, tie('tree')), { maxLength: 4, selector: ([k]) => k })
      .map((entries) => Object.fromEntries(entries)),
  })).tree

const encoder = new TextEncoder()

/** Little-endian bytes of float32 values. */
export const f32le = (values: readonly number[]): Uint8Array => {
  const out = new Uint8Array(4 * values.length)
  const view = new DataView(out.buffer)
  values.forEach((v, i) => view.setFloat32(4 * i, v, true))
  return out
}

/** Little-endian bytes of float64 values. */
export const f64le = (values: readonly number[]): Uint8Array => {
  const out = new Uint8Array(8 * values.length)
  const view = new DataView(out.buffer)
  values.forEach((v, i) => view.setFloat64(8 * i, v, true))
  return out
}

/**
 * A safetensors file by hand: u64 LE header length, the header text (padded with spaces to a
 * multiple of 8 when `pad`), then the data. `headerLength` overrides the length prefix.
 */
export const buildSafetensors = (
  header: string,
  data: readonly Uint8Array[],
  options: { readonly pad?: boolean; readonly headerLength?: number } = {},
): Uint8Array => {
  let json = encoder.encode(header)
  if (options.pad ?? true) {
    const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20)
    padded.set(json)
    json = padded
  }
  const dataLength = data.reduce((n, d) => n + d.length, 0)
  const out = new Uint8Array(8 + json.length + dataLength)
  const view = new DataView(out.buffer)
  const n = options.headerLength ?? json.length
  view.setUint32(0, n % 2 ** 32, true)
  view.setUint32(4, Math.floor(n / 2 ** 32), true)
  out.set(json, 8)
  let at = 8 + json.length
  for (const d of data) {
    out.set(d, at)
    at += d.length
  }
  return out
}

/** The header text of safetensors bytes (without padding). */
export const headerText = (bytes: Uint8Array): string => {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true)
  return new TextDecoder().decode(bytes.subarray(8, 8 + n)).trimEnd()
}
