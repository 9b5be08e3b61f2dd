/**
 * @file The public API as a user sees it: every export of `scangrad` and `scangrad/node`, namespaces
 * followed (`nn.lstm`, `optim.adam`), with the `@example` blocks of its doc comment. Read with the
 * TypeScript compiler, so what counts as public is exactly what the entry points export. Used by
 * the docs test (every value export has an example, and every example type-checks and runs) and by
 * `npm run docs`.
 */
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

export interface PublicExport {
  /** As a user writes it: `grad`, `nn.lstm`, `datasets.mnist`. */
  readonly name: string
  readonly entry: 'scangrad' | 'scangrad/node'
  /** A value (function, constant, class) or only a type. */
  readonly kind: 'value' | 'type'
  /** Where it is declared, relative to the repository, with its line. */
  readonly where: string
  /** The code of each `@example` (a fenced block's contents, or the tag's whole text). */
  readonly examples: readonly string[]
}

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url))

const ENTRIES = [
  { entry: 'scangrad', file: 'src/index.ts' },
  { entry: 'scangrad/node', file: 'src/node.ts' },
] as const

/** The code of one `@example` tag: the contents of its fenced blocks, or its text when it has none. */
export const exampleCode = (text: string): string => {
  const fenced = [...text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1])
  return (fenced.length > 0 ? fenced.join('\n') : text).trim()
}

const examplesOf = (declarations: readonly ts.Declaration[]): string[] =>
  declarations.flatMap((d) =>
    ts.getJSDocTags(d)
      .filter((tag) => tag.tagName.text === 'example')
      .map((tag) => exampleCode(ts.getTextOfJSDocComment(tag.comment) ?? ''))
      .filter((code) => code.length > 0),
  )

/** Every public export of the two entry points, namespaces flattened, in declaration order per module. */
export const publicExports = (root = repositoryRoot): PublicExport[] => {
  const files = ENTRIES.map((e) => `${root}${e.file}`)
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, skipLibCheck: true, noEmit: true, types: ['node'], resolveJsonModule: true, esModuleInterop: true,
  })
  const checker = program.getTypeChecker()
  const found: PublicExport[] = []
  const visit = (module: ts.Symbol, prefix: string, entry: PublicExport['entry']): void => {
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      const name = `${prefix}${exported.name}`
      const declarations = symbol.declarations ?? []
      if (declarations.some((d) => ts.isSourceFile(d) || ts.isModuleDeclaration(d))) {
        visit(symbol, `${name}.`, entry)
        continue
      }
      const first = declarations[0]
      const source = first?.getSourceFile()
      const line = source === undefined ? 0 : source.getLineAndCharacterOfPosition(first.getStart()).line + 1
      found.push({
        name,
        entry,
        kind: symbol.flags & ts.SymbolFlags.Value ? 'value' : 'type',
        where: source === undefined ? '?' : `${source.fileName.slice(root.length)}:${line}`,
        examples: examplesOf(declarations),
      })
    }
  }
  ENTRIES.forEach(({ entry }, i) => {
    const source = program.getSourceFile(files[i])
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source)
    if (module === undefined) throw new Error(`publicApi: cannot read the entry point ${files[i]}`)
    visit(module, '', entry)
  })
  return found
}
