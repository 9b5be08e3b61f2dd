import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type Key, type Tensor, arbitraries, randomKey, splitKey, tensor, treeFlatten, zeros } from '../../src/index.js'
import {
  CHECKPOINT_FILE, type IoError, checkpointPath, decodeCheckpoint, decodeSafetensors, encodeCheckpoint, encodeSafetensors,
  leafNames, loadCheckpoint, saveCheckpoint,
} from '../../src/io/index.js'
import { anyTensor, expectSameBits, expectSameTree, pytree } from './helpers.js'

const right = <A>(result: E.Either<IoError, A>): A => {
  if (E.isLeft(result)) throw new Error(`expected Right, got Left:\n${result.left.message}`)
  return result.right
}
const left = (result: E.Either<IoError, unknown>): IoError => {
  if (E.isRight(result)) throw new Error('expected Left, got Right')
  return result.left
}

const params = () => ({ wIn: zeros([3, 4]), bIn: zeros([4]), layers: [{ wRec: zeros([4, 4]), bRec: null }], head: { w: zeros([4, 2]) } })
const adamState = (p: ReturnType<typeof params>) => [{ count: tensor(0), mu: p, nu: p }, null]

const state = (key: Key = randomKey(1)) => {
  const p = params()
  return { params: p, optState: adamState(p), epoch: 2, step: 40, key, model: { cell: 'lstm', hidden: 4 }, data: { seed: 1, train: [0, 2] } }
}

describe('io checkpoint naming', () => {
  it('names leaves by path: root, object keys, array indices, dots and percents escaped', () => {
    const { def } = treeFlatten({ wLayer: zeros([1]), 0: zeros([1]), layers: [null, { 'a.b': zeros([1]), '%': zeros([1]) }] })
    expect(leafNames(def, 'params')).toEqual(['params.0', 'params.wLayer', 'params.layers.1.a%2Eb', 'params.layers.1.%25'])
    expect(leafNames(treeFlatten([{ mu: { wLayer: zeros([1]) } }]).def, 'optState')).toEqual(['optState.0.mu.wLayer'])
    expect(leafNames(treeFlatten(zeros([2])).def, 'params')).toEqual(['params'])
  })

  it('gives distinct names to distinct leaves of any tree', () => {
    fc.assert(
      fc.property(pytree(arbitraries.tensor({ maxRank: 0 })), (tree) => {
        const names = leafNames(treeFlatten(tree).def, 'params')
        expect(new Set(names).size).toBe(names.length)
      }),
      { numRuns: 100, seed: 11 },
    )
  })

  it('checkpointPath joins a run folder and the file name', () => {
    expect(checkpointPath('runs/a')).toBe(`runs/a/${CHECKPOINT_FILE}`)
    expect(checkpointPath('runs/a/')).toBe(`runs/a/${CHECKPOINT_FILE}`)
    expect(checkpointPath('')).toBe(CHECKPOINT_FILE)
  })
})

describe('io.encodeCheckpoint / io.decodeCheckpoint', () => {
  it('round-trips arbitrary pytrees exactly (structure, key order, null/undefined, bits), epoch, step, key and JSON', () => {
    fc.assert(
      fc.property(
        pytree(anyTensor(2)),
        pytree(anyTensor(2)),
        fc.nat(),
        fc.nat(),
        arbitraries.key(),
        fc.jsonValue({ maxDepth: 2 }),
        (p, s, epoch, step, key, model) => {
          const bytes = encodeCheckpoint({ params: p, optState: s, epoch, step, key, model, data: { split: [1, 2] }, extra: 'x' })
          const restored = right(decodeCheckpoint(bytes, 'ck'))
          expectSameTree(restored.params, p, 'params')
          expectSameTree(restored.optState, s, 'optState')
          expect(restored).toMatchObject({ epoch, step, data: { split: [1, 2] }, extra: 'x' })
          expect(restored.key).toEqual(key)
          expect(restored.model).toEqual(JSON.parse(JSON.stringify(model)))
        },
      ),
      { numRuns: 40, seed: 42 },
    )
  })

  it('restores a key that continues the same random stream', () => {
    const key = splitKey(randomKey(123))[1]
    const restored = right(decodeCheckpoint(encodeCheckpoint({ ...state(key) })))
    expect(splitKey(restored.key, 3)).toEqual(splitKey(key, 3))
  })

  it('stores tensors under readable names that plain safetensors readers see', () => {
    const { tensors, metadata } = right(decodeSafetensors(encodeCheckpoint(state())))
    expect(Object.keys(tensors).sort()).toEqual(
      [
        'params.wIn', 'params.bIn', 'params.layers.0.wRec', 'params.head.w',
        'optState.0.count', 'optState.0.mu.wIn', 'optState.0.mu.bIn', 'optState.0.mu.layers.0.wRec', 'optState.0.mu.head.w',
        'optState.0.nu.wIn', 'optState.0.nu.bIn', 'optState.0.nu.layers.0.wRec', 'optState.0.nu.head.w',
      ].sort(),
    )
    const meta = JSON.parse(metadata['scangrad.checkpoint'])
    expect(meta).toMatchObject({ format: 'scangrad.checkpoint', version: 1, epoch: 2, step: 40, model: { cell: 'lstm', hidden: 4 } })
  })

  it('accepts a checkpoint whose tensors match the expected trees', () => {
    const restored = right(decodeCheckpoint(encodeCheckpoint(state()), 'ck', { params: params(), optState: adamState(params()) }))
    expect(restored.epoch).toBe(2)
  })

  it('rejects shapes, dtypes, missing and unexpected tensors against `expected`, naming each with both shapes', () => {
    const bytes = encodeCheckpoint(state())
    const expected = { ...params(), wIn: zeros([4, 3]), head: { w: zeros([4, 2], { dtype: 'float32' }), b: zeros([2]) }, layers: [{ bRec: null }] }
    const error = left(decodeCheckpoint(bytes, 'run/checkpoint.safetensors', { params: expected }))
    expect(error.kind).toBe('mismatch')
    expect(error.path).toBe('params.wIn')
    const lines = error.message.split('\n')
    expect(lines.slice(0, 4)).toEqual([
      "run/checkpoint.safetensors: tensor 'params.wIn': expected shape [4, 3], found [3, 4].",
      "run/checkpoint.safetensors: tensor 'params.head.w': expected dtype float32, found float64 (shape [4, 2]).",
      "run/checkpoint.safetensors: tensor 'params.head.b' is missing: expected shape [2] (float64).",
      "run/checkpoint.safetensors: tensor 'params.layers.0.wRec' (shape [4, 4]) is unexpected: the expected params have no such leaf.",
    ])
    expect(lines[4]).toMatch(/different model configuration/)
  })

  it('rejects a structure that differs where no tensor lives (null vs {})', () => {
    const error = left(decodeCheckpoint(encodeCheckpoint(state()), 'ck', { params: { ...params(), layers: [{ wRec: zeros([4, 4]), bRec: {} }] } }))
    expect(error.message).toContain('params: the expected and the saved structures differ at params.layers[0].bRec: object vs empty (expected vs saved)')
  })

  describe('rejects bad checkpoint metadata with the file and the field', () => {
    const withMeta = (meta: unknown, tensors: Record<string, Tensor> = { 'params.w': zeros([1]) }) =>
      encodeSafetensors(tensors, { 'scangrad.checkpoint': typeof meta === 'string' ? meta : JSON.stringify(meta) })
    const good = {
      format: 'scangrad.checkpoint', version: 1, epoch: 1, step: 1, key: [1, 2],
      trees: { params: { kind: 'object', keys: ['w'], children: [{ kind: 'leaf' }] }, optState: { kind: 'null' } },
      model: null, data: null, extra: null,
    }
    const cases: Array<[string, Uint8Array, string[]]> = [
      ['a plain safetensors file', encodeSafetensors({ w: zeros([1]) }), ['not a scangrad checkpoint', 'io.loadSafetensors']],
      ['metadata that is not JSON', withMeta('{epoch'), ['__metadata__["scangrad.checkpoint"] is not valid JSON']],
      ['a newer format version', withMeta({ ...good, version: 2 }), ['checkpoint format version 2; this scangrad reads version 1', 'upgrade scangrad']],
      ['a negative epoch and a bad key', withMeta({ ...good, epoch: -1, key: [1, 2 ** 32] }), [
        '__metadata__["scangrad.checkpoint"]/epoch: expected a non-negative integer, got -1',
        '__metadata__["scangrad.checkpoint"]/key: expected a key: a list of two unsigned 32-bit integers, got [1,4294967296]',
      ]],
      ['a bad tree structure', withMeta({ ...good, trees: { ...good.trees, params: { kind: 'object', keys: ['w', 'v'], children: [{ kind: 'leaf' }] } } }), [
        '/trees/params: an object node needs one child per key, got 2 keys and 1 children',
      ]],
      ['an unknown node kind', withMeta({ ...good, trees: { ...good.trees, optState: { kind: 'set' } } }), [
        '/trees/optState/kind: expected one of "leaf", "null", "undefined", "array", "object", got "set"',
      ]],
      ['a tensor the structure does not name', withMeta(good, { 'params.w': zeros([1]), 'params.v': zeros([1]) }), ["tensor 'params.v' is in the file but not in the saved tree structures"]],
      ['a tensor the structure names but the file lacks', withMeta(good, {}), ["tensor 'params.w' is named by the saved tree structure but missing from the file"]],
    ]
    it.each(cases)('%s', (_, bytes, fragments) => {
      const error = left(decodeCheckpoint(bytes, 'ck.safetensors'))
      expect(error.kind).toBe('corrupt')
      for (const f of fragments) expect(error.message).toContain(f)
      expect(error.message.startsWith('ck.safetensors: ')).toBe(true)
    })
  })

  it('refuses to save what is not a valid state (programmer errors throw)', () => {
    expect(() => encodeCheckpoint({ ...state(), epoch: -1 })).toThrow(/epoch must be a non-negative integer/)
    expect(() => encodeCheckpoint({ ...state(), key: [1, 2] as unknown as Key })).toThrow(/key must be a random key/)
    expect(() => encodeCheckpoint({ ...state(), model: { lr: NaN } })).toThrow(/model\.lr must be a JSON value/)
    expect(() => encodeCheckpoint({ ...state(), extra: { when: new Date(0) } })).toThrow(/extra\.when must be a JSON value.*Date/)
    expect(() => encodeCheckpoint({ ...state(), params: { w: [1, 2] } })).toThrow(/params.*expected a Tensor/)
  })
})

describe('io.saveCheckpoint / io.loadCheckpoint', () => {
  it('saves atomically to a file and loads it back, against expected params', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scangrad-ck-'))
    const path = checkpointPath(dir)
    const s = state(randomKey(9))
    await saveCheckpoint(path, s)
    await saveCheckpoint(path, { ...s, epoch: 3 }) // replaces the previous one
    const restored = right(await loadCheckpoint(path, { params: params() }))
    expect(restored.epoch).toBe(3)
    expectSameTree(restored.params, s.params)
    expectSameBits((restored.optState as ReturnType<typeof adamState>)[0]?.count, tensor(0))
    expect(readdirSync(dir)).toEqual([CHECKPOINT_FILE]) // no temporary file left behind
    expect(readFileSync(path).subarray(0, 8).length).toBe(8)
    rmSync(dir, { recursive: true })
  })

  it('reports a missing checkpoint with its path', async () => {
    const path = join(tmpdir(), 'scangrad-no-such-run', CHECKPOINT_FILE)
    const error = left(await loadCheckpoint(path))
    expect(error).toMatchObject({ kind: 'notFound', source: path })
    expect(error.message).toContain(`${path}: no such file.`)
  })
})
