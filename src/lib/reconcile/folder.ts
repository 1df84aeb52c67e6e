import {accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import type {Change, Comparison, Difference, TableComparison, Values} from './compare.js'
import {Refused} from '../errors.js'
import {printable} from '../names.js'
import {SESSION_SETTINGS} from './schema.js'
import {quoteIdent} from '../postgres/identifiers.js'

// The folder `db:reconcile` writes: rows can hold personal data, so the folder is 0700 and its files
// 0600. `replay.sql` carries the writes made after the recovery point over to DATABASE: inserts in
// foreign-key order that skip rows already there, updates of only the columns OLD changed that touch
// rows only while they are still as compared, and, commented out for a person to decide on, conflicts
// and deletes. One statement per line.

export {SESSION_SETTINGS}

export const TABLE_MARK = '-- table '

// A text value as an SQL literal on one line: newlines and backslashes escaped in an E'' string.
export function literal(value: string | null): string {
  if (value === null) return 'NULL'
  if (!/[\\\n\r]/.test(value)) return `'${value.replace(/'/g, '\'\'')}'`
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, '\\\'').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`
}

const csvField = (value: string | null) => value === null ? '' : /[",\n\r]/.test(value) || value === '' ? `"${value.replace(/"/g, '""')}"` : value
const csvLine = (fields: (string | null)[]) => `${fields.map(csvField).join(',')}\n`

// Appends through a buffer, so that a large difference costs few system calls.
class Appender {
  private readonly fd: number
  private buffered = ''
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a', 0o600)
  }

  write(text: string) {
    this.buffered += text
    if (this.buffered.length > 1 << 16) this.flush()
  }

  flush() {
    if (this.buffered) writeSync(this.fd, this.buffered)
    this.buffered = ''
  }

  close() {
    this.flush()
    closeSync(this.fd)
  }
}

const keyMatches = (values: Values) => Object.entries(values).map(([name, value]) => `${quoteIdent(name)} = ${literal(value)}`).join(' AND ')
const matches = (values: Values) => Object.entries(values).map(([name, value]) => `${quoteIdent(name)}::text IS NOT DISTINCT FROM ${literal(value)}`).join(' AND ')

// Which side wins where the comparison cannot tell (no base) or both sides changed (a conflict): the
// engineer's word (--prefer), or nobody's (undefined): such statements are then written commented out.
export type Prefer = 'old' | 'current'

export interface FolderOptions {
  prefer?: Prefer
}

const CHANGED_BY: Record<Change, string> = {old: 'OLD changed it: carried over', current: 'DATABASE changed it: kept', both: 'both changed it', unknown: 'no base: cannot tell'}

export class ReconcileFolder {
  private readonly open = new Map<string, Appender>()

  constructor(readonly dir: string, private readonly options: FolderOptions = {}) {}

  // Refuses a folder that already holds files: a second run must never mix with a first. The folder is
  // private: created 0700, or made so when it exists empty (see assertOutFolder for the checks made first).
  static create(dir: string, options: FolderOptions = {}): ReconcileFolder {
    assertOutFolder(dir)
    makeFolder(dir)
    chmodSync(dir, 0o700)
    return new ReconcileFolder(dir, options)
  }

  private file(name: string, header?: string): Appender {
    let file = this.open.get(name)
    if (!file) {
      file = new Appender(join(this.dir, name))
      if (header) file.write(header)
      this.open.set(name, file)
    }
    return file
  }

  private tableDir(table: string) {
    const name = folderName(table)
    if (!existsSync(join(this.dir, name))) mkdirSync(join(this.dir, name), {mode: 0o700})
    return name
  }

  private insert(table: TableComparison, row: Values, copy?: number) {
    const columns = table.columns.filter(c => !c.generated).map(c => c.name)
    const list = columns.map(quoteIdent).join(', ')
    const values = columns.map(n => literal(row[n])).join(', ')
    return table.mode === 'key'
      ? `INSERT INTO ${table.target} (${list}) OVERRIDING SYSTEM VALUE VALUES (${values}) ON CONFLICT (${table.key.map(quoteIdent).join(', ')}) DO NOTHING;`
      : `INSERT INTO ${table.target} (${list}) OVERRIDING SYSTEM VALUE SELECT ${values} WHERE (SELECT count(*) FROM ${table.target} WHERE ${matches(pick(row, table.columns.map(c => c.name)))}) < ${copy ?? 1};`
  }

  // Sets these columns to OLD's values, only while DATABASE still holds, in each of them, the value it
  // had when compared: a write made since is never overwritten.
  private update(table: TableComparison, key: Values, old: Values, current: Values, columns: string[]) {
    const set = columns.map(c => `${quoteIdent(c)} = ${literal(old[c])}`).join(', ')
    return `UPDATE ${table.target} SET ${set} WHERE ${keyMatches(key)} AND ${matches(pick(current, columns))};`
  }

  private delete(table: TableComparison, key: Values, row: Values) {
    const where = table.mode === 'key' ? keyMatches(key) : `ctid = (SELECT ctid FROM ${table.target} WHERE ${matches(pick(row, table.columns.map(c => c.name)))} LIMIT 1)`
    return `DELETE FROM ${table.target} WHERE ${where};`
  }

  private live(dir: string, table: TableComparison, part: '.inserts.sql' | '.updates.sql', statement: string) {
    this.file(join(dir, part), `${TABLE_MARK}${printable(table.table)}\n`).write(`${statement}\n`)
  }

  // A statement nobody decided on: a comment for a person to read, decide on, and uncomment.
  private undecided(dir: string, table: TableComparison, why: string, statement: string) {
    this.file(join(dir, '.undecided.sql'), `-- ${printable(table.table)}\n`).write(`-- ${why}\n-- ${statement}\n`)
  }

  private changes(dir: string, file: string, table: TableComparison, key: Values, old: Values | null, current: Values | null, columns: string[], note: (column: string) => string, base?: Values | null) {
    const header = [...table.key, 'column', 'OLD', 'DATABASE', ...(base === undefined ? [] : ['base (hash)']), 'note']
    const out = this.file(join(dir, file), csvLine(header))
    for (const column of columns) {
      out.write(csvLine([...table.key.map(k => key[k]), column, old?.[column] ?? null, current?.[column] ?? null, ...(base === undefined ? [] : [base?.[column] ?? null]), note(column)]))
    }
  }

  record(table: TableComparison, difference: Difference) {
    const dir = this.tableDir(table.table)
    const {prefer} = this.options
    const twoWay = table.against === 'two-way'
    if (difference.kind === 'inserted') {
      const names = table.oldColumns.map(c => c.name)
      this.file(join(dir, 'inserted.csv'), csvLine(names)).write(csvLine(names.map(n => difference.row[n])))
      const statement = this.insert(table, difference.row, difference.copy)
      if (twoWay && !prefer) this.undecided(dir, table, 'only in OLD; without a base it may be a row DATABASE deleted after the promote (--prefer old|current inserts it)', statement)
      else this.live(dir, table, '.inserts.sql', statement)
    } else if (difference.kind === 'updated') {
      const {key, old, current, columns, changes} = difference
      this.changes(dir, 'updated.csv', table, key, old, current, columns, c => CHANGED_BY[changes[c]])
      if (!twoWay) {
        this.live(dir, table, '.updates.sql', this.update(table, key, old, current, columns.filter(c => changes[c] === 'old')))
      } else if (prefer === 'old') {
        this.live(dir, table, '.updates.sql', this.update(table, key, old, current, columns))
      } else {
        this.undecided(dir, table, prefer === 'current' ? 'DATABASE\'s values kept (--prefer current)' : 'without a base, who changed it cannot be told (--prefer old carries OLD\'s values over)', this.update(table, key, old, current, columns))
      }
    } else if (difference.kind === 'deleted') {
      const names = Object.keys(difference.row)
      this.file(join(dir, 'deleted.csv'), csvLine(names)).write(csvLine(names.map(n => difference.row[n])))
      this.file(join(dir, '.deletes.sql'), `-- ${printable(table.table)}\n`).write(`-- ${this.delete(table, difference.key, difference.row)}\n`)
    } else if (difference.kind === 'conflict') {
      this.conflict(dir, table, difference)
    } else {
      const names = table.mode === 'key' ? table.key : table.columns.map(c => c.name)
      const values = table.mode === 'key' ? difference.key : difference.row ?? {}
      this.file(join(dir, 'kept.csv'), csvLine([...names, 'kept because'])).write(csvLine([...names.map(n => values[n]), difference.why]))
    }
  }

  private conflict(dir: string, table: TableComparison, difference: Extract<Difference, {kind: 'conflict'}>) {
    const {key, old, current, columns, changes, why} = difference
    const {prefer} = this.options
    const shown = columns.length > 0 ? columns : table.columns.map(c => c.name)
    this.changes(dir, 'conflicts.csv', table, key, old, current, shown, () => why, difference.base)
    if (old && current) {
      const ours = columns.filter(c => changes[c] !== 'current')
      const carried = columns.filter(c => changes[c] === 'old')
      if (prefer === 'old') this.live(dir, table, '.updates.sql', this.update(table, key, old, current, ours))
      else if (prefer === 'current' && carried.length > 0) this.live(dir, table, '.updates.sql', this.update(table, key, old, current, carried))
      else this.undecided(dir, table, `conflict (${why}): OLD's values below, DATABASE's in ${join(folderName(table.table), 'conflicts.csv')}`, this.update(table, key, old, current, ours))
    } else if (old) {
      const statement = this.insert(table, old, difference.copy)
      if (prefer === 'old') this.live(dir, table, '.inserts.sql', statement)
      else this.undecided(dir, table, `conflict (${why}): inserting OLD's row brings it back`, statement)
    } else if (current) {
      this.undecided(dir, table, `conflict (${why})`, this.delete(table, key, current))
    }
  }

  // Writes replay.sql from the parts and summary.json, closes every file.
  finish(comparison: Comparison, summary: Record<string, unknown>) {
    for (const file of this.open.values()) file.close()
    this.open.clear()
    const replay = new Appender(join(this.dir, 'replay.sql'))
    const threeWay = comparison.tables.some(t => t.against === 'three-way')
    replay.write([
      '-- Writes made to OLD after the recovery point, carried over to DATABASE (heroku db:reconcile).',
      threeWay
        ? '-- Three-way: only what OLD changed since the recovery point is carried over; what DATABASE changed since the promote is kept.'
        : `-- TWO-WAY (no base): who changed a row cannot be told; ${this.options.prefer ? `--prefer ${this.options.prefer} decided` : 'nothing that could overwrite DATABASE or bring a row back is live below'}.`,
      '-- Applying it twice changes nothing: inserts skip rows already there, updates only touch rows still as they were compared.',
      'BEGIN;', 'SET CONSTRAINTS ALL DEFERRED;', ...SESSION_SETTINGS.map(s => `${s};`), '',
    ].join('\n') + '\n')
    const part = (table: string, name: string) => {
      const path = join(this.dir, folderName(table), name)
      if (!existsSync(path)) return
      replay.write(readFileSync(path, 'utf8'))
      rmSync(path)
    }
    for (const table of comparison.insertOrder) part(table, '.inserts.sql')
    for (const table of comparison.insertOrder) part(table, '.updates.sql')
    replay.write('\n-- Not carried over (conflicts, or no base to tell who changed it): decide, then uncomment.\n')
    for (const table of comparison.insertOrder) part(table, '.undecided.sql')
    replay.write('\n-- Rows deleted after the recovery point (often the damage itself): decide, then uncomment.\n')
    for (const table of [...comparison.insertOrder].reverse()) part(table, '.deletes.sql')
    replay.write('COMMIT;\n')
    replay.close()
    const json = new Appender(join(this.dir, 'summary.json'))
    json.write(`${JSON.stringify(summary, null, 2)}\n`)
    json.close()
  }

  // What went wrong halfway: nothing half-written is left behind.
  discard() {
    for (const file of this.open.values()) file.close()
    rmSync(this.dir, {recursive: true, force: true})
  }
}

const pick = (values: Values, names: string[]) => Object.fromEntries(names.map(n => [n, values[n]]))

// File systems that hold no files of ours (and where Node's recursive mkdir never returns): proc, sysfs,
// debugfs, tracefs, securityfs, cgroup, cgroup2, configfs, devpts, efivarfs, bpf.
const VIRTUAL_FILE_SYSTEMS = new Set([0x9FA0, 0x62656572, 0x64626720, 0x74726163, 0x73636673, 0x27E0EB, 0x63677270, 0x62656570, 0x1CD1, 0xDE5E81E4, 0xCAFE4A11])

// The nearest part of the path that exists, and the parts to create below it.
function existingPart(dir: string): {existing: string, missing: string[]} {
  const missing: string[] = []
  let existing = resolve(dir)
  while (!existsSync(existing) && dirname(existing) !== existing) {
    missing.unshift(existing)
    existing = dirname(existing)
  }
  return {existing, missing}
}

// --out, checked before anything is read: a folder that does not exist yet (its parents are made), or
// an empty one of ours, on a file system that holds files, where we may write.
export function assertOutFolder(dir: string): void {
  const shown = JSON.stringify(printable(dir))
  if (dir.trim() === '') throw new Refused(`--out ${shown} is not a folder name: give the folder to write the comparison to.`)
  const {existing, missing} = existingPart(dir)
  const stat = statSync(existing, {throwIfNoEntry: false})
  if (!stat?.isDirectory()) {
    throw new Refused(missing.length === 0 ? `--out ${shown} exists and is not a folder: give a new folder.` : `--out ${shown}: ${printable(existing)} is not a folder.`)
  }
  if (VIRTUAL_FILE_SYSTEMS.has(Number(statfsSync(existing).type))) throw new Refused(`--out ${shown} is on a system file system (${printable(existing)}), which holds no files: give a folder on a disk.`)
  if (missing.length === 0) {
    if (readdirSync(existing).length > 0) throw new Refused(`--out ${shown} already exists and is not empty: give a new or empty folder, so that a second comparison never mixes with a first.`)
    if (process.getuid && stat.uid !== process.getuid() && process.getuid() !== 0) throw new Refused(`--out ${shown} belongs to another user, who could read the rows: give a folder of your own.`)
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK)
  } catch {
    throw new Refused(`--out ${shown}: ${printable(existing)} is not writable.`)
  }
}

// Creates the folder (and its missing parents) one level at a time: a recursive mkdir can hang.
function makeFolder(dir: string) {
  for (const part of existingPart(dir).missing) {
    try {
      mkdirSync(part, {mode: 0o700})
    } catch (error) {
      if ((error as {code?: string}).code !== 'EEXIST') throw new Refused(`--out ${JSON.stringify(printable(dir))}: cannot create ${printable(part)} (${(error as {code?: string}).code ?? (error as Error).message}).`)
    }
  }
}

// The folder a comparison writes to when --out is not given (and a surgical recovery's, renamed).
export const defaultFolder = (app: string, now = new Date()) => `reconcile-${app}-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`

// A table's folder: its name, unless that could leave the folder or is not portable.
export const folderName = (table: string) => /^[\w.-]+$/.test(table) && !/^\.+$/.test(table) ? table : table.replace(/[^\w.-]|^\.+$/g, '_')
