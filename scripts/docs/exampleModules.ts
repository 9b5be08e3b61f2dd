/**
 * @file Every `@example` of the public API as a module of its own, ready to type-check and run: the
 * example becomes the body of an async function (so it may `await`), with every public name of
 * `scangrad` and `scangrad/node` in scope, as the reference says examples assume
 * (`import { ... } from 'scangrad'`).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { type PublicExport, repositoryRoot } from './publicApi.js'

export interface ExampleModule {
  /** The export's name, with `#k` for its k-th example when it has several. */
  readonly label: string
  readonly exported: PublicExport
  readonly file: string
}

/** The names of one kind that an entry point exports at its top level (namespaces by their own name). */
const topLevel = (exports: readonly PublicExport[], entry: PublicExport['entry'], kind: PublicExport['kind']): string[] => {
  const values = new Set(exports.filter((e) => e.entry === entry && e.kind === 'value').map((e) => e.name.split('.')[0]))
  const types = exports.filter((e) => e.entry === entry && e.kind === 'type' && !e.name.includes('.')).map((e) => e.name)
  return kind === 'value' ? [...values] : types.filter((name) => !values.has(name))
}

/**
 * Writes one module per example of the exports that `include` picks into `folder` (emptied first)
 * and returns them. Every public name is in scope, and fp-ts's `E` (Either) and `pipe`, which the
 * library's results use.
 */
export const writeExampleModules = (
  exports: readonly PublicExport[], folder: string, include: (e: PublicExport) => boolean = () => true,
): ExampleModule[] => {
  rmSync(folder, { recursive: true, force: true })
  mkdirSync(folder, { recursive: true })
  const from = (file: string): string => relative(folder, join(repositoryRoot, file)).replaceAll('\\', '/')
  const prelude = [
    `import { ${topLevel(exports, 'scangrad', 'value').join(', ')} } from '${from('src/index.js')}'`,
    `import type { ${topLevel(exports, 'scangrad', 'type').join(', ')} } from '${from('src/index.js')}'`,
    `import { ${topLevel(exports, 'scangrad/node', 'value').join(', ')} } from '${from('src/node.js')}'`,
    `import * as E from 'fp-ts/lib/Either.js'`,
    `import { pipe } from 'fp-ts/lib/function.js'`,
  ].join('\n')
  const modules: ExampleModule[] = []
  for (const exported of exports.filter(include)) {
    exported.examples.forEach((code, k) => {
      const label = exported.examples.length > 1 ? `${exported.name}#${k + 1}` : exported.name
      const file = join(folder, `${label.replace(/[^A-Za-z0-9]+/g, '_')}.ts`)
      writeFileSync(file, `${prelude}\n\n// ${label} (${exported.where})\nexport default async (): Promise<void> => {\n${code}\n}\n`)
      modules.push({ label, exported, file })
    })
  }
  return modules
}

/** Type errors per example module (an empty map when they all type-check), with the repository's compiler options. */
export const typeErrors = (modules: readonly ExampleModule[]): Map<string, string[]> => {
  const config = ts.readConfigFile(join(repositoryRoot, 'tsconfig.json'), ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, repositoryRoot)
  const program = ts.createProgram(modules.map((m) => m.file), { ...options, noEmit: true })
  const byFile = new Map(modules.map((m) => [m.file, m.label]))
  const errors = new Map<string, string[]>()
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const label = d.file === undefined ? undefined : byFile.get(d.file.fileName)
    if (label === undefined) continue
    const line = d.start === undefined ? 0 : d.file!.getLineAndCharacterOfPosition(d.start).line + 1
    errors.set(label, [...(errors.get(label) ?? []), `line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`])
  }
  return errors
}
