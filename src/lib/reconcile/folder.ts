import {closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync} from 'node:fs'
import {join} from 'node:path'
import type {Comparison, Difference, TableComparison, Values} from './compare.js'
import {printable} from '../names.js'
import {qualified, quoteIdent} from './schema.js'

// The folder `db:reconcile` writes: rows can hold personal data, so the folder is 0700 and its files
// 0600. `replay.sql` carries the writes made after the recovery point over to DATABASE: inserts in
// foreign-key order that skip rows already there, updates that only touch rows still as the recovery
// left them, and deletes left commented out for a person to decide on. One statement per line.

// Values are compared as text in the session settings the comparison read them with.
export const SESSION_SETTINGS = [
  'SET LOCAL TimeZone = \'UTC\'', 'SET LOCAL DateStyle = \'ISO, MDY\'', 'SET LOCAL IntervalStyle = \'postgres\'',
  'SET LOCAL extra_float_digits = 3', 'SET LOCAL bytea_output = \'hex\'',
]

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

export class ReconcileFolder {
  private readonly open = new Map<string, Appender>()

  constructor(readonly dir: string, private readonly schema: string) {}

  // Refuses a folder that already holds files: a second run must never mix with a first.
  static create(dir: string, schema: string): ReconcileFolder {
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} already exists and is not empty`)
    mkdirSync(dir, {recursive: true, mode: 0o700})
    return new ReconcileFolder(dir, schema)
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
    mkdirSync(join(this.dir, name), {recursive: true, mode: 0o700})
    return name
  }

  record(table: TableComparison, difference: Difference) {
    const dir = this.tableDir(table.table)
    const target = qualified(this.schema, table.table)
    if (difference.kind === 'inserted') {
      const names = table.oldColumns.map(c => c.name)
      this.file(join(dir, 'inserted.csv'), csvLine(names)).write(csvLine(names.map(n => difference.row[n])))
      const columns = table.columns.map(c => c.name)
      const list = columns.map(quoteIdent).join(', ')
      const values = columns.map(n => literal(difference.row[n])).join(', ')
      this.file(join(dir, '.inserts.sql'), `${TABLE_MARK}${printable(table.table)}\n`).write(table.mode === 'key'
        ? `INSERT INTO ${target} (${list}) OVERRIDING SYSTEM VALUE VALUES (${values}) ON CONFLICT (${table.key.map(quoteIdent).join(', ')}) DO NOTHING;\n`
        : `INSERT INTO ${target} (${list}) OVERRIDING SYSTEM VALUE SELECT ${values} WHERE (SELECT count(*) FROM ${target} WHERE ${matches(pick(difference.row, columns))}) < ${difference.copy ?? 1};\n`)
    } else if (difference.kind === 'updated') {
      const columns = difference.columns
      const names = [...table.key, ...columns.flatMap(c => [`${c} (OLD)`, `${c} (DATABASE)`])]
      this.file(join(dir, 'updated.csv'), csvLine(names))
        .write(csvLine([...table.key.map(k => difference.key[k]), ...columns.flatMap(c => [difference.old[c], difference.current[c]])]))
      const set = columns.map(c => `${quoteIdent(c)} = ${literal(difference.old[c])}`).join(', ')
      this.file(join(dir, '.updates.sql'), `${TABLE_MARK}${printable(table.table)}\n`)
        .write(`UPDATE ${target} SET ${set} WHERE ${keyMatches(difference.key)} AND ${matches(pick(difference.current, columns))};\n`)
    } else {
      const names = Object.keys(difference.row)
      this.file(join(dir, 'deleted.csv'), csvLine(names)).write(csvLine(names.map(n => difference.row[n])))
      const where = table.mode === 'key' ? keyMatches(difference.key) : `ctid = (SELECT ctid FROM ${target} WHERE ${matches(pick(difference.row, table.columns.map(c => c.name)))} LIMIT 1)`
      this.file(join(dir, '.deletes.sql'), `-- ${printable(table.table)}\n`).write(`-- DELETE FROM ${target} WHERE ${where};\n`)
    }
  }

  // Writes replay.sql from the parts and summary.json, closes every file.
  finish(comparison: Comparison, summary: Record<string, unknown>) {
    for (const file of this.open.values()) file.close()
    this.open.clear()
    const replay = new Appender(join(this.dir, 'replay.sql'))
    replay.write([
      '-- Writes made to OLD after the recovery point, carried over to DATABASE (heroku db:reconcile).',
      '-- Applying it twice changes nothing: inserts skip rows already there, updates only touch rows still as the recovery left them.',
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

// A table's folder: its name, unless that could leave the folder or is not portable.
export const folderName = (table: string) => /^[\w.-]+$/.test(table) && !/^\.+$/.test(table) ? table : table.replace(/[^\w.-]|^\.+$/g, '_')
