/**
 * @file The CLI's one error type. Anything a user can cause (a bad option, a missing file, a
 * malformed config, CSV or checkpoint) becomes a `CliError` whose message is printed as is, with
 * no stack trace; anything else is a bug and is printed with its stack. Node-free.
 */
import type { IoError } from '../io/IoError.js'

/**
 * A user-facing failure: `message` is complete (who, what was wrong, how to fix it). `exitCode` is
 * 2 for usage errors (options, configs) and 1 for data errors (files, checkpoints), as most Unix
 * tools do.
 * @category cli
 */
export class CliError extends Error {
  override readonly name = 'CliError'
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message)
  }
}

/**
 * An `IoError` (possibly several lines: one per problem, then a hint) folded into one line: the
 * first problems joined by "; ", how many more there are, and the hint, e.g.
 * `run/checkpoint.safetensors: tensor 'params.output.w': expected shape [300, 10], found [64, 10] (and 3 more problems)`.
 * @category cli
 */
export const oneLine = (error: { readonly message: string }, shown = 3): string => {
  const lines = error.message.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  if (lines.length <= 1) return lines[0] ?? ''
  const source = lines[0].split(': ')[0]
  const problems = lines.filter((l) => l.startsWith(`${source}: `)).map((l, i) => (i === 0 ? l : l.slice(source.length + 2)).replace(/\.$/, ''))
  const hints = lines.filter((l) => !l.startsWith(`${source}: `))
  const rest = problems.length - shown
  const more = rest > 0 ? ` (and ${rest} more problem${rest === 1 ? '' : 's'})` : ''
  return `${problems.slice(0, shown).join('; ')}${more}.${hints.length === 0 ? '' : ` ${hints.join(' ')}`}`
}

/** An IoError as a CliError, folded to one line (checkpoints) or kept whole (configs list every field). */
export const fromIoError = (error: IoError, options: { readonly fold?: boolean; readonly exitCode?: 1 | 2 } = {}): CliError =>
  new CliError(options.fold === false ? error.message : oneLine(error), options.exitCode ?? 1)
