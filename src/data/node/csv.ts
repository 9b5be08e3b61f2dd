/// <reference types="node" />
/**
 * @file Reading numeric columns from a CSV file (Node only: reads with `node:fs`; parses with
 * csv-parse). Bad data is a value, not an exception: every function returns an fp-ts `Either`
 * whose Left names the file, the lines and the columns at fault. Rows are validated with io-ts.
 * Options that are wrong in themselves (not depending on the file) are programmer errors and throw.
 */
import { readFileSync } from 'node:fs'
import { parse } from 'csv-parse/sync'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { ValueError } from '../../errors.js'

/** What to do with a used cell that is empty or not a number. */
export type MissingPolicy = 'error' | 'drop' | 'ffill'

/** Which columns to read and how to treat bad cells. */
export interface CsvOptions {
  /** Numeric columns, returned as Float64Arrays; every cell must be a finite decimal number. */
  readonly columns: readonly string[]
  /** Columns returned as strings unchanged (e.g. `'date'`); not validated. */
  readonly text?: readonly string[]
  /**
   * `'error'` (default): any empty or non-numeric cell in a numeric column is a Left listing the
   * first ones; `'drop'`: such rows are left out (their lines are reported in `dropped`);
   * `'ffill'`: such a cell takes the value of the same column in the row above (reported in
   * `filled`; a bad cell in the first row has nothing above it and stays an error).
   */
  readonly missing?: MissingPolicy
  /** Field delimiter (default `,`). */
  readonly delimiter?: string
}

/** One bad cell: its line in the file (the header is line 1), its column and its text. */
export interface CsvCellProblem {
  readonly line: number
  readonly column: string
  readonly value: string
}

/** Why a CSV could not be read. `message` is complete and ready to print. */
export interface CsvError {
  readonly kind: 'read' | 'parse' | 'columns' | 'cells' | 'empty'
  readonly source: string
  readonly message: string
  /** For `kind: 'cells'`: every bad cell, in file order. */
  readonly cells: readonly CsvCellProblem[]
}

/** The columns read from a CSV, one entry per kept row. */
export interface CsvTable {
  readonly source: string
  /** Number of rows kept. */
  readonly rows: number
  /** Numeric columns by name. */
  readonly columns: Readonly<Record<string, Float64Array>>
  /** String columns by name. */
  readonly text: Readonly<Record<string, readonly string[]>>
  /** The file line of each kept row (the header is line 1, the first data row line 2). */
  readonly lines: readonly number[]
  /** Lines of the rows left out by `missing: 'drop'`. */
  readonly dropped: readonly number[]
  /** Cells replaced by `missing: 'ffill'`. */
  readonly filled: readonly CsvCellProblem[]
}

// ---- validation ----

// Plain decimal notation only: Number() would also accept '', ' ', '0x1f' and 'Infinity'.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/**
 * io-ts codec of one numeric cell: a string in decimal notation (surrounding spaces allowed) that
 * denotes a finite number ↔ that number.
 * @example
 * ```ts
 * console.log(datasets.NumericCell.decode(' 61.5 ')) // { _tag: 'Right', right: 61.5 }
 * console.log(['', 'NA', '0x1f', 'Infinity'].map((cell) => E.isLeft(datasets.NumericCell.decode(cell)))) // [true, true, true, true]
 * console.log(datasets.NumericCell.encode(61.5)) // '61.5'
 * ```
 * @category codecs
 */
export const NumericCell = new t.Type<number, string, unknown>(
  'NumericCell',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c, 'not a string')
    const s = u.trim()
    const v = Number(s)
    return DECIMAL.test(s) && Number.isFinite(v) ? t.success(v) : t.failure(u, c, s === '' ? 'empty' : 'not a number')
  },
  (n) => String(n),
)

/** io-ts codec of a row restricted to the numeric columns asked for. */
const rowCodec = (columns: readonly string[]) =>
  t.type(Object.fromEntries(columns.map((c) => [c, NumericCell])) as Record<string, typeof NumericCell>)

// ---- messages ----

const SHOWN = 8
/** Characters of a cell or column name echoed in a message: a 50 MB cell must not become a 50 MB message. */
const ECHOED = 80
/** Header names listed when a column is not found. */
const LISTED = 30

/** `text` quoted, cut to its first ECHOED characters plus "…" (and its length) when longer. */
const quote = (text: string): string => {
  const chars = [...text.slice(0, ECHOED + 1)]
  return chars.length <= ECHOED ? JSON.stringify(text) : `${JSON.stringify(chars.slice(0, ECHOED).join(''))}… (${text.length} characters)`
}

/** The header's names, quoted and cut, at most LISTED of them. */
const listColumns = (header: readonly string[]): string =>
  header.slice(0, LISTED).map(quote).join(', ') + (header.length > LISTED ? `, … and ${header.length - LISTED} more` : '')

const describeCell = (p: CsvCellProblem): string =>
  `  line ${p.line}, column ${quote(p.column)}: ${p.value.trim() === '' ? 'empty' : `${quote(p.value)} is not a number`}`

const cellsMessage = (source: string, cells: readonly CsvCellProblem[], rule: string, fix: string): string => {
  const rows = new Set(cells.map((c) => c.line)).size
  const columns = [...new Set(cells.map((c) => c.column))].map(quote).join(', ')
  const shown = cells.slice(0, SHOWN).map(describeCell)
  const more = cells.length > SHOWN ? [`  … and ${cells.length - SHOWN} more`] : []
  return [
    `readCsv ${source}: ${rule}; ${cells.length} bad cell${cells.length === 1 ? '' : 's'} in ${rows} row${rows === 1 ? '' : 's'} (columns ${columns}):`,
    ...shown,
    ...more,
    fix,
  ].join('\n')
}

const fail = (kind: CsvError['kind'], source: string, message: string, cells: readonly CsvCellProblem[] = []): E.Either<CsvError, CsvTable> =>
  E.left({ kind, source, message, cells })

// ---- parsing ----

const checkOptions = (options: CsvOptions): void => {
  const names = [...options.columns, ...(options.text ?? [])]
  if (names.length === 0) throw new ValueError('readCsv: options.columns is empty; name at least one column to read.')
  const twice = names.filter((n, i) => names.indexOf(n) !== i)
  if (twice.length > 0) throw new ValueError(`readCsv: column ${JSON.stringify(twice[0])} is asked for twice; list each column once, in columns or text.`)
  const missing = options.missing ?? 'error'
  if (missing !== 'error' && missing !== 'drop' && missing !== 'ffill') {
    throw new ValueError(`readCsv: missing must be 'error', 'drop' or 'ffill', got ${JSON.stringify(missing)}.`)
  }
}

interface ParsedRecord {
  readonly record: string[]
  readonly info: { readonly lines: number }
}

/**
 * Reads columns from CSV text (the header is the first record). The pure part of {@link readCsv},
 * for text that is already in memory; `source` names it in messages.
 *
 * @param content the CSV text.
 * @param options the columns to read and the missing-cell policy.
 * @param source a name for messages (default `'<csv text>'`).
 * @returns Right: a {@link CsvTable}; Left: a {@link CsvError} with a ready message.
 * @example
 * ```ts
 * const csv = 'date,tmax,tmin\n2024-01-01,50,31\n2024-01-02,,30\n2024-01-03,55,NA\n'
 * const table = datasets.parseCsv(csv, { columns: ['tmax'], text: ['date'], missing: 'ffill' }, 'weather.csv')
 * if (E.isRight(table)) console.log(table.right.columns.tmax, table.right.filled) // Float64Array [50, 50, 55] [{ line: 3, column: 'tmax', value: '' }]
 * const strict = datasets.parseCsv(csv, { columns: ['tmax', 'tmin'] }, 'weather.csv')
 * if (E.isLeft(strict)) console.log(strict.left.kind, strict.left.message)
 * // cells readCsv weather.csv: every cell of a used column must be a number; 2 bad cells in 2 rows (columns "tmax", "tmin"):
 * //   line 3, column "tmax": empty
 * //   line 4, column "tmin": "NA" is not a number
 * // Fix the file, or pass missing: 'drop' to skip those rows or 'ffill' to repeat the value above (CLI: --missing drop|ffill).
 * ```
 * @category loaders
 */
export const parseCsv = (content: string, options: CsvOptions, source = '<csv text>'): E.Either<CsvError, CsvTable> => {
  checkOptions(options)
  let records: ParsedRecord[]
  try {
    records = parse(content, { bom: true, trim: true, skip_empty_lines: true, info: true, delimiter: options.delimiter ?? ',' }) as unknown as ParsedRecord[]
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e)
    return fail('parse', source, `readCsv ${source}: the file is not valid CSV: ${reason.length > 4 * ECHOED ? `${reason.slice(0, 4 * ECHOED)}…` : reason}.\nEvery row needs as many fields as the header, and quotes must be closed.`)
  }
  if (records.length === 0) return fail('empty', source, `readCsv ${source}: the file is empty; expected a header line and data rows.`)
  const header = records[0].record
  const wanted = [...options.columns, ...(options.text ?? [])]
  const unknown = wanted.filter((c) => !header.includes(c))
  if (unknown.length > 0) {
    return fail(
      'columns',
      source,
      `readCsv ${source}: no column named ${unknown.map(quote).join(', ')}.\n` +
        `  available columns: ${listColumns(header)}\nColumn names are case-sensitive; pick from the header line.`,
    )
  }
  const ambiguous = wanted.filter((c) => header.indexOf(c) !== header.lastIndexOf(c))
  if (ambiguous.length > 0) {
    return fail('columns', source, `readCsv ${source}: the header names ${quote(ambiguous[0])} more than once, so the column is ambiguous; rename one of them.`)
  }
  const data = records.slice(1)
  if (data.length === 0) return fail('empty', source, `readCsv ${source}: the file has a header but no data rows.`)

  const numeric = options.columns
  const at = numeric.map((c) => header.indexOf(c))
  const codec = rowCodec(numeric)
  // A quoted field can span lines; csv-parse reports the line where a record ends, so step back
  // over the line breaks inside its fields to get the line where it starts.
  const lineOf = ({ record, info }: ParsedRecord): number => info.lines - record.reduce((s, f) => s + (f.match(/\n/g)?.length ?? 0), 0)

  const decodedRows: (Readonly<Record<string, number>> | null)[] = []
  const bad: CsvCellProblem[][] = data.map((r) => {
    const row = Object.fromEntries(numeric.map((c, j) => [c, r.record[at[j]]]))
    const decoded = codec.decode(row)
    decodedRows.push(E.isRight(decoded) ? decoded.right : null)
    if (E.isRight(decoded)) return []
    const line = lineOf(r)
    return decoded.left.map((err) => {
      const column = err.context[1]?.key ?? '?'
      return { line, column, value: String(row[column] ?? '') }
    })
  })
  const problems = bad.flat()
  const policy = options.missing ?? 'error'
  if (problems.length > 0 && policy === 'error') {
    return fail(
      'cells',
      source,
      cellsMessage(source, problems, 'every cell of a used column must be a number', "Fix the file, or pass missing: 'drop' to skip those rows or 'ffill' to repeat the value above (CLI: --missing drop|ffill)."),
      problems,
    )
  }

  const kept: number[] = []
  const dropped: number[] = []
  const filled: CsvCellProblem[] = []
  const unfillable: CsvCellProblem[] = []
  const columns = numeric.map(() => new Float64Array(data.length))
  data.forEach((r, i) => {
    if (bad[i].length > 0 && policy === 'drop') {
      dropped.push(lineOf(r))
      return
    }
    const k = kept.length
    const whole = decodedRows[i]
    numeric.forEach((c, j) => {
      if (whole !== null) {
        columns[j][k] = whole[c]
        return
      }
      const decoded = NumericCell.decode(r.record[at[j]])
      if (E.isRight(decoded)) {
        columns[j][k] = decoded.right
      } else if (k > 0) {
        columns[j][k] = columns[j][k - 1]
        filled.push({ line: lineOf(r), column: c, value: r.record[at[j]] })
      } else {
        columns[j][k] = NaN
        unfillable.push({ line: lineOf(r), column: c, value: r.record[at[j]] })
      }
    })
    kept.push(i)
  })
  if (unfillable.length > 0) {
    return fail(
      'cells',
      source,
      cellsMessage(source, unfillable, "missing: 'ffill' has no row above the first data row to copy from", "Fix the first data row, or use missing: 'drop'."),
      unfillable,
    )
  }
  if (kept.length === 0) {
    return fail('empty', source, `readCsv ${source}: every one of the ${data.length} data rows has a bad cell in a used column, so missing: 'drop' left nothing.`, problems)
  }
  const text = Object.fromEntries((options.text ?? []).map((c) => [c, kept.map((i) => data[i].record[header.indexOf(c)])]))
  return E.right({
    source,
    rows: kept.length,
    columns: Object.fromEntries(numeric.map((c, j) => [c, columns[j].slice(0, kept.length)])),
    text,
    lines: kept.map((i) => lineOf(data[i])),
    dropped,
    filled,
  })
}

/**
 * Reads numeric (and optionally string) columns from a CSV file with a header line.
 *
 * Every cell of a numeric column must be a finite decimal number (io-ts {@link NumericCell});
 * empty or non-numeric cells make a Left that lists the first few lines and columns affected
 * (lines counted as in the file, the header being line 1), unless `missing` is `'drop'` or
 * `'ffill'`. Unknown column names make a Left listing the available ones. Columns not asked for
 * are not checked.
 *
 * @param path the file.
 * @param options `{ columns, text?, missing?, delimiter? }`.
 * @returns Right: a {@link CsvTable}; Left: a {@link CsvError}.
 * @example
 * ```ts
 * const fs = await import('node:fs')
 * const os = await import('node:os')
 * const path = await import('node:path')
 * const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'scangrad-')), 'weather.csv')
 * fs.writeFileSync(file, 'date,tmax,tmax_tomorrow\n2024-01-01,50,52\n2024-01-02,52,\n2024-01-03,49,51\n')
 * const table = datasets.readCsv(file, { columns: ['tmax', 'tmax_tomorrow'], text: ['date'], missing: 'drop' })
 * if (E.isLeft(table)) throw new Error(table.left.message)
 * const { rows, columns, text, dropped } = table.right
 * console.log(rows, columns.tmax, text.date, dropped) // 2 Float64Array [50, 49] ['2024-01-01', '2024-01-03'] [3]: line 3 had no tmax_tomorrow
 * console.log(data.seriesTask(columns.tmax, columns.tmax_tomorrow, { train: [0, 2] }).train.xs.shape) // [1, 2, 1], ready for a model
 * ```
 * @category loaders
 */
export const readCsv = (path: string, options: CsvOptions): E.Either<CsvError, CsvTable> => {
  checkOptions(options)
  let content: string
  try {
    content = readFileSync(path, 'utf8')
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e)
    return fail('read', path, `readCsv ${path}: cannot read the file (${reason}). Check the path.`)
  }
  return parseCsv(content, options, path)
}
