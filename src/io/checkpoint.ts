/**
 * @file Checkpoints: everything needed to resume a training run exactly, in one safetensors file
 * (conventionally `<run folder>/checkpoint.safetensors`).
 *
 * Tensors: every leaf of the `params` and `optState` pytrees, under a path-like name (see
 * `leafNames` in treeCodec.ts): `params.wIn`, `params.layers.0.wRec`, `optState.0.mu.wIn`. PyTorch sees an
 * ordinary safetensors file with readable names.
 *
 * `__metadata__["scangrad.checkpoint"]`: a JSON string (checked with io-ts on load) holding the
 * format version, epoch, step, RNG key words, the two tree structures (so trees are rebuilt
 * exactly: key order, arrays, null and undefined leaves), and the caller's JSON descriptions of the
 * model, the data split and anything else.
 *
 * `encodeCheckpoint`/`decodeCheckpoint` are pure; `saveCheckpoint`/`loadCheckpoint` add the file
 * (atomically written) through files.ts.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { ValueError, showShape } from '../errors.js'
import { type Key, keyFromWords } from '../random/random.js'
import type { Tensor } from '../tensor/Tensor.js'
import { shapesEqual } from '../tensor/shape.js'
import { type Tree, type TreeDef, treeDefDifference, treeFlatten, treeUnflatten } from '../tree/tree.js'
import { NonNegativeInt, decodeWith, showValue, struct } from './config.js'
import { readFileEither, writeFileAtomic } from './files.js'
import { type IoError, ioError } from './IoError.js'
import { decodeSafetensors, encodeSafetensors } from './safetensors.js'
import { TreeDefCodec, leafNames, treeDefFromJson, treeDefToJson } from './treeCodec.js'

/**
 * The value of the `format` field; tells a scangrad checkpoint from other safetensors files.
 * @example
 * ```ts
 * const bytes = io.encodeCheckpoint({ params: { w: zeros([2]) }, epoch: 0, step: 0, key: randomKey(0) })
 * const content = io.decodeSafetensors(bytes)
 * if (E.isRight(content)) {
 *   const meta = JSON.parse(content.right.metadata['scangrad.checkpoint'])
 *   console.log(meta.format === io.CHECKPOINT_FORMAT, meta.format) // true scangrad.checkpoint
 * }
 * ```
 * @category io
 */
export const CHECKPOINT_FORMAT = 'scangrad.checkpoint'
/**
 * The checkpoint layout version this code writes and reads.
 * @example
 * ```ts
 * const bytes = io.encodeCheckpoint({ params: { w: zeros([2]) }, epoch: 0, step: 0, key: randomKey(0) })
 * const content = io.decodeSafetensors(bytes)
 * if (E.isRight(content)) console.log(JSON.parse(content.right.metadata['scangrad.checkpoint']).version === io.CHECKPOINT_VERSION) // true
 * ```
 * @category io
 */
export const CHECKPOINT_VERSION = 1
/**
 * The checkpoint's file name inside a run folder.
 * @example
 * ```ts
 * console.log(io.CHECKPOINT_FILE, io.checkpointPath('runs/mnist')) // checkpoint.safetensors runs/mnist/checkpoint.safetensors
 * ```
 * @category io
 */
export const CHECKPOINT_FILE = 'checkpoint.safetensors'
/** The `__metadata__` entry holding the checkpoint's JSON. */
const METADATA_ENTRY = 'scangrad.checkpoint'

/** A JSON value. @category io */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/**
 * What `saveCheckpoint` stores. `model`, `data` and `extra` must be JSON values (plain objects,
 * arrays, strings, finite numbers, booleans, null; undefined object fields are dropped).
 * @category io
 */
export interface CheckpointState<P = Tree, S = Tree> {
  /** The parameter pytree. */
  readonly params: P
  /** The optimiser state pytree (when omitted, restored as undefined). */
  readonly optState?: S
  /** Completed epochs. */
  readonly epoch: number
  /** Completed optimiser steps. */
  readonly step: number
  /** The RNG key to continue from. */
  readonly key: Key
  /** A description of the model (architecture, sizes), enough to rebuild it. */
  readonly model?: unknown
  /** The data split (seed, indices or fractions), so a resumed run sees the same batches. */
  readonly data?: unknown
  /** Anything else the caller needs to resume (config, metrics so far). */
  readonly extra?: unknown
}

/** A loaded checkpoint: the saved state; `model`, `data` and `extra` are null when not saved. @category io */
export interface Checkpoint<P = Tree, S = Tree> {
  readonly params: P
  readonly optState: S
  readonly epoch: number
  readonly step: number
  readonly key: Key
  readonly model: Json
  readonly data: Json
  readonly extra: Json
}

/**
 * Trees the loaded checkpoint must match: same leaf names, shapes and dtypes (values are ignored),
 * e.g. freshly initialised parameters of the model about to be resumed.
 * @category io
 */
export interface CheckpointExpectation<P = Tree, S = Tree> {
  readonly params?: P
  readonly optState?: S
}

// ---- the metadata JSON ----

const Uint32 = new t.Type<number, number, unknown>(
  'an unsigned 32-bit integer',
  (u): u is number => Number.isInteger(u) && (u as number) >= 0 && (u as number) < 2 ** 32,
  (u, c) => (Number.isInteger(u) && (u as number) >= 0 && (u as number) < 2 ** 32 ? t.success(u as number) : t.failure(u, c)),
  t.identity,
)

const KeyWords = new t.Type<[number, number], unknown, unknown>(
  'a key: a list of two unsigned 32-bit integers',
  (u): u is [number, number] => Array.isArray(u) && u.length === 2 && u.every((w) => Uint32.is(w)),
  (u, c) => (Array.isArray(u) && u.length === 2 && u.every((w) => Uint32.is(w)) ? t.success(u as [number, number]) : t.failure(u, c)),
  t.identity,
)

/** The checkpoint's metadata JSON, version 1. */
const CheckpointMeta = struct({
  format: t.literal(CHECKPOINT_FORMAT),
  version: t.literal(CHECKPOINT_VERSION),
  epoch: NonNegativeInt,
  step: NonNegativeInt,
  key: KeyWords,
  trees: struct({ params: TreeDefCodec, optState: TreeDefCodec }),
  model: t.unknown,
  data: t.unknown,
  extra: t.unknown,
})

/** Throws unless `value` survives a JSON round trip unchanged (finite numbers, plain objects…). */
const checkJson = (value: unknown, where: string): void => {
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return
    if (typeof v === 'number') {
      if (Number.isFinite(v)) return
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`))
      return
    } else if (typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v))) {
      for (const [k, x] of Object.entries(v)) if (x !== undefined) walk(x, `${path}.${k}`)
      return
    }
    throw new ValueError(
      `saveCheckpoint: ${path} must be a JSON value (null, boolean, string, finite number, array or plain object), got ${showValue(v)}` +
        `${typeof v === 'object' ? ` (${Object.getPrototypeOf(v)?.constructor?.name ?? 'object'})` : ''}. Store tensors in params or optState.`,
    )
  }
  walk(value, where)
}

// ---- encoding ----

/**
 * Serialises a training state to checkpoint bytes (a safetensors file; see the file comment).
 * Throws a ValueError for a malformed state (negative epoch, non-JSON model description, …):
 * that is a programming error, not a data error.
 * @example
 * ```ts
 * const model = nn.lstm({ inputSize: 2, hiddenSize: 3 })
 * const optimizer = optim.adam(1e-3)
 * const params = model.init(randomKey(0))
 * const bytes = io.encodeCheckpoint({
 *   params, optState: optimizer.init(params), epoch: 3, step: 600, key: randomKey(1), model: { cell: 'lstm', inputSize: 2, hiddenSize: 3 },
 * })
 * const content = io.decodeSafetensors(bytes)
 * const names = E.isRight(content) ? Object.keys(content.right.tensors) : []
 * console.log(names.includes('params.weight_ih_l0'), names.includes('optState.0.mu.weight_ih_l0')) // true true
 * ```
 * @category io
 */
export const encodeCheckpoint = <P, S>(state: CheckpointState<P, S>): Uint8Array => {
  for (const field of ['epoch', 'step'] as const) {
    if (!NonNegativeInt.is(state[field])) throw new ValueError(`saveCheckpoint: ${field} must be a non-negative integer, got ${showValue(state[field])}.`)
  }
  if (state.key?.kind !== 'scangrad.key' || !KeyWords.is(state.key.words)) {
    throw new ValueError(`saveCheckpoint: key must be a random key (randomKey(seed) or splitKey(key)), got ${showValue(state.key)}.`)
  }
  checkJson(state.model ?? null, 'model')
  checkJson(state.data ?? null, 'data')
  checkJson(state.extra ?? null, 'extra')
  const params = treeFlatten(state.params, 'saveCheckpoint: params')
  const optState = treeFlatten(state.optState, 'saveCheckpoint: optState')
  const names = [...leafNames(params.def, 'params'), ...leafNames(optState.def, 'optState')]
  const leaves = [...params.leaves, ...optState.leaves]
  const meta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    epoch: state.epoch,
    step: state.step,
    key: [state.key.words[0], state.key.words[1]],
    trees: { params: treeDefToJson(params.def), optState: treeDefToJson(optState.def) },
    model: state.model ?? null,
    data: state.data ?? null,
    extra: state.extra ?? null,
  }
  return encodeSafetensors(Object.fromEntries(names.map((name, i) => [name, leaves[i]])), { [METADATA_ENTRY]: JSON.stringify(meta) })
}

// ---- decoding ----

/**
 * Parses checkpoint bytes, checking the safetensors layout, the metadata JSON (io-ts) and that the
 * tensors are exactly the leaves the saved tree structures name. With `expected`, also checks
 * that every tensor of the given trees is present with the same shape and dtype and that no
 * other tensor is there, listing every difference with the expected and found shapes.
 *
 * @param bytes the file's contents.
 * @param source the file name, used in messages.
 * @param expected trees to match (e.g. freshly initialised params), or nothing.
 * @returns Right the checkpoint with its trees rebuilt exactly, or Left an IoError (`corrupt` for a
 *   damaged file or one that is not a checkpoint, `mismatch` for a valid one that does not fit).
 * @example
 * ```ts
 * const small = nn.gru({ inputSize: 2, hiddenSize: 3 })
 * const bytes = io.encodeCheckpoint({ params: small.init(randomKey(0)), epoch: 5, step: 50, key: randomKey(1), model: { hiddenSize: 3 } })
 * const restored = io.decodeCheckpoint(bytes, 'run/checkpoint.safetensors', { params: small.init(randomKey(2)) })
 * if (E.isRight(restored)) console.log(restored.right.epoch, restored.right.model, restored.right.params.weight_hh_l0.shape) // 5 { hiddenSize: 3 } [9, 3]
 * const larger = nn.gru({ inputSize: 2, hiddenSize: 4 }).init(randomKey(2))
 * const mismatch = io.decodeCheckpoint(bytes, 'run/checkpoint.safetensors', { params: larger })
 * if (E.isLeft(mismatch)) console.log(mismatch.left.kind, mismatch.left.message.split('\n')[0])
 * // mismatch run/checkpoint.safetensors: tensor 'params.weight_ih_l0': expected shape [12, 2], found [9, 2].
 * ```
 * @category io
 */
export const decodeCheckpoint = <P = Tree, S = Tree>(
  bytes: Uint8Array,
  source = '<bytes>',
  expected: CheckpointExpectation<P, S> = {},
): E.Either<IoError, Checkpoint<P, S>> => {
  const content = decodeSafetensors(bytes, source)
  if (E.isLeft(content)) return content
  const { tensors, metadata } = content.right
  const where = `__metadata__["${METADATA_ENTRY}"]`
  const text = metadata[METADATA_ENTRY]
  if (text === undefined) {
    return E.left(
      ioError('corrupt', source, [`a safetensors file, but not a scangrad checkpoint: it has no ${where} entry.`], {
        path: where,
        hint: 'To read plain weights (e.g. saved by PyTorch), use io.loadSafetensors.',
      }),
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left(ioError('corrupt', source, [`${where} is not valid JSON (${(e as Error).message}).`], { path: where }))
  }
  const version = (json as { version?: unknown } | null)?.version
  if (typeof version === 'number' && version !== CHECKPOINT_VERSION) {
    return E.left(
      ioError('corrupt', source, [`checkpoint format version ${version}; this scangrad reads version ${CHECKPOINT_VERSION}.`], {
        path: `${where}/version`,
        hint: version > CHECKPOINT_VERSION ? 'The checkpoint was written by a newer scangrad: upgrade scangrad to read it.' : undefined,
      }),
    )
  }
  const meta = decodeWith(CheckpointMeta, json, source, { kind: 'corrupt', within: where })
  if (E.isLeft(meta)) return meta
  const { epoch, step, key, trees, model, data, extra } = meta.right

  // The saved structures must name exactly the tensors in the file.
  const defs = { params: treeDefFromJson(trees.params), optState: treeDefFromJson(trees.optState) }
  const names = { params: leafNames(defs.params, 'params'), optState: leafNames(defs.optState, 'optState') }
  const named = new Set([...names.params, ...names.optState])
  const problems: string[] = []
  for (const name of named) if (!Object.hasOwn(tensors, name)) problems.push(`tensor '${name}' is named by the saved tree structure but missing from the file.`)
  for (const name of Object.keys(tensors)) if (!named.has(name)) problems.push(`tensor '${name}' is in the file but not in the saved tree structures.`)
  if (problems.length > 0) return E.left(ioError('corrupt', source, problems, { path: where }))

  const mismatch = checkExpected(tensors, defs, expected)
  if (mismatch.length > 0) {
    return E.left(
      ioError('mismatch', source, mismatch.map((m) => m.text), {
        path: mismatch[0].path,
        hint:
          'The checkpoint does not fit the model being loaded: it was saved with a different model configuration ' +
          '(compare its model description) or for another task.',
      }),
    )
  }
  return E.right({
    params: treeUnflatten<P>(defs.params, names.params.map((n) => tensors[n])),
    optState: treeUnflatten<S>(defs.optState, names.optState.map((n) => tensors[n])),
    epoch,
    step,
    key: keyFromWords(key),
    model: (model ?? null) as Json,
    data: (data ?? null) as Json,
    extra: (extra ?? null) as Json,
  })
}

/** Every difference between the checkpoint's tensors and the expected trees. */
const checkExpected = (
  tensors: Record<string, Tensor>,
  defs: { readonly params: TreeDef; readonly optState: TreeDef },
  expected: CheckpointExpectation<unknown, unknown>,
): Array<{ path: string; text: string }> => {
  const problems: Array<{ path: string; text: string }> = []
  for (const root of ['params', 'optState'] as const) {
    if (expected[root] === undefined) continue
    const before = problems.length
    const want = treeFlatten(expected[root], `loadCheckpoint: expected.${root}`)
    const wantNames = leafNames(want.def, root)
    const found = new Set(leafNames(defs[root], root))
    wantNames.forEach((name, i) => {
      const w = want.leaves[i]
      const f = tensors[name]
      if (!found.has(name)) problems.push({ path: name, text: `tensor '${name}' is missing: expected shape ${showShape(w.shape)} (${w.dtype}).` })
      else if (!shapesEqual(w.shape, f.shape)) problems.push({ path: name, text: `tensor '${name}': expected shape ${showShape(w.shape)}, found ${showShape(f.shape)}.` })
      else if (w.dtype !== f.dtype) problems.push({ path: name, text: `tensor '${name}': expected dtype ${w.dtype}, found ${f.dtype} (shape ${showShape(f.shape)}).` })
    })
    const wanted = new Set(wantNames)
    for (const name of found) {
      if (!wanted.has(name)) problems.push({ path: name, text: `tensor '${name}' (shape ${showShape(tensors[name].shape)}) is unexpected: the expected ${root} have no such leaf.` })
    }
    if (problems.length === before) {
      // Same leaves, yet the structures may differ where no tensor lives (null vs {} , array vs object).
      const difference = treeDefDifference(want.def, defs[root], root)
      if (difference !== null) problems.push({ path: root, text: `${root}: the expected and the saved structures differ ${difference} (expected vs saved).` })
    }
  }
  return problems
}

// ---- files ----

/**
 * The checkpoint file of a run folder.
 * @example
 * ```ts
 * console.log(io.checkpointPath('runs/mnist'), io.checkpointPath('runs/mnist/')) // runs/mnist/checkpoint.safetensors runs/mnist/checkpoint.safetensors
 * ```
 * @category io
 */
export const checkpointPath = (runDir: string): string =>
  runDir === '' ? CHECKPOINT_FILE : `${runDir.replace(/[\\/]+$/, '')}/${CHECKPOINT_FILE}`

/**
 * Saves a training state as a checkpoint, atomically: an interrupted save leaves the previous
 * checkpoint in place. See `encodeCheckpoint` for what is stored.
 * @example
 * ```ts
 * const fs = await import('node:fs')
 * const os = await import('node:os')
 * const path = await import('node:path')
 * const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'scangrad-run-'))
 * const model = nn.lstm({ inputSize: 2, hiddenSize: 3 })
 * const optimizer = optim.adam(1e-3)
 * const params = model.init(randomKey(0))
 * await io.saveCheckpoint(io.checkpointPath(runDir), {
 *   params, optState: optimizer.init(params), epoch: 1, step: 40, key: randomKey(1),
 *   model: { cell: 'lstm', inputSize: 2, hiddenSize: 3 }, data: { seed: 7, test: 0.2 },
 * })
 * console.log(fs.readdirSync(runDir)) // ['checkpoint.safetensors']
 * ```
 * @category io
 */
export const saveCheckpoint = async <P, S>(path: string, state: CheckpointState<P, S>): Promise<void> =>
  writeFileAtomic(path, encodeCheckpoint(state))

/**
 * Loads a checkpoint; see `decodeCheckpoint` for the checks and `expected`.
 * @example
 * ```ts
 * const fs = await import('node:fs')
 * const os = await import('node:os')
 * const path = await import('node:path')
 * const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'scangrad-run-'))
 * const model = nn.linear({ inputSize: 2, outputSize: 1 })
 * const optimizer = optim.adam(0.1)
 * const data = { inputs: tensor([[0, 1], [1, 0], [1, 1]]), targets: tensor([[1], [2], [3]]) }
 * const options = { loss: train.supervised(model.apply, losses.mse), optimizer, data, batchSize: 3 }
 * const { state } = fit({ ...options, params: model.init(randomKey(0)), key: randomKey(1), epochs: 2 })
 * await io.saveCheckpoint(io.checkpointPath(runDir), state)
 * // later, maybe in another process: check the file against a fresh model's trees, then resume
 * const fresh = model.init(randomKey(0))
 * const restored = await io.loadCheckpoint(io.checkpointPath(runDir), { params: fresh, optState: optimizer.init(fresh) })
 * if (E.isLeft(restored)) throw new Error(restored.left.message)
 * const { params, optState, epoch, step, key } = restored.right
 * const resumed = fit({ ...options, resume: { params, optState, epoch, step, key }, epochs: 4 })
 * console.log(epoch, resumed.state.epoch, resumed.history.length) // 2 4 2
 * ```
 * @category io
 */
export const loadCheckpoint = async <P = Tree, S = Tree>(
  path: string,
  expected: CheckpointExpectation<P, S> = {},
): Promise<E.Either<IoError, Checkpoint<P, S>>> => {
  const bytes = await readFileEither(path)
  return E.isLeft(bytes) ? bytes : decodeCheckpoint(bytes.right, path, expected)
}
