/**
 * @file The safetensors format, pure and browser-safe: bytes in, bytes out, no file system.
 *
 * Layout: an 8-byte little-endian unsigned length N, then N bytes of UTF-8 JSON (the header,
 * padded with spaces to a multiple of 8 bytes), then the data buffer. The header maps each tensor
 * name to `{ dtype, shape, data_offsets: [begin, end] }`, offsets in bytes from the start of the data
 * buffer, values little-endian and row-major; the optional `__metadata__` entry maps strings to
 * strings. This is the file PyTorch's `safetensors.torch.save_file` writes, so weights move both
 * ways by name. Imports the tensor layer and io-ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { ValueError, showShape } from '../errors.js'
import { type DType, Tensor } from '../tensor/Tensor.js'
import { sizeOf } from '../tensor/shape.js'
import { NonNegativeInt, decodeWith, showValue } from './config.js'
import { type IoError, ioError } from './IoError.js'

// TextEncoder/TextDecoder are globals in browsers and Node, but the build's `lib` (ES2022, no DOM,
// no Node types) does not declare them; these module-level declarations describe the part we use.
declare const TextEncoder: { new (): { encode(text: string): Uint8Array } }
declare const TextDecoder: { new (label: string, options: { fatal: boolean }): { decode(bytes: Uint8Array): string } }

/** The tensors and string metadata of a safetensors file. @category io */
export interface SafetensorsContent {
  readonly tensors: Record<string, Tensor>
  readonly metadata: Record<string, string>
}

// ---- dtypes ----

/** The safetensors dtypes scangrad reads and writes, with their element size in bytes. */
const SUPPORTED = { F32: { dtype: 'float32', bytes: 4 }, F64: { dtype: 'float64', bytes: 8 } } as const
type SupportedName = keyof typeof SUPPORTED

/** Dtypes other tools write that scangrad knows by name but does not read. */
const KNOWN_UNSUPPORTED = new Set([
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2',
  'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'I64', 'U64', 'C64',
])

const NAME_OF: Record<DType, SupportedName> = { float32: 'F32', float64: 'F64' }

const isSupported = (name: string): name is SupportedName => Object.hasOwn(SUPPORTED, name)

const METADATA_KEY = '__metadata__'

/** True when typed arrays use little-endian byte order (every common platform). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Orders strings by Unicode code point, i.e. by their UTF-8 bytes (Rust's string order). */
const compareCodePoints = (a: string, b: string): number => {
  const ia = a[Symbol.iterator]()
  const ib = b[Symbol.iterator]()
  for (;;) {
    const x = ia.next()
    const y = ib.next()
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1
    const d = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0)
    if (d !== 0) return d
  }
}

// ---- encoding ----

/**
 * Serialises tensors (and optional string metadata) to safetensors bytes.
 *
 * The layout is deterministic and matches the reference (Rust) writer used by PyTorch: data is
 * laid out by descending element size (F64 before F32), then by name, with no gaps, so every tensor
 * starts at a multiple of its element size; header entries follow the same order after
 * `__metadata__` (whose keys are sorted); the header is padded with spaces to a multiple of 8.
 *
 * @param tensors name → Tensor (float32 → F32, float64 → F64). `__metadata__` is reserved.
 * @param metadata string → string, stored as `__metadata__` (omitted when not given).
 * @returns the file's bytes.
 * @example
 * ```ts
 * const bytes = io.encodeSafetensors({ w: tensor([[1, 2], [3, 4]], { dtype: 'float32' }), b: tensor([0.5]) }, { epoch: '3' })
 * const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))
 * console.log(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)).trim())
 * // {"__metadata__":{"epoch":"3"},"b":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}}
 * ```
 * @category io
 */
export const encodeSafetensors = (tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array => {
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) {
    throw new ValueError(`encodeSafetensors: tensors must be an object mapping names to tensors, got ${showValue(tensors)}.`)
  }
  const entries = Object.entries(tensors)
  for (const [name, x] of entries) {
    if (name === METADATA_KEY) throw new ValueError(`encodeSafetensors: the name ${METADATA_KEY} is reserved for metadata; rename that tensor.`)
    if (!(x instanceof Tensor)) throw new ValueError(`encodeSafetensors: tensors[${JSON.stringify(name)}] must be a Tensor, got ${showValue(x)}.`)
  }
  entries.sort(([na, a], [nb, b]) => SUPPORTED[NAME_OF[b.dtype]].bytes - SUPPORTED[NAME_OF[a.dtype]].bytes || compareCodePoints(na, nb))

  // Written by hand rather than JSON.stringify(object): JS objects put integer-like keys ("0") first,
  // which would break the sorted, data-ordered layout.
  const parts: string[] = []
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareCodePoints)
    for (const k of keys) {
      if (typeof metadata[k] !== 'string') {
        throw new ValueError(`encodeSafetensors: metadata[${JSON.stringify(k)}] must be a string, got ${showValue(metadata[k])}. Use JSON.stringify for structured values.`)
      }
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`)
  }
  let offset = 0
  for (const [name, x] of entries) {
    const begin = offset
    offset += x.data.byteLength
    parts.push(`${JSON.stringify(name)}:{"dtype":"${NAME_OF[x.dtype]}","shape":${JSON.stringify(x.shape)},"data_offsets":[${begin},${offset}]}`)
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`)
  const headerLength = Math.ceil(json.length / 8) * 8

  const out = new Uint8Array(8 + headerLength + offset)
  const view = new DataView(out.buffer)
  view.setUint32(0, headerLength % 2 ** 32, true)
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true)
  out.set(json, 8)
  out.fill(0x20, 8 + json.length, 8 + headerLength) // spaces: the header stays valid JSON
  let at = 8 + headerLength
  for (const [, x] of entries) {
    writeLittleEndian(out, at, x.data)
    at += x.data.byteLength
  }
  return out
}

const writeLittleEndian = (out: Uint8Array, at: number, data: Float32Array | Float64Array): void => {
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at)
    return
  }
  const view = new DataView(out.buffer, out.byteOffset)
  const size = data.BYTES_PER_ELEMENT
  for (let i = 0; i < data.length; i++) {
    if (size === 4) view.setFloat32(at + 4 * i, data[i], true)
    else view.setFloat64(at + 8 * i, data[i], true)
  }
}

// ---- decoding ----

const OffsetPair = new t.Type<[number, number], [number, number], unknown>(
  'a list [begin, end] of two non-negative integers',
  (u): u is [number, number] => Array.isArray(u) && u.length === 2 && u.every((x) => NonNegativeInt.is(x)),
  (u, c) => (Array.isArray(u) && u.length === 2 && u.every((x) => NonNegativeInt.is(x)) ? t.success(u as [number, number]) : t.failure(u, c)),
  t.identity,
)

/** One header entry. Unknown extra fields are tolerated, as the reference reader does. */
const TensorInfo = t.type(
  { dtype: t.string, shape: t.array(NonNegativeInt, 'a list of non-negative integers'), data_offsets: OffsetPair },
  'an object { dtype, shape, data_offsets }',
)
type TensorInfo = t.TypeOf<typeof TensorInfo>

const Metadata = t.record(t.string, t.string, 'an object mapping strings to strings')

interface Header {
  readonly metadata: Record<string, string>
  readonly tensors: ReadonlyArray<readonly [string, TensorInfo]>
}

/** The header: an object of tensor entries plus an optional string-to-string `__metadata__`. */
const validateHeader = (u: unknown, c: t.Context): t.Validation<Header> => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c)
  const errors: t.ValidationError[] = []
  let metadata: Record<string, string> = {}
  const tensors: Array<readonly [string, TensorInfo]> = []
  for (const [name, value] of Object.entries(u)) {
    if (name === METADATA_KEY && value === null) continue // the reference reader allows a null metadata
    const codec = name === METADATA_KEY ? Metadata : TensorInfo
    const result = codec.validate(value, t.appendContext(c, name, codec, value))
    if (E.isLeft(result)) errors.push(...result.left)
    else if (name === METADATA_KEY) metadata = result.right as Record<string, string>
    else tensors.push([name, result.right as TensorInfo])
  }
  return errors.length > 0 ? t.failures(errors) : t.success({ metadata, tensors })
}

const HeaderCodec = new t.Type<Header, unknown, unknown>(
  'an object mapping tensor names to { dtype, shape, data_offsets }',
  (u): u is Header => E.isRight(validateHeader(u, [])),
  validateHeader,
  () => {
    throw new ValueError('HeaderCodec only decodes; use encodeSafetensors.')
  },
)

/** A tensor name as a JSON-pointer segment. */
const pointerKey = (name: string): string => name.replace(/~/g, '~0').replace(/\//g, '~1')

/**
 * Parses safetensors bytes into tensors and metadata, validating everything: the length prefix,
 * the header (UTF-8 JSON, checked with io-ts), each dtype (F32 and F64; others are rejected by
 * name), and each tensor's offsets (inside the data buffer, not reversed, not overlapping, and
 * exactly `size(shape) × element size` bytes). Gaps between tensors are tolerated.
 *
 * Decoded tensors always own freshly allocated, aligned memory: the data is copied out of `bytes`,
 * so an offset that is not a multiple of the element size is fine and `bytes` may be reused.
 *
 * @param bytes the file's contents.
 * @param source a name for the bytes (the file path), which starts every line of an error.
 * @returns Right `{ tensors, metadata }`, or Left an IoError (kind `corrupt`) listing every problem.
 * @example
 * ```ts
 * const bytes = io.encodeSafetensors({ w: tensor([1, 2]) }, { note: 'demo' })
 * const decoded = io.decodeSafetensors(bytes, 'demo.safetensors')
 * if (E.isRight(decoded)) console.log(decoded.right.tensors.w.toArray(), decoded.right.metadata) // [1, 2] { note: 'demo' }
 * const truncated = io.decodeSafetensors(bytes.subarray(0, bytes.length - 4), 'demo.safetensors')
 * if (E.isLeft(truncated)) console.log(truncated.left.kind, truncated.left.message)
 * // corrupt demo.safetensors: tensor 'w' has data_offsets [0, 16] beyond the end of the data buffer (12 bytes): …
 * ```
 * @category io
 */
export const decodeSafetensors = (bytes: Uint8Array, source = '<bytes>'): E.Either<IoError, SafetensorsContent> => {
  const corrupt = (problem: string, path?: string, hint?: string): E.Either<IoError, never> =>
    E.left(ioError('corrupt', source, [problem], { path, hint }))

  if (bytes.length < 8) {
    return corrupt(`the file is ${bytes.length} bytes long, shorter than the 8-byte header length: it is truncated or not a safetensors file.`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32
  if (headerLength > bytes.length - 8) {
    return corrupt(
      `the header length is ${headerLength} bytes, but only ${bytes.length - 8} bytes follow the 8-byte length: ` +
        'the file is truncated or not a safetensors file.',
    )
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength))
  } catch {
    return corrupt(`the header (bytes 8 to ${8 + headerLength}) is not valid UTF-8: the file is corrupted or not a safetensors file.`, 'header')
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return corrupt(`the header is not valid JSON (${(e as Error).message}): the file is corrupted or not a safetensors file.`, 'header')
  }
  const header = decodeWith(HeaderCodec, json, source, { kind: 'corrupt', within: 'header' })
  if (E.isLeft(header)) return header

  const dataStart = 8 + headerLength
  const dataLength = bytes.length - dataStart
  const problems: Array<{ readonly path: string; readonly text: string }> = []
  const ranges: Array<{ readonly name: string; readonly begin: number; readonly end: number }> = []
  let unsupported = false
  for (const [name, info] of header.right.tensors) {
    const at = `header/${pointerKey(name)}`
    const quoted = `'${name}'`
    const { dtype, shape, data_offsets: [begin, end] } = info
    if (!isSupported(dtype)) {
      unsupported ||= KNOWN_UNSUPPORTED.has(dtype)
      problems.push({
        path: `${at}/dtype`,
        text: KNOWN_UNSUPPORTED.has(dtype)
          ? `dtype ${dtype} of tensor ${quoted} is not supported; scangrad reads F32 and F64.`
          : `tensor ${quoted} has unknown dtype ${showValue(dtype)}; safetensors dtypes are names such as F32, F64, BF16, I64.`,
      })
      continue
    }
    if (begin > end) {
      problems.push({ path: `${at}/data_offsets`, text: `tensor ${quoted} has data_offsets [${begin}, ${end}]: the beginning is after the end.` })
      continue
    }
    if (end > dataLength) {
      problems.push({
        path: `${at}/data_offsets`,
        text: `tensor ${quoted} has data_offsets [${begin}, ${end}] beyond the end of the data buffer (${dataLength} bytes): the file is truncated or the offsets are wrong.`,
      })
      continue
    }
    const needed = sizeOf(shape) * SUPPORTED[dtype].bytes
    if (needed !== end - begin) {
      problems.push({
        path: `${at}/data_offsets`,
        text: `tensor ${quoted} of dtype ${dtype} and shape ${showShape(shape)} needs ${needed} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}.`,
      })
      continue
    }
    if (end > begin) ranges.push({ name, begin, end })
  }
  // Sorted by beginning, a range overlaps an earlier one iff it begins before the furthest end so far.
  ranges.sort((a, b) => a.begin - b.begin)
  let furthest = ranges[0]
  for (const next of ranges.slice(1)) {
    if (next.begin < furthest.end) {
      problems.push({
        path: `header/${pointerKey(next.name)}/data_offsets`,
        text: `tensor '${next.name}' has data_offsets [${next.begin}, ${next.end}], which overlap tensor '${furthest.name}' at [${furthest.begin}, ${furthest.end}].`,
      })
    }
    if (next.end > furthest.end) furthest = next
  }
  if (problems.length > 0) {
    return E.left(
      ioError('corrupt', source, problems.map((p) => p.text), {
        path: problems[0].path,
        hint: unsupported ? 'Convert those tensors before saving, e.g. `{k: v.float() for k, v in state_dict.items()}` in PyTorch.' : undefined,
      }),
    )
  }

  const tensors = Object.fromEntries(
    header.right.tensors.map(([name, { dtype, shape, data_offsets: [begin, end] }]) => [
      name,
      new Tensor(readLittleEndian(bytes.subarray(dataStart + begin, dataStart + end), SUPPORTED[dtype as SupportedName].dtype), shape),
    ]),
  )
  return E.right({ tensors, metadata: header.right.metadata })
}

/** Copies little-endian bytes into a new, aligned typed array of the dtype. */
const readLittleEndian = (bytes: Uint8Array, dtype: DType): Float32Array | Float64Array => {
  const size = dtype === 'float32' ? 4 : 8
  const out = dtype === 'float32' ? new Float32Array(bytes.length / size) : new Float64Array(bytes.length / size)
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes)
    return out
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < out.length; i++) out[i] = size === 4 ? view.getFloat32(4 * i, true) : view.getFloat64(8 * i, true)
  return out
}
