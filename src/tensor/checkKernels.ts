/**
 * @file The check a backend passes before it is installed: every required kernel a function, every
 * optional one a function or absent, and a string name. A backend missing a kernel would otherwise
 * fail much later, inside whichever operation first calls it. Imports tensor/ only.
 */
import { OPTIONAL_KERNELS, REQUIRED_KERNELS } from './complete.js'
import type { Kernels } from './kernels.js'

/** What a value is, for a message: `a number`, `undefined`, `an object`. */
const describe = (value: unknown): string =>
  value === null || value === undefined ? String(value) : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`

/** Every own and inherited enumerable key of `value`, or 'none'. */
const keysOf = (value: object): string => {
  const keys: string[] = []
  for (const key in value) keys.push(key)
  return keys.length === 0 ? 'none' : keys.join(', ')
}

/**
 * `value` as a backend, when it is one.
 * @param who the public name speaking in the message, e.g. 'useKernels'
 * @param value what was given as a backend
 * @returns value, typed as `Kernels`
 * @throws TypeError naming every missing kernel and every member of the wrong type
 * @example checkKernels('useKernels', {}) // throws: the backend lacks the required kernels neg, exp, …
 * @category kernels
 */
export const checkKernels = (who: string, value: unknown): Kernels => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${who}: expected a kernel backend (an object of kernels such as jsKernels), got ${describe(value)}.`)
  }
  const members = value as Record<string, unknown>
  const missing = REQUIRED_KERNELS.filter((name) => members[name] === undefined)
  const wrong = [...REQUIRED_KERNELS, ...OPTIONAL_KERNELS]
    .filter((name) => members[name] !== undefined && typeof members[name] !== 'function')
    .map((name) => `${name} (${describe(members[name])})`)
  const problems = [
    ...(missing.length > 0 ? [`lacks the required kernels ${missing.join(', ')}`] : []),
    ...(wrong.length > 0 ? [`has kernels that are not functions: ${wrong.join(', ')}`] : []),
    ...(typeof members.name !== 'string' ? [`has no string \`name\` (got ${describe(members.name)})`] : []),
  ]
  if (problems.length === 0) return value as Kernels
  const got = `got an object with keys: ${keysOf(value)}`
  const fix = 'To replace some kernels only, spread a whole backend: { ...jsKernels, name: \'mine\', matmul }.'
  throw new TypeError(
    problems.length === 1
      ? `${who}: the backend ${problems[0]} (${got}). ${fix}`
      : `${who}: the backend\n${problems.map((p) => `  * ${p};`).join('\n')}\n(${got}). ${fix}`,
  )
}
