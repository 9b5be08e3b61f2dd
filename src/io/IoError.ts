/**
 * @file The one error type of the io layer. Data that comes from outside (files, configs,
 * checkpoints) is never trusted: decoding returns `Either<IoError, A>` instead of throwing, so a
 * caller (the CLI) can print the message and exit cleanly. Imports nothing.
 */

/**
 * Why a read failed:
 * - `notFound`: the file does not exist;
 * - `unreadable`: the operating system refused to read it (permissions, a directory, …);
 * - `corrupt`: the bytes do not follow the format (truncated, bad header, bad offsets, …);
 * - `invalid`: well-formed, but a field breaks a rule of its codec (a config value out of range);
 * - `mismatch`: valid, but it does not fit what the caller expected (tensor shapes of a model).
 * @category io
 */
export type IoErrorKind = 'notFound' | 'unreadable' | 'corrupt' | 'invalid' | 'mismatch'

/**
 * A data error from the io layer.
 *
 * `message` is complete and ready to print: every problem is one line starting with the source
 * (`config.json: /optimizer/learningRate: expected a positive number, got "fast"`), optionally
 * followed by a line saying how to fix it. `path` names the first offending field, as a JSON
 * pointer (`/x/data_offsets`) or a tensor name (`params.wIn`), when there is one.
 * @category io
 */
export interface IoError {
  readonly kind: IoErrorKind
  /** The file path, or another name for where the data came from (`'<bytes>'`, `'--config'`). */
  readonly source: string
  readonly message: string
  readonly path?: string
}

/**
 * An IoError listing `problems` one per line, each prefixed with the source, then an optional hint.
 * @example
 * ```ts
 * const error = io.ioError('invalid', 'config.json', ['/epochs: expected a positive integer, got 0'], {
 *   path: '/epochs', hint: 'Train for at least one epoch.',
 * })
 * console.log(error.kind, error.path) // invalid /epochs
 * console.log(error.message)
 * // config.json: /epochs: expected a positive integer, got 0
 * // Train for at least one epoch.
 * ```
 * @category io
 */
export const ioError = (
  kind: IoErrorKind,
  source: string,
  problems: readonly string[],
  options: { readonly path?: string; readonly hint?: string } = {},
): IoError => {
  const lines = problems.map((p) => `${source}: ${p}`)
  if (options.hint !== undefined) lines.push(options.hint)
  const error: IoError = { kind, source, message: lines.join('\n') }
  return options.path === undefined ? error : { ...error, path: options.path }
}
