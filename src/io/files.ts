/**
 * @file Files on disk: atomic writes and safetensors load/save. The only module of scangrad that
 * uses Node APIs, and only inside its async functions: the Node modules are imported lazily, so
 * importing the io namespace in a browser works (calling these functions there does not).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Tensor } from '../tensor/Tensor.js'
import { type IoError, ioError } from './IoError.js'
import { type SafetensorsContent, decodeSafetensors, encodeSafetensors } from './safetensors.js'

// ---- Node, lazily ----

// The parts of node:fs/promises, node:path and node:crypto used here. They are declared locally and
// imported through a variable specifier so that neither the browser-targeted build (which has no
// Node types) nor a bundler resolves Node modules when it meets the io namespace.
interface FileHandle {
  writeFile(data: Uint8Array | string): Promise<void>
  sync(): Promise<void>
  close(): Promise<void>
}
interface NodeFs {
  open(path: string, flags: string, mode?: number): Promise<FileHandle>
  rename(from: string, to: string): Promise<void>
  rm(path: string, options: { force: boolean }): Promise<void>
  readFile(path: string): Promise<Uint8Array>
}
interface NodePath {
  dirname(path: string): string
  basename(path: string): string
  join(...parts: string[]): string
}
interface NodeCrypto {
  randomBytes(size: number): { toString(encoding: 'hex'): string }
}
interface NodeModules {
  readonly fs: NodeFs
  readonly path: NodePath
  readonly crypto: NodeCrypto
}

const importNode = async (): Promise<NodeModules> => {
  const load = (name: string): Promise<unknown> => import(name)
  const [fs, path, crypto] = await Promise.all([load('node:fs/promises'), load('node:path'), load('node:crypto')])
  return { fs: fs as NodeFs, path: path as NodePath, crypto: crypto as NodeCrypto }
}

const errorCode = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined

// ---- atomic writes ----

/**
 * Writes a file so that, whatever happens (a crash, SIGKILL, power loss after the call returns),
 * `path` holds either its previous contents or the new ones, never a mix.
 *
 * Steps: write a temporary file in the same directory (a rename is only atomic within one file
 * system), fsync it so its bytes are on disk before it gets the name, rename it over `path` (atomic
 * on POSIX; on Windows Node replaces the file), then fsync the directory so the rename itself is
 * durable (best effort: not every platform can open a directory). On an error the temporary file
 * is removed and the error rethrown. A process killed mid-write can leave a stray temporary file
 * named `.<name>.<random>.tmp`, never a broken `path`. The directory must exist.
 *
 * @param path the target file.
 * @param data the contents (a string is written as UTF-8).
 * @example
 * ```ts
 * const fs = await import('node:fs')
 * const os = await import('node:os')
 * const path = await import('node:path')
 * const run = fs.mkdtempSync(path.join(os.tmpdir(), 'scangrad-'))
 * const file = path.join(run, 'metrics.json')
 * await io.writeFileAtomic(file, JSON.stringify({ epoch: 1, loss: 0.25 }))
 * await io.writeFileAtomic(file, JSON.stringify({ epoch: 2, loss: 0.125 })) // replaces it whole
 * console.log(fs.readFileSync(file, 'utf8'), fs.readdirSync(run)) // {"epoch":2,"loss":0.125} ['metrics.json']
 * ```
 * @category io
 */
export const writeFileAtomic = async (path: string, data: Uint8Array | string): Promise<void> => {
  const node = await importNode()
  const dir = node.path.dirname(path)
  const temp = node.path.join(dir, `.${node.path.basename(path)}.${node.crypto.randomBytes(6).toString('hex')}.tmp`)
  try {
    const handle = await node.fs.open(temp, 'wx', 0o666) // 'wx': never reuse someone else's file; the umask applies
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await node.fs.rename(temp, path)
  } catch (e) {
    await node.fs.rm(temp, { force: true }).catch(() => undefined)
    throw e
  }
  try {
    const handle = await node.fs.open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // Directories cannot be opened or fsynced on some platforms (Windows); the data is already safe
    // in the renamed file, only the durability of the rename across a power loss is weaker there.
  }
}

/**
 * Reads a whole file; a missing or unreadable file is a Left naming the path, not an exception.
 * @example
 * ```ts
 * const missing = await io.readFileEither('/no/such/config.json')
 * console.log(pipe(missing, E.match((e) => `${e.kind}: ${e.message}`, (bytes) => `${bytes.length} bytes`)))
 * // notFound: /no/such/config.json: no such file.
 * ```
 * @category io
 */
export const readFileEither = async (path: string): Promise<E.Either<IoError, Uint8Array>> => {
  const node = await importNode()
  try {
    return E.right(await node.fs.readFile(path))
  } catch (e) {
    const code = errorCode(e)
    if (code === 'ENOENT') return E.left(ioError('notFound', path, ['no such file.']))
    const reason = code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (e as Error).message
    return E.left(ioError('unreadable', path, [`cannot read the file: ${reason}.`]))
  }
}

// ---- safetensors on disk ----

/**
 * Saves tensors to a safetensors file atomically (see `encodeSafetensors` for the layout and
 * `writeFileAtomic` for the guarantee).
 * @param path the file, conventionally ending in `.safetensors`.
 * @param tensors name → Tensor (F32 or F64).
 * @param metadata optional string → string, stored as `__metadata__`.
 * @example
 * ```ts
 * const fs = await import('node:fs')
 * const os = await import('node:os')
 * const path = await import('node:path')
 * const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'scangrad-')), 'lstm.safetensors')
 * const params = nn.lstm({ inputSize: 2, hiddenSize: 3 }).init(randomKey(0)) // PyTorch's names: weight_ih_l0, …
 * await io.saveSafetensors(file, params, { source: 'scangrad' })
 * console.log(fs.statSync(file).size) // 992: a JSON header, then 96 float64 values
 * ```
 * @category io
 */
export const saveSafetensors = async (path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> =>
  writeFileAtomic(path, encodeSafetensors(tensors, metadata))

/**
 * Loads a safetensors file (F32 and F64; other dtypes are rejected by name).
 * @param path the file.
 * @returns Right `{ tensors, metadata }`, or Left an IoError naming the file and what is wrong
 *   (missing, unreadable, truncated, bad header, bad offsets, unsupported dtype).
 * @example
 * ```ts
 * const fs = await import('node:fs')
 * const os = await import('node:os')
 * const path = await import('node:path')
 * const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'scangrad-')), 'gru.safetensors')
 * const gru = nn.gru({ inputSize: 2, hiddenSize: 3 })
 * await io.saveSafetensors(file, gru.init(randomKey(0)))
 * const loaded = await io.loadSafetensors(file)
 * console.log(pipe(loaded, E.map(({ tensors }) => tensors.weight_ih_l0.shape))) // { _tag: 'Right', right: [9, 2] }
 * if (E.isRight(loaded)) gru.apply(loaded.right.tensors, ones([1, 4, 2])) // names and shapes match the layer's
 * const missing = await io.loadSafetensors(path.join(path.dirname(file), 'missing.safetensors'))
 * console.log(pipe(missing, E.mapLeft((e) => e.kind))) // { _tag: 'Left', left: 'notFound' }
 * ```
 * @category io
 */
export const loadSafetensors = async (path: string): Promise<E.Either<IoError, SafetensorsContent>> => {
  const bytes = await readFileEither(path)
  return E.isLeft(bytes) ? bytes : decodeSafetensors(bytes.right, path)
}
