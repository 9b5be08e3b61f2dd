import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Tensor, tensor } from '../../src/index.js'
import { decodeSafetensors, encodeSafetensors, loadSafetensors } from '../../src/io/index.js'
import { anyTensor, awkwardKey, buildSafetensors, expectSameBits, f32le, f64le, headerText } from './helpers.js'

const SOURCE = 'bad.safetensors'

const right = <A>(result: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(result)) throw new Error(`expected Right, got Left:\n${result.left.message}`)
  return result.right
}

/** Asserts a Left whose message contains every fragment. */
const expectLeft = (result: E.Either<{ message: string; kind: string }, unknown>, fragments: readonly string[]): string => {
  if (E.isRight(result)) throw new Error('expected Left, got Right')
  for (const f of fragments) expect(result.left.message).toContain(f)
  return result.left.message
}

const namedTensors = fc
  .uniqueArray(fc.tuple(awkwardKey.filter((k) => k !== '__metadata__'), anyTensor()), { maxLength: 5, selector: ([k]) => k })
  .map((entries) => Object.fromEntries(entries) as Record<string, Tensor>)

describe('io.encodeSafetensors / io.decodeSafetensors', () => {
  it('round-trips tensors and metadata bit for bit (−0, ±∞, NaN, empty and scalar tensors)', () => {
    fc.assert(
      fc.property(namedTensors, fc.option(fc.dictionary(fc.string(), fc.string()), { nil: undefined }), (tensors, metadata) => {
        const bytes = encodeSafetensors(tensors, metadata)
        const decoded = right(decodeSafetensors(bytes))
        expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(tensors).sort())
        for (const [name, x] of Object.entries(tensors)) expectSameBits(decoded.tensors[name], x, name)
        expect(decoded.metadata).toEqual(metadata ?? {})
      }),
      { numRuns: 50, seed: 20240501 },
    )
  })

  it('lays files out deterministically: F64 first, names sorted, header padded to 8, offsets aligned', () => {
    const a = tensor([1, 2, 3], { dtype: 'float32' })
    const b = tensor([[1, 2]], { dtype: 'float64' })
    const c = tensor(5, { dtype: 'float32' })
    const one = encodeSafetensors({ c, a, b, '0': a }, { z: '1', a: '2' })
    const two = encodeSafetensors({ '0': a, b, a, c }, { a: '2', z: '1' })
    expect(one).toEqual(two)
    expect(headerText(one)).toBe(
      '{"__metadata__":{"a":"2","z":"1"},"b":{"dtype":"F64","shape":[1,2],"data_offsets":[0,16]},' +
        '"0":{"dtype":"F32","shape":[3],"data_offsets":[16,28]},"a":{"dtype":"F32","shape":[3],"data_offsets":[28,40]},' +
        '"c":{"dtype":"F32","shape":[],"data_offsets":[40,44]}}',
    )
    const headerLength = new DataView(one.buffer).getUint32(0, true)
    expect(headerLength % 8).toBe(0)
    expect(one.length).toBe(8 + headerLength + 44)
  })

  it('decodes a hand-built file with an unaligned F64 (offset 4) and a space-padded header', () => {
    const header = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F64","shape":[2],"data_offsets":[4,20]}}'
    const bytes = buildSafetensors(header, [f32le([1.5]), f64le([-0, 1e-310])])
    expect(headerText(bytes)).toBe(header)
    expect(new DataView(bytes.buffer).getUint32(0, true)).toBeGreaterThan(header.length) // spaces were added
    const { tensors, metadata } = right(decodeSafetensors(bytes))
    expect(metadata).toEqual({})
    expectSameBits(tensors.a, tensor([1.5], { dtype: 'float32' }))
    expectSameBits(tensors.b, tensor([-0, 1e-310]))
    // The tensors own aligned copies: changing the file's bytes afterwards changes nothing.
    expect(tensors.b.data.byteOffset).toBe(0)
    expect(tensors.b.data.buffer.byteLength).toBe(16)
    bytes.fill(0)
    expect(tensors.b.data[1]).toBe(1e-310)
  })

  it('accepts a null __metadata__, as the reference reader does', () => {
    const bytes = buildSafetensors('{"__metadata__":null,"x":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}', [f64le([2])])
    const { tensors, metadata } = right(decodeSafetensors(bytes))
    expect(metadata).toEqual({})
    expectSameBits(tensors.x, tensor(2))
  })

  it('decodes an unpadded header (odd length) and an input that is a view at an odd byte offset', () => {
    const header = '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}' // 57 bytes: data starts at 65
    const inner = buildSafetensors(header, [f32le([1, 2, 3, 4])], { pad: false })
    const outer = new Uint8Array(inner.length + 3)
    outer.set(inner, 3)
    const { tensors } = right(decodeSafetensors(outer.subarray(3)))
    expectSameBits(tensors.w, tensor([[1, 2], [3, 4]], { dtype: 'float32' }))
  })

  it("loads, by name, a file in the byte layout of PyTorch's safetensors.torch.save_file (nn.RNN state dict)", async () => {
    // The reference (Rust) serializer writes `__metadata__` first, then tensors ordered by dtype
    // (descending) and name, compact JSON, spaces up to a multiple of 8, data contiguous.
    const header =
      '{"__metadata__":{"format":"pt"},' +
      '"bias_hh_l0":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"bias_ih_l0":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
      '"weight_hh_l0":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},' +
      '"weight_ih_l0":{"dtype":"F32","shape":[2,3],"data_offsets":[32,56]}}'
    const values = {
      bias_hh_l0: [0.25, -0.5],
      bias_ih_l0: [0.1, 0.2],
      weight_hh_l0: [1, 2, 3, 4],
      weight_ih_l0: [-1, 0.3, 0.7, 1e-3, -0, 65504],
    }
    const bytes = buildSafetensors(header, [f32le(values.bias_hh_l0), f32le(values.bias_ih_l0), f32le(values.weight_hh_l0), f32le(values.weight_ih_l0)])
    const dir = mkdtempSync(join(tmpdir(), 'scangrad-io-'))
    const path = join(dir, 'rnn.safetensors')
    writeFileSync(path, bytes)

    const { tensors, metadata } = right(await loadSafetensors(path))
    expect(metadata).toEqual({ format: 'pt' })
    expectSameBits(tensors.weight_ih_l0, tensor(values.weight_ih_l0, { dtype: 'float32', shape: [2, 3] }))
    expectSameBits(tensors.weight_hh_l0, tensor(values.weight_hh_l0, { dtype: 'float32', shape: [2, 2] }))
    expectSameBits(tensors.bias_ih_l0, tensor(values.bias_ih_l0, { dtype: 'float32' }))
    expectSameBits(tensors.bias_hh_l0, tensor(values.bias_hh_l0, { dtype: 'float32' }))
    // And scangrad writes the very same bytes for the same state dict.
    expect(encodeSafetensors(tensors, metadata)).toEqual(bytes)
    rmSync(dir, { recursive: true })
  })

  it('rejects every strict prefix of a valid file (truncation), naming the source', () => {
    fc.assert(
      fc.property(namedTensors, fc.nat(), (tensors, cut) => {
        const bytes = encodeSafetensors(tensors, { note: 'x' })
        const result = decodeSafetensors(bytes.subarray(0, cut % bytes.length), SOURCE)
        expectLeft(result, [SOURCE])
      }),
      { numRuns: 50, seed: 7 },
    )
  })

  describe('rejects corrupted files with a message naming the file, the tensor or field, and what was expected', () => {
    const ok = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    const cases: Array<[string, Uint8Array, string[]]> = [
      ['shorter than the length prefix', new Uint8Array(5), ['5 bytes long', '8-byte header length']],
      ['a header length beyond the file', buildSafetensors(ok, [f32le([1, 2])], { headerLength: 4000 }), ['header length is 4000 bytes', 'truncated']],
      ['a header length ≥ 2³²', buildSafetensors(ok, [f32le([1, 2])], { headerLength: 2 ** 33 }), ['header length is 8589934592 bytes']],
      ['a header that is not JSON', buildSafetensors('{"x": nope}', []), ['header is not valid JSON']],
      ['a header that is not UTF-8', (() => { const b = buildSafetensors('{"x":1}', []); b[9] = 0xff; return b })(), ['not valid UTF-8']],
      ['a header that is an array', buildSafetensors('[1, 2]', []), ['header/: expected an object mapping tensor names', 'got [1,2]']],
      ['a missing field', buildSafetensors('{"x":{"dtype":"F32","shape":[2]}}', [f32le([1, 2])]), ['header/x/data_offsets: is missing (expected a list [begin, end]']],
      ['a negative dimension', buildSafetensors('{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', [f32le([1, 2])]), ['header/x/shape/0: expected a non-negative integer, got -2']],
      ['offsets of three numbers', buildSafetensors('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}', [f32le([1, 2])]), ['header/x/data_offsets: expected a list [begin, end]', 'got [0,8,9]']],
      ['non-string metadata', buildSafetensors('{"__metadata__":{"epoch":3}}', []), ['header/__metadata__/epoch: expected a string, got 3']],
      ['a BF16 tensor', buildSafetensors('{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}', [new Uint8Array(4)]), ["dtype BF16 of tensor 'x' is not supported; scangrad reads F32 and F64", '.float()']],
      ['an I64 tensor', buildSafetensors('{"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', [new Uint8Array(8)]), ["dtype I64 of tensor 'ids' is not supported"]],
      ['an unknown dtype', buildSafetensors('{"x":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}', [f32le([1, 2])]), ["tensor 'x' has unknown dtype \"F33\""]],
      ['offsets beyond the data', buildSafetensors(ok, [f32le([1])]), ["tensor 'x' has data_offsets [0, 8] beyond the end of the data buffer (4 bytes)", 'truncated']],
      ['reversed offsets', buildSafetensors('{"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}', [f32le([1, 2])]), ["tensor 'x' has data_offsets [8, 4]: the beginning is after the end"]],
      ['a byte count that does not match the shape', buildSafetensors('{"x":{"dtype":"F64","shape":[2,3],"data_offsets":[0,40]}}', [f64le([1, 2, 3, 4, 5])]), ["tensor 'x' of dtype F64 and shape [2, 3] needs 48 bytes, but data_offsets [0, 40] hold 40"]],
      [
        'overlapping tensors',
        buildSafetensors('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', [f32le([1, 2, 3])]),
        ["tensor 'b' has data_offsets [4, 12], which overlap tensor 'a' at [0, 8]"],
      ],
      [
        'a tensor overlapping a long one that is not its neighbour',
        buildSafetensors(
          '{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"c":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
          [f32le([1, 2, 3, 4])],
        ),
        ["tensor 'b' has data_offsets [4, 8], which overlap tensor 'a'", "tensor 'c' has data_offsets [8, 12], which overlap tensor 'a' at [0, 16]"],
      ],
    ]
    it.each(cases)('%s', (_, bytes, fragments) => {
      const result = decodeSafetensors(bytes, SOURCE)
      const message = expectLeft(result, fragments)
      expect(message.startsWith(`${SOURCE}: `)).toBe(true)
      expect(E.isLeft(result) && result.left.kind).toBe('corrupt')
    })

    it('lists every bad tensor, one line each, and points `path` at the first', () => {
      const header = '{"a":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}'
      const result = decodeSafetensors(buildSafetensors(header, [f32le([1, 2])]), SOURCE)
      const message = expectLeft(result, ["dtype BF16 of tensor 'a'", "tensor 'b' of dtype F32 and shape [3] needs 12 bytes"])
      expect(message.split('\n').filter((l) => l.startsWith(SOURCE))).toHaveLength(2)
      expect(E.isLeft(result) && result.left.path).toBe('header/a/dtype')
    })
  })

  it('refuses to encode what is not a tensor record (programmer errors throw)', () => {
    expect(() => encodeSafetensors({ w: [1, 2] as unknown as Tensor })).toThrow(/tensors\["w"\] must be a Tensor/)
    expect(() => encodeSafetensors({ __metadata__: tensor(1) })).toThrow(/reserved/)
    expect(() => encodeSafetensors({}, { epoch: 3 as unknown as string })).toThrow(/metadata\["epoch"\] must be a string/)
  })
})
