/**
 * @file Decoding untrusted JSON with io-ts: `decodeWith` turns io-ts's errors into one line per
 * invalid field, with the field's path, what was expected and what was seen; plus small reusable
 * codecs for configs (positive numbers, probabilities, string choices, closed objects, tagged
 * unions). Codec names are written as descriptions ("a positive number") because they appear in
 * messages. Pure: no Node APIs. Imports io-ts and fp-ts only.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { type IoError, type IoErrorKind, ioError } from './IoError.js'

// ---- decoding ----

/** Options of `decodeWith`. */
export interface DecodeOptions {
  /** The kind of the returned error (default `'invalid'`). */
  readonly kind?: IoErrorKind
  /** Text written before every field path, e.g. `'header'` gives `header/x/shape`. */
  readonly within?: string
}

/**
 * Validates `value` with an io-ts codec. On failure, the Left lists EVERY invalid field, one line
 * each: `source: /path/to/field: expected <codec description>, got <value>` (or `… is missing`).
 *
 * @param codec the io-ts codec (see the codecs below for readable descriptions).
 * @param value the untrusted value, typically from `JSON.parse`.
 * @param source where the value came from, e.g. the file name; starts every line of the message.
 * @returns Right of the decoded value, or Left of an IoError whose `path` is the first bad field.
 * @example
 * ```ts
 * const Config = io.struct({ learningRate: io.PositiveNumber, epochs: io.PositiveInt })
 * const bad = io.decodeWith(Config, JSON.parse('{ "learningRate": "fast", "epochs": 0 }'), 'config.json')
 * if (E.isLeft(bad)) console.log(bad.left.message, bad.left.path)
 * // config.json: /learningRate: expected a positive number, got "fast"
 * // config.json: /epochs: expected a positive integer, got 0 /learningRate
 * const good = io.decodeWith(Config, { learningRate: 0.01, epochs: 5 }, 'config.json')
 * if (E.isRight(good)) console.log(good.right.epochs) // 5, typed as a number
 * ```
 * @category codecs
 */
export const decodeWith = <A, O>(
  codec: t.Type<A, O, unknown>,
  value: unknown,
  source: string,
  options: DecodeOptions = {},
): E.Either<IoError, A> => {
  const result = codec.decode(value)
  if (E.isRight(result)) return result
  const issues = describeErrors(result.left)
  const within = options.within ?? ''
  return E.left(
    ioError(
      options.kind ?? 'invalid',
      source,
      issues.map((i) => `${within}${i.path}: ${i.problem}`),
      { path: `${within}${issues[0]?.path ?? ''}` },
    ),
  )
}

/** One invalid field: its JSON-pointer path (`''` is the root) and what is wrong with it. */
export interface FieldIssue {
  readonly path: string
  readonly problem: string
}

/**
 * Groups io-ts errors by field. Errors from the branches of a union that land on the same field are
 * merged ("expected a number or a string"), so each field appears once, in the order first seen.
 * @example
 * ```ts
 * const result = io.struct({ epochs: io.PositiveInt }).decode({ epochs: 0, seed: 1 })
 * if (E.isLeft(result)) console.log(io.describeErrors(result.left))
 * // [{ path: '/epochs', problem: 'expected a positive integer, got 0' },
 * //  { path: '/seed', problem: 'unknown field (known fields: epochs)' }]
 * ```
 * @category codecs
 */
export const describeErrors = (errors: t.Errors): FieldIssue[] => {
  const byPath = new Map<string, { expected: string[]; messages: string[]; actual: unknown }>()
  for (const error of errors) {
    const path = pointerOf(error.context)
    const entry = byPath.get(path) ?? { expected: [], messages: [], actual: error.value }
    byPath.set(path, entry)
    if (error.message !== undefined) {
      if (!entry.messages.includes(error.message)) entry.messages.push(error.message)
    } else {
      const expected = describeCodec(error.context[error.context.length - 1]?.type.name ?? 'a valid value')
      if (!entry.expected.includes(expected)) entry.expected.push(expected)
    }
  }
  return [...byPath].map(([path, { expected, messages, actual }]) => {
    const parts = [...messages]
    if (expected.length > 0) {
      const wanted = expected.join(' or ')
      parts.push(actual === undefined ? `is missing (expected ${wanted})` : `expected ${wanted}, got ${showValue(actual)}`)
    }
    return { path: path === '' ? '/' : path, problem: parts.join('; ') }
  })
}

/** The JSON pointer of an io-ts context, skipping the member indices unions and intersections add. */
const pointerOf = (context: t.Context): string => {
  let pointer = ''
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1].type
    if (parent instanceof t.UnionType || parent instanceof t.IntersectionType) continue
    pointer += '/' + context[i].key.replace(/~/g, '~0').replace(/\//g, '~1')
  }
  return pointer
}

const BUILT_IN_NAMES: Readonly<Record<string, string>> = {
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  Int: 'an integer',
  UnknownRecord: 'an object',
  UnknownArray: 'an array',
  Function: 'a function',
}

/** Turns an io-ts codec name into words for a message. */
const describeCodec = (name: string): string =>
  BUILT_IN_NAMES[name] ??
  (name.startsWith('{') ? 'an object' : /^(Readonly)?Array</.test(name) ? 'an array' : /^\[.*\]$/.test(name) ? `a list ${name}` : name)

/**
 * A short rendering of a value seen in the input (never a whole big object).
 * @example
 * ```ts
 * console.log(io.showValue('fast'), io.showValue(NaN), io.showValue([1, 2])) // "fast" NaN [1,2]
 * console.log(io.showValue({ weights: Array(100).fill(0) }).length) // 60: cut with "..."
 * ```
 * @category codecs
 */
export const showValue = (value: unknown): string => {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') return `a ${typeof value}`
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    text = undefined
  }
  if (text === undefined) return String(value)
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`
}

// ---- reusable codecs ----

/** A number codec with a predicate; its name is the description used in messages. */
const numberWhere = (description: string, predicate: (x: number) => boolean): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    description,
    (u): u is number => typeof u === 'number' && predicate(u),
    (u, c) => (typeof u === 'number' && predicate(u) ? t.success(u) : t.failure(u, c)),
    t.identity,
  )

/**
 * A finite number (JSON numbers are always finite; values built in code may not be).
 * @example
 * ```ts
 * console.log(io.FiniteNumber.is(-2.5), io.FiniteNumber.is(Infinity), io.FiniteNumber.is('1')) // true false false
 * ```
 * @category codecs
 */
export const FiniteNumber = numberWhere('a finite number', Number.isFinite)

/**
 * A finite number > 0 (learning rates, scales).
 * @example
 * ```ts
 * const Optimizer = io.struct({ learningRate: io.PositiveNumber })
 * console.log(pipe(io.decodeWith(Optimizer, { learningRate: 0 }, '--config'), E.mapLeft((e) => e.message)))
 * // { _tag: 'Left', left: '--config: /learningRate: expected a positive number, got 0' }
 * ```
 * @category codecs
 */
export const PositiveNumber = numberWhere('a positive number', (x) => Number.isFinite(x) && x > 0)

/**
 * A finite number ≥ 0 (weight decay, momentum).
 * @example
 * ```ts
 * console.log(io.NonNegativeNumber.is(0), io.NonNegativeNumber.is(-0.1)) // true false
 * ```
 * @category codecs
 */
export const NonNegativeNumber = numberWhere('a non-negative number', (x) => Number.isFinite(x) && x >= 0)

/**
 * An integer ≥ 1 (epochs, batch sizes, hidden sizes).
 * @example
 * ```ts
 * console.log([1, 32, 0, 2.5].map((n) => io.PositiveInt.is(n))) // [true, true, false, false]
 * ```
 * @category codecs
 */
export const PositiveInt = numberWhere('a positive integer', (x) => Number.isSafeInteger(x) && x >= 1)

/**
 * An integer ≥ 0 (counts, offsets, seeds).
 * @example
 * ```ts
 * console.log([0, 7, -1, 0.5].map((n) => io.NonNegativeInt.is(n))) // [true, true, false, false]
 * ```
 * @category codecs
 */
export const NonNegativeInt = numberWhere('a non-negative integer', (x) => Number.isSafeInteger(x) && x >= 0)

/**
 * A number p with 0 ≤ p ≤ 1 (dropout, validation fraction).
 * @example
 * ```ts
 * const Split = io.struct({ test: io.Probability })
 * console.log(pipe(io.decodeWith(Split, { test: 1.5 }, 'split.json'), E.mapLeft((e) => e.message)))
 * // { _tag: 'Left', left: 'split.json: /test: expected a probability (a number from 0 to 1), got 1.5' }
 * ```
 * @category codecs
 */
export const Probability = numberWhere('a probability (a number from 0 to 1)', (x) => x >= 0 && x <= 1)

/**
 * A string with at least one character.
 * @example
 * ```ts
 * console.log(io.NonEmptyString.is('runs/a'), io.NonEmptyString.is('')) // true false
 * ```
 * @category codecs
 */
export const NonEmptyString = new t.Type<string, string, unknown>(
  'a non-empty string',
  (u): u is string => typeof u === 'string' && u.length > 0,
  (u, c) => (typeof u === 'string' && u.length > 0 ? t.success(u) : t.failure(u, c)),
  t.identity,
)

/**
 * One of a fixed list of strings, e.g. `oneOf(['mnist', 'oscillator'])`; its message lists them.
 * @example
 * ```ts
 * const Task = io.oneOf(['mnist', 'oscillator'])
 * console.log(Task.is('mnist')) // true
 * console.log(pipe(io.decodeWith(Task, 'mnsit', '--task'), E.mapLeft((e) => e.message)))
 * // { _tag: 'Left', left: '--task: /: expected one of "mnist", "oscillator", got "mnsit"' }
 * ```
 * @category codecs
 */
export const oneOf = <const L extends readonly [string, ...string[]]>(choices: L): t.Type<L[number], L[number], unknown> =>
  new t.Type<L[number], L[number], unknown>(
    `one of ${choices.map((s) => JSON.stringify(s)).join(', ')}`,
    (u): u is L[number] => typeof u === 'string' && choices.includes(u),
    (u, c) => (typeof u === 'string' && choices.includes(u) ? t.success(u) : t.failure(u, c)),
    t.identity,
  )

const isPlainRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)

/** The decoded type of `struct(required, optional)`. */
export type StructOf<R extends t.Props, O extends t.Props> = t.TypeOfProps<R> & t.TypeOfPartialProps<O>

/**
 * A closed object: the `required` fields must be present, the `optional` ones may be absent or
 * undefined, and any other field is reported as unknown (a typo such as `learningrate` must not be
 * silently ignored). Every field is checked, so every problem is reported at once.
 * @example
 * ```ts
 * const Run = io.struct({ epochs: io.PositiveInt }, { seed: io.NonNegativeInt })
 * console.log(Run.is({ epochs: 3 }), Run.is({ epochs: 3, seed: 1 })) // true true
 * const typo = io.decodeWith(Run, { epochs: 3, sed: 1 }, 'run.json')
 * if (E.isLeft(typo)) console.log(typo.left.message) // run.json: /sed: unknown field (known fields: epochs, seed)
 * ```
 * @category codecs
 */
export const struct = <R extends t.Props, O extends t.Props = Record<never, t.Mixed>>(
  required: R,
  optional: O = {} as O,
  name = 'an object',
): t.Type<StructOf<R, O>, unknown, unknown> => {
  const known = [...Object.keys(required), ...Object.keys(optional)]
  const validate = (u: unknown, c: t.Context): t.Validation<StructOf<R, O>> => {
    if (!isPlainRecord(u)) return t.failure(u, c)
    const errors: t.ValidationError[] = []
    const out: Record<string, unknown> = {}
    const check = (key: string, codec: t.Mixed): void => {
      const result = codec.validate(u[key], t.appendContext(c, key, codec, u[key]))
      if (E.isLeft(result)) errors.push(...result.left)
      else if (result.right !== undefined || key in required) out[key] = result.right
    }
    for (const [key, codec] of Object.entries(required)) check(key, codec)
    for (const [key, codec] of Object.entries(optional)) if (u[key] !== undefined) check(key, codec)
    for (const key of Object.keys(u)) {
      if (!known.includes(key)) {
        const context = t.appendContext(c, key, t.never, u[key])
        errors.push({ value: u[key], context, message: `unknown field (known fields: ${known.join(', ') || 'none'})` })
      }
    }
    return errors.length > 0 ? t.failures(errors) : t.success(out as StructOf<R, O>)
  }
  return new t.Type<StructOf<R, O>, unknown, unknown>(name, (u): u is StructOf<R, O> => E.isRight(validate(u, [])), validate, (a) => {
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(a as Record<string, unknown>)) {
      const codec = required[key] ?? optional[key]
      out[key] = codec === undefined ? value : codec.encode(value)
    }
    return out
  })
}

/**
 * A union of object codecs told apart by a string field (`tag`), e.g. optimisers by `kind`. Only the
 * member named by the tag validates the value, so its errors are reported alone; an unknown tag is
 * reported at the tag's path with the list of known ones.
 * @example
 * ```ts
 * const Optimizer = io.taggedUnion('kind', {
 *   sgd: io.struct({ kind: io.oneOf(['sgd']), learningRate: io.PositiveNumber }),
 *   adam: io.struct({ kind: io.oneOf(['adam']), learningRate: io.PositiveNumber }, { b1: io.Probability }),
 * })
 * const decode = (value: unknown) => pipe(io.decodeWith(Optimizer, value, 'config.json'), E.mapLeft((e) => e.message))
 * console.log(decode({ kind: 'adam', learningRate: 1e-3, b1: 0.8 })) // { _tag: 'Right', right: { kind: 'adam', learningRate: 0.001, b1: 0.8 } }
 * console.log(decode({ kind: 'sgd', learningRate: 0.1, b1: 0.8 })) // only sgd's rules apply:
 * // { _tag: 'Left', left: 'config.json: /b1: unknown field (known fields: kind, learningRate)' }
 * console.log(decode({ kind: 'lbfgs' }))
 * // { _tag: 'Left', left: 'config.json: /kind: expected one of "sgd", "adam", got "lbfgs"' }
 * ```
 * @category codecs
 */
export const taggedUnion = <M extends Record<string, t.Mixed>>(
  tag: string,
  members: M,
  name = `an object with "${tag}" one of ${Object.keys(members).map((k) => JSON.stringify(k)).join(', ')}`,
): t.Type<t.TypeOf<M[keyof M]>, t.OutputOf<M[keyof M]>, unknown> => {
  const tags = Object.keys(members) as [string, ...string[]]
  const tagCodec = oneOf(tags)
  const validate = (u: unknown, c: t.Context): t.Validation<t.TypeOf<M[keyof M]>> => {
    if (!isPlainRecord(u)) return t.failure(u, c)
    const value = u[tag]
    if (typeof value !== 'string' || !Object.hasOwn(members, value)) return t.failure(value, t.appendContext(c, tag, tagCodec, value))
    return members[value].validate(u, c)
  }
  return new t.Type<t.TypeOf<M[keyof M]>, t.OutputOf<M[keyof M]>, unknown>(
    name,
    (u): u is t.TypeOf<M[keyof M]> => E.isRight(validate(u, [])),
    validate,
    (a) => members[(a as Record<string, string>)[tag]].encode(a),
  )
}
