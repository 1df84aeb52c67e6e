import type {ClientBase} from 'pg'
import {Refused} from '../errors.js'
import {printable} from '../names.js'
import {Base, BaseTable, columnHashHex} from './base.js'
import {ALWAYS_LEFT_OUT, Column, foreignKeyOrder, readShapes, SESSION_SETTINGS, TableShape, targetOf} from './schema.js'
import {quoteIdent} from '../postgres/identifiers.js'

// The comparison engine of `db:reconcile`: OLD (the database as it was when it was replaced, holding
// the writes made after the recovery point) against DATABASE (the recovered one). The databases do
// the work: per range of primary keys, a row count and an aggregate hash of the rows on each side.
// Only ranges that differ are split, and only small ones are fetched, so unchanged data never leaves
// the database and memory stays bounded by the batch sizes below, whatever the table size.
//
// With a base (what db:recover recorded of the recovered database before anything wrote to it, see
// base.ts) the comparison is three-way: for each row that differs between OLD and DATABASE, the base's
// hashes of the same keys (read from DATABASE, in the same ranges) tell which side changed each column.
// A row both databases hold the same needs no base: whatever happened to it happened on both sides.

export interface Side {
  client: ClientBase
  // The connection's schema (Prisma's): its tables go by their bare name, others by schema.table.
  schema: string
}

export type Values = Record<string, string | null>

// Who changed a column since the recovery point: OLD only, DATABASE only, both (to different values),
// or unknown (no base to tell).
export type Change = 'old' | 'current' | 'both' | 'unknown'

export type Difference =
  // Only in OLD: written after the recovery point (with a base: a row the base does not have).
  // Without a primary key, `copy` says which copy of an identical row this is (DATABASE has copy - 1).
  | {kind: 'inserted', key: Values, row: Values, copy?: number}
  // Only in DATABASE: deleted from OLD after the recovery point (often the damage itself); with a base,
  // only when DATABASE still has the row as the base had it.
  | {kind: 'deleted', key: Values, row: Values}
  // In both, these columns differing; `changes` says who changed each ('unknown' for all without a base).
  | {kind: 'updated', key: Values, old: Values, current: Values, columns: string[], changes: Record<string, Change>}
  // Changed on both sides since the recovery point (or, in a table without a usable base, ambiguous):
  // reported with both values, never carried over unless --prefer says which side wins.
  | {kind: 'conflict', key: Values, why: string, old: Values | null, current: Values | null, columns: string[], changes: Record<string, Change>, base: Values | null, copy?: number}
  // Changed in DATABASE after the promote and not in OLD: kept as it is, nothing to do.
  | {kind: 'kept', key: Values, why: string, row?: Values}

export const CONFLICT = {
  both: 'changed in both databases since the recovery point',
  bothInserted: 'written to both databases after the recovery point, with different values',
  deletedFromDatabase: 'changed in OLD, deleted from DATABASE after the promote',
  deletedFromOld: 'deleted from OLD, changed in DATABASE after the promote',
  copies: 'identical copies added or removed on both sides',
}

export const KEPT = {
  inserted: 'written to DATABASE after the promote',
  deleted: 'deleted from DATABASE after the promote',
  updated: 'changed in DATABASE after the promote',
}

export interface TableComparison {
  table: string
  // The table in DATABASE and in OLD, qualified.
  target: string
  oldTarget: string
  // 'key': row by row by primary key; 'multiset': a table without a (shared) primary key, rows as a bag.
  mode: 'key' | 'multiset'
  // 'three-way': held against the base; 'two-way': OLD against DATABASE only (no base, or none usable).
  against: 'three-way' | 'two-way'
  key: string[]
  // Columns compared (on both sides), and the ones only one side has.
  columns: Column[]
  onlyInOld: string[]
  onlyInDatabase: string[]
  // Every column of OLD (for the inserted rows) and of DATABASE.
  oldColumns: Column[]
  currentColumns: Column[]
  inserted: number
  updated: number
  deleted: number
  conflicts: number
  kept: number
  warnings: string[]
  cost: Cost
}

export interface Cost {
  queries: number
  rowsFetched: number
  // The text of keys, hashes and rows that came from the databases.
  bytesFetched: number
}

export interface Comparison {
  tables: TableComparison[]
  // Tables only one side has: reported, not compared.
  tablesOnlyInOld: string[]
  tablesOnlyInDatabase: string[]
  // Every compared table, parents before children (the order inserts replay in).
  insertOrder: string[]
}

export interface CompareOptions {
  tables?: string[]
  exclude?: string[]
  // The first pass hashes buckets of about this many rows (more when a table would need more buckets).
  bucketRows?: number
  maxBuckets?: number
  // A differing range with at most this many rows on either side is fetched; a bigger one is split.
  fetchRows?: number
  // A differing range is split into at most this many parts at a time.
  fanout?: number
  // At most this many ranges go into one query, and at most `fetchBatchRows` rows are fetched at once.
  rangesPerQuery?: number
  fetchBatchRows?: number
  // The base, for a three-way comparison; it lives in DATABASE.
  base?: Base
  onDifference(table: TableComparison, difference: Difference): void | Promise<void>
}

const DEFAULTS = {bucketRows: 64, maxBuckets: 50_000, fetchRows: 16, fanout: 8, rangesPerQuery: 2000, fetchBatchRows: 20_000}

interface Range {
  // Inclusive lower and exclusive upper key, as text; undefined is open. A bound shorter than the key
  // bounds its leading columns.
  lo?: string[]
  hi?: string[]
}

interface Measured extends Range {
  old: number
  current: number
}

// Text values the same way on both sides, whatever each server's defaults; one snapshot per side, so a
// database still being written to is compared as of one moment.
async function begin(client: ClientBase) {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  await client.query(SESSION_SETTINGS.join('; '))
}

function append<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

const textLength = (rows: unknown[][]) => rows.reduce<number>((sum, row) => sum + row.reduce<number>((s, v) => s + (v === null ? 0 : String(v).length), 0), 0)

// A row's base: the hash of each column as recorded, or undefined when the base does not have the row.
type BaseRow = Values

// The base of one table: its snapshot (read in the same ranges as the rows), or empty when the table
// was created after the base was recorded (every row of it is then new on its side).
type TableBase = {snapshot: BaseTable} | {empty: true}

const isWritable = (column: Column) => !column.generated

class TableRun {
  readonly cost: Cost = {queries: 0, rowsFetched: 0, bytesFetched: 0}
  private readonly keyColumns: Column[]
  private readonly hashed: string
  // A 64-bit hash of the row's text: the text, so that 1.0 and 1.00 differ as they do to the app.
  private readonly rowHash: string

  constructor(private readonly old: Side, private readonly current: Side, private readonly shapes: {old: TableShape, current: TableShape},
    private readonly result: TableComparison, private readonly base: TableBase | undefined, private readonly options: Required<Omit<CompareOptions, 'tables' | 'exclude' | 'base'>>) {
    this.keyColumns = result.key.map(name => result.columns.find(c => c.name === name)!)
    const row = `ROW(${result.columns.map(c => `t.${quoteIdent(c.name)}`).join(', ')})::text`
    this.hashed = `md5(${row})`
    this.rowHash = `hashtextextended(${row}, 0)`
  }

  private target(side: Side) {
    return side === this.old ? this.result.oldTarget : this.result.target
  }

  private shape(side: Side) {
    return side === this.old ? this.shapes.old : this.shapes.current
  }

  private async query(side: Side, text: string, values: unknown[]): Promise<unknown[][]> {
    const {rows} = await side.client.query({text, values, rowMode: 'array'})
    this.cost.queries++
    this.cost.rowsFetched += rows.length
    this.cost.bytesFetched += textLength(rows)
    return rows
  }

  // The ranges of one batch as a set: `r(i, extra..., lo0..., hi0...)` from arrays, with the range
  // condition on `t`. Ranges open at one end get a query of their own shape, and a batch of one range
  // gets its bounds as plain parameters, so that the planner sees real values and every bound is an
  // index condition.
  private ranges(batch: Range[], extra: {name: string, type: string, values: unknown[]}[], lo: number, hi: number) {
    const single = batch.length === 1
    const upTo = (n: number) => this.keyColumns.slice(0, n).map((_, i) => i)
    const arrays: {name: string, type: string, values: unknown[]}[] = [
      {name: 'i', type: 'int', values: batch.map((_, i) => i)},
      ...extra,
      ...upTo(lo).map(k => ({name: `lo${k}`, type: 'text', values: batch.map(r => r.lo![k])})),
      ...upTo(hi).map(k => ({name: `hi${k}`, type: 'text', values: batch.map(r => r.hi![k])})),
    ]
    const bound = (name: string) => single ? `$${arrays.findIndex(a => a.name === name) + 1}` : `r.${name}`
    // A bound shorter than the key bounds its leading columns (a bucket of the first pass).
    const tuple = (n: number) => `(${this.keyColumns.slice(0, n).map(c => `t.${quoteIdent(c.name)}`).join(', ')})`
    const of = (prefix: string, n: number) => `(${this.keyColumns.slice(0, n).map((c, i) => `${bound(`${prefix}${i}`)}::${c.type}`).join(', ')})`
    const conditions = [...(lo > 0 ? [`${tuple(lo)} >= ${of('lo', lo)}`] : []), ...(hi > 0 ? [`${tuple(hi)} < ${of('hi', hi)}`] : [])]
    return {
      from: single
        ? `(SELECT ${arrays.map((a, i) => `$${i + 1}::${a.type} AS ${a.name}`).join(', ')}) AS r`
        : `unnest(${arrays.map((a, i) => `$${i + 1}::${a.type}[]`).join(', ')}) AS r(${arrays.map(a => a.name).join(', ')})`,
      where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '',
      values: arrays.map(a => single ? a.values[0] : a.values),
    }
  }

  // Runs `build` once per shape of range (open or closed at either end) and batch size, answers by range.
  private async perShape<T>(ranges: Range[], limit: number, run: (batch: Range[], lo: number, hi: number) => Promise<Map<number, T>>): Promise<Map<Range, T>> {
    const answers = new Map<Range, T>()
    const shapes = new Map<string, Range[]>()
    for (const range of ranges) {
      const shape = `${range.lo?.length ?? 0}/${range.hi?.length ?? 0}`
      const group = shapes.get(shape) ?? []
      group.push(range)
      shapes.set(shape, group)
    }
    for (const group of shapes.values()) {
      for (let start = 0; start < group.length; start += limit) {
        const batch = group.slice(start, start + limit)
        const byIndex = await run(batch, batch[0].lo?.length ?? 0, batch[0].hi?.length ?? 0)
        for (const [i, range] of batch.entries()) answers.set(range, byIndex.get(i)!)
      }
    }
    return answers
  }

  private async measure(side: Side, ranges: Range[]): Promise<Map<Range, string>> {
    return this.perShape(ranges, this.options.rangesPerQuery, async (batch, lo, hi) => {
      const {from, where, values} = this.ranges(batch, [], lo, hi)
      const rows = await this.query(side, `SELECT r.i, h.n FROM ${from} CROSS JOIN LATERAL (
        SELECT count(*) || ':' || coalesce(sum(${this.rowHash}), 0) AS n FROM ${this.target(side)} t ${where}) h`, values)
      return new Map(rows.map(([i, n]) => [i as number, n as string]))
    })
  }

  // The first pass, one scan per side: rows in buckets between keys read every `bucketRows` rows from
  // the bigger side (width_bucket: a binary search per row), a count and a hash sum per bucket.
  private async buckets(): Promise<Measured[]> {
    const estimate = async (side: Side) => Number((await this.query(side, 'SELECT greatest(c.reltuples, 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2', [this.shape(side).schema, this.shape(side).relname]))[0][0])
    const [oldRows, currentRows] = await Promise.all([estimate(this.old), estimate(this.current)])
    const sampled = oldRows > currentRows ? this.old : this.current
    const every = Math.max(this.options.bucketRows, Math.ceil(Math.max(oldRows, currentRows) / this.options.maxBuckets))
    const keys = this.keyColumns.map((c, i) => `t.${quoteIdent(c.name)}::text AS k${i}`).join(', ')
    const order = this.keyColumns.map(c => `t.${quoteIdent(c.name)}`).join(', ')
    const thresholds = await this.query(sampled, `SELECT ${this.keyColumns.map((_, i) => `k${i}`).join(', ')} FROM (
      SELECT ${keys}, row_number() OVER (ORDER BY ${order}) AS rn FROM ${this.target(sampled)} t) s WHERE rn % $1 = 0 ORDER BY rn`, [every]) as string[][]
    // With a composite key, buckets by its first column when that column alone tells the sampled keys
    // apart well enough: comparing records row by row is several times slower than comparing values.
    const leading = thresholds.map(row => row[0]).filter((value, i, all) => i === 0 || value !== all[i - 1])
    const byLeading = this.keyColumns.length === 1 || leading.length * 2 >= thresholds.length
    const bounds = byLeading ? leading.map(value => [value]) : thresholds
    const bucket = byLeading
      ? `width_bucket(t.${quoteIdent(this.keyColumns[0].name)}, $1::${this.keyColumns[0].type}[])`
      : `width_bucket(ROW(${order}), ARRAY(SELECT ROW(${this.keyColumns.map((c, i) => `u.k${i}::${c.type}`).join(', ')}) FROM unnest(${this.keyColumns.map((_, i) => `$${i + 1}::text[]`).join(', ')}) WITH ORDINALITY AS u(${this.keyColumns.map((_, i) => `k${i}`).join(', ')}, o) ORDER BY u.o))`
    const values = byLeading ? [leading] : this.keyColumns.map((_, i) => thresholds.map(row => row[i]))
    const measure = async (side: Side) => new Map((await this.query(side, `SELECT ${bucket} AS b, count(*)::int AS n, sum(${this.rowHash})::text AS s
      FROM ${this.target(side)} t GROUP BY 1`, values)).map(([b, n, s]) => [b as number, {n: n as number, digest: `${n}:${s}`}]))
    const [old, current] = await Promise.all([measure(this.old), measure(this.current)])
    const differing: Measured[] = []
    for (const b of new Set([...old.keys(), ...current.keys()])) {
      if (old.get(b)?.digest === current.get(b)?.digest) continue
      differing.push({lo: b > 0 ? bounds[b - 1] : undefined, hi: b < bounds.length ? bounds[b] : undefined, old: old.get(b)?.n ?? 0, current: current.get(b)?.n ?? 0})
    }
    return differing
  }

  // Keys that cut each range into parts of about `step` rows, read from one side.
  private async boundaries(side: Side, ranges: Range[], steps: Map<Range, number>): Promise<Map<Range, string[][]>> {
    const keys = this.keyColumns.map((c, i) => `t.${quoteIdent(c.name)}::text AS k${i}`).join(', ')
    const order = this.keyColumns.map(c => `t.${quoteIdent(c.name)}`).join(', ')
    const names = this.keyColumns.map((_, i) => `b.k${i}`).join(', ')
    return this.perShape(ranges, this.options.rangesPerQuery, async (batch, lo, hi) => {
      const {from, where, values} = this.ranges(batch, [{name: 'step', type: 'int', values: batch.map(r => steps.get(r))}], lo, hi)
      const rows = await this.query(side, `SELECT r.i, ${names} FROM ${from} CROSS JOIN LATERAL (
        SELECT * FROM (SELECT ${keys}, row_number() OVER (ORDER BY ${order}) AS rn FROM ${this.target(side)} t ${where}) s
        WHERE rn % r.step = 0) b ORDER BY r.i, b.rn`, values)
      const found = new Map<number, string[][]>()
      for (const [i, ...key] of rows) append(found, i as number, key as string[])
      return found
    })
  }

  // The keys and the given expressions of `target` (a side's table, or the base's snapshot in DATABASE) in each range.
  private async fetch(side: Side, target: string, ranges: Range[], expressions: string[]): Promise<Map<Range, unknown[][]>> {
    const selected = [...this.keyColumns.map(c => `t.${quoteIdent(c.name)}::text`), ...expressions].join(', ')
    return this.perShape(ranges, this.options.rangesPerQuery, async (batch, lo, hi) => {
      const {from, where, values} = this.ranges(batch, [], lo, hi)
      const rows = await this.query(side, `SELECT r.i, x.* FROM ${from} CROSS JOIN LATERAL (
        SELECT ${selected} FROM ${target} t ${where}) x`, values)
      const found = new Map<number, unknown[][]>()
      for (const [i, ...row] of rows) append(found, i as number, row)
      return found
    })
  }

  // The columns whose hashes are held against the base's (compared, written, not the key's).
  private get hashedColumns(): string[] {
    return this.result.columns.filter(c => isWritable(c) && !this.result.key.includes(c.name)).map(c => c.name)
  }

  private fetchRows(side: Side, ranges: Range[], columns: Column[]) {
    return this.fetch(side, this.target(side), ranges, columns.map(c => `t.${quoteIdent(c.name)}::text`))
  }

  // For these keys only (rows that differ), the given expressions of `target`, by key.
  private async byKeys(side: Side, target: string, keys: string[][], expressions: string[]): Promise<Map<string, unknown[]>> {
    const found = new Map<string, unknown[]>()
    if (keys.length === 0) return found
    const width = this.keyColumns.length
    const names = this.keyColumns.map((_, i) => `k${i}`)
    const rows = await this.query(side, `SELECT ${this.keyColumns.map(c => `t.${quoteIdent(c.name)}::text`).join(', ')}, ${expressions.join(', ')} FROM ${target} t
      WHERE (${this.keyColumns.map(c => `t.${quoteIdent(c.name)}`).join(', ')}) IN (SELECT ${this.keyColumns.map((c, i) => `u.k${i}::${c.type}`).join(', ')}
        FROM unnest(${names.map((_, i) => `$${i + 1}::text[]`).join(', ')}) AS u(${names.join(', ')}))`, this.keyColumns.map((_, i) => keys.map(key => key[i])))
    for (const row of rows) found.set(JSON.stringify(row.slice(0, width)), row.slice(width))
    return found
  }

  // What the base says of the rows that differ, and only of them (three queries per batch at most): per
  // key, the hash of each column it recorded (nothing for a key it does not have), and each side's
  // hashes of the same columns now, computed where the rows are.
  private async hashes(keys: {both: string[][], old: string[][], current: string[][]}) {
    const none = {base: new Map<string, BaseRow>(), old: new Map<string, Values>(), current: new Map<string, Values>()}
    if (!this.base || 'empty' in this.base) return none
    const {snapshot, hashColumn, columns} = this.base.snapshot
    const hashed = this.hashedColumns
    const hex = hashed.map(c => columnHashHex(`t.${quoteIdent(c)}`))
    const asValues = (found: Map<string, unknown[]>) => new Map([...found].map(([key, row]) => [key, Object.fromEntries(hashed.map((c, i) => [c, row[i] as string])) as Values]))
    const [oldHashes, [base, currentHashes]] = await Promise.all([
      hex.length > 0 ? this.byKeys(this.old, this.result.oldTarget, [...keys.both, ...keys.old], hex) : new Map<string, unknown[]>(),
      // One after the other: both on DATABASE's connection.
      (async () => [
        await this.byKeys(this.current, snapshot, [...keys.both, ...keys.old, ...keys.current], [`encode(t.${quoteIdent(hashColumn)}, 'hex')`]),
        hex.length > 0 ? await this.byKeys(this.current, this.result.target, [...keys.both, ...keys.current], hex) : new Map<string, unknown[]>(),
      ])(),
    ])
    const bases = new Map([...base].map(([key, [h]]) => [key, Object.fromEntries(columns.map((c, i) => [c, (h as string).slice(16 * i, 16 * i + 16)])) as BaseRow]))
    return {base: bases, old: asValues(oldHashes), current: asValues(currentHashes)}
  }

  async byKey() {
    let differing = await this.buckets()
    for (;;) {
      await this.compareRows(differing.filter(r => Math.max(r.old, r.current) <= this.options.fetchRows))
      const pending = await this.split(differing.filter(r => Math.max(r.old, r.current) > this.options.fetchRows))
      if (pending.length === 0) return
      const [old, current] = await Promise.all([this.measure(this.old, pending), this.measure(this.current, pending)])
      differing = pending.filter(r => old.get(r) !== current.get(r))
        .map(r => ({...r, old: Number(old.get(r)!.split(':')[0]), current: Number(current.get(r)!.split(':')[0])}))
    }
  }

  private async split(ranges: Measured[]): Promise<Range[]> {
    const parts: Range[] = []
    for (const side of [this.old, this.current]) {
      const mine = ranges.filter(r => (side === this.old) === (r.old >= r.current))
      if (mine.length === 0) continue
      const steps = new Map<Range, number>(mine.map(r => {
        const rows = Math.max(r.old, r.current)
        const pieces = Math.min(this.options.fanout, Math.max(2, Math.ceil(rows / this.options.fetchRows)))
        return [r, Math.max(1, Math.ceil(rows / pieces))]
      }))
      const cuts = await this.boundaries(side, mine, steps)
      for (const range of mine) {
        const bounds = [range.lo, ...(cuts.get(range) ?? []), range.hi]
        for (let i = 0; i + 1 < bounds.length; i++) parts.push({lo: bounds[i], hi: bounds[i + 1]})
      }
    }
    return parts
  }

  // Fetches the rows of small differing ranges, a bounded number at a time, and classifies them.
  private async compareRows(ranges: Measured[]) {
    let batch: Measured[] = []
    let rows = 0
    const flush = async () => {
      if (batch.length === 0) return
      const [old, current] = await Promise.all([this.fetchRows(this.old, batch, this.result.oldColumns), this.fetchRows(this.current, batch, this.result.currentColumns)])
      await this.classify(batch.flatMap(range => old.get(range) ?? []), batch.flatMap(range => current.get(range) ?? []))
      batch = []
      rows = 0
    }
    for (const range of ranges) {
      batch.push(range)
      rows += range.old + range.current
      if (rows >= this.options.fetchBatchRows) await flush()
    }
    await flush()
  }

  private async classify(oldRows: unknown[][], currentRows: unknown[][]) {
    const width = this.keyColumns.length
    const idOf = (row: unknown[]) => JSON.stringify(row.slice(0, width))
    const keyOf = (row: unknown[]) => Object.fromEntries(this.keyColumns.map((c, i) => [c.name, row[i] as string | null]))
    const valuesOf = (row: unknown[], columns: Column[]) => Object.fromEntries(columns.map((c, i) => [c.name, row[width + i] as string | null]))
    const threeWay = this.result.against === 'three-way'
    // The columns decided on: written by replay.sql (generated ones follow their sources).
    const decided = this.result.columns.filter(isWritable).map(c => c.name)
    const olds = new Map(oldRows.map(row => [idOf(row), row]))
    const currents = new Map(currentRows.map(row => [idOf(row), row]))
    // The rows that differ: in both with columns that differ, or on one side only.
    const both: {row: unknown[], old: Values, current: Values, columns: string[]}[] = []
    for (const [id, row] of currents) {
      const before = olds.get(id)
      if (!before) continue
      const old = valuesOf(before, this.result.oldColumns)
      const current = valuesOf(row, this.result.currentColumns)
      const columns = decided.filter(name => old[name] !== current[name])
      if (columns.length > 0) both.push({row, old, current, columns})
    }
    const onlyOld = [...olds].filter(([id]) => !currents.has(id)).map(([, row]) => row)
    const onlyCurrent = [...currents].filter(([id]) => !olds.has(id)).map(([, row]) => row)
    const keys = (list: unknown[][]) => list.map(row => row.slice(0, width) as string[])
    const hashes = threeWay ? await this.hashes({both: keys(both.map(b => b.row)), old: keys(onlyOld), current: keys(onlyCurrent)}) : undefined
    const report = async (difference: Difference) => {
      const counter = ({inserted: 'inserted', deleted: 'deleted', updated: 'updated', conflict: 'conflicts', kept: 'kept'} as const)[difference.kind]
      this.result[counter]++
      await this.options.onDifference(this.result, difference)
    }
    const pick = (values: Values) => Object.fromEntries(this.result.columns.map(c => [c.name, values[c.name]]))
    for (const row of onlyCurrent) {
      const key = keyOf(row)
      const current = valuesOf(row, this.result.currentColumns)
      const base = hashes?.base.get(idOf(row))
      if (!threeWay) {
        await report({kind: 'deleted', key, row: current})
      } else if (!base) {
        await report({kind: 'kept', key, why: KEPT.inserted})
      } else {
        const changed = changedFromBase(hashes!.current.get(idOf(row)) ?? {}, base, this.hashedColumns)
        await report(changed.length === 0 ? {kind: 'deleted', key, row: current} : {kind: 'conflict', key, why: CONFLICT.deletedFromOld, old: null, current, columns: changed, changes: {}, base})
      }
    }
    for (const {row, old, current, columns} of both) {
      const key = keyOf(row)
      if (!threeWay) {
        await report({kind: 'updated', key, old: pick(old), current: pick(current), columns, changes: Object.fromEntries(columns.map(c => [c, 'unknown']))})
        continue
      }
      const id = idOf(row)
      const base = hashes!.base.get(id)
      const [oldHashes, currentHashes] = [hashes!.old.get(id) ?? {}, hashes!.current.get(id) ?? {}]
      const changes: Record<string, Change> = Object.fromEntries(columns.map(name => {
        const recorded = base?.[name]
        if (recorded === undefined) return [name, 'both']
        if (oldHashes[name] === recorded) return [name, 'current']
        if (currentHashes[name] === recorded) return [name, 'old']
        return [name, 'both']
      }))
      const all = Object.values(changes)
      if (all.includes('both')) {
        await report({kind: 'conflict', key, why: base ? CONFLICT.both : CONFLICT.bothInserted, old: pick(old), current: pick(current), columns, changes, base: base ?? null})
      } else if (all.includes('old')) {
        await report({kind: 'updated', key, old: pick(old), current: pick(current), columns, changes})
      } else {
        await report({kind: 'kept', key, why: KEPT.updated})
      }
    }
    for (const row of onlyOld) {
      const key = keyOf(row)
      const old = valuesOf(row, this.result.oldColumns)
      const base = hashes?.base.get(idOf(row))
      if (!threeWay || !base) {
        await report({kind: 'inserted', key, row: old})
      } else {
        const changed = changedFromBase(hashes!.old.get(idOf(row)) ?? {}, base, this.hashedColumns)
        await report(changed.length === 0 ? {kind: 'kept', key, why: KEPT.deleted} : {kind: 'conflict', key, why: CONFLICT.deletedFromDatabase, old, current: null, columns: changed, changes: {}, base})
      }
    }
  }

  // Rows as a multiset: 256 buckets by the first byte of each row's hash, one query per side; only
  // differing buckets are fetched, and rows are matched by their hash. With a base, the number of
  // copies of each row in OLD, DATABASE and the base says who added or removed them.
  async asMultiset() {
    const bits = (from: number) => `sum(('x' || substr(d, ${from}, 16))::bit(64)::bigint)::text`
    const buckets = async (side: Side) => new Map((await this.query(side, `SELECT substr(d, 1, 2), count(*)::int, ${bits(1)}, ${bits(17)}
      FROM (SELECT ${this.hashed} AS d FROM ${this.target(side)} t) x GROUP BY 1`, [])).map(([b, ...rest]) => [b as string, rest.join()]))
    const [old, current] = await Promise.all([buckets(this.old), buckets(this.current)])
    const differing = [...new Set([...old.keys(), ...current.keys()])].filter(b => old.get(b) !== current.get(b))
    if (differing.length === 0) return
    const rowsOf = async (side: Side) => {
      const rows = await this.query(side, `SELECT substr(d, 1, 16), ${this.result.columns.map(c => `${quoteIdent(c.name)}::text`).join(', ')}
        FROM (SELECT ${this.hashed} AS d, t.* FROM ${this.target(side)} t) x WHERE substr(d, 1, 2) = ANY($1::text[])`, [differing])
      const bag = new Map<string, {row: unknown[], count: number}>()
      for (const [d, ...row] of rows) {
        const entry = bag.get(d as string) ?? {row, count: 0}
        entry.count++
        bag.set(d as string, entry)
      }
      return bag
    }
    const [olds, currents] = await Promise.all([rowsOf(this.old), rowsOf(this.current)])
    const bases = new Map<string, number>()
    if (this.base && 'snapshot' in this.base) {
      const rows = await this.query(this.current, `SELECT encode(h, 'hex'), n FROM ${this.base.snapshot.snapshot} WHERE substr(encode(h, 'hex'), 1, 2) = ANY($1::text[])`, [differing])
      for (const [h, n] of rows) bases.set(h as string, n as number)
    }
    const valuesOf = (row: unknown[]) => Object.fromEntries(this.result.columns.map((c, i) => [c.name, row[i] as string | null]))
    const threeWay = this.result.against === 'three-way'
    const report = async (difference: Difference) => {
      const counter = ({inserted: 'inserted', deleted: 'deleted', updated: 'updated', conflict: 'conflicts', kept: 'kept'} as const)[difference.kind]
      this.result[counter]++
      await this.options.onDifference(this.result, difference)
    }
    for (const d of new Set([...olds.keys(), ...currents.keys()])) {
      const o = olds.get(d)?.count ?? 0
      const c = currents.get(d)?.count ?? 0
      if (o === c) continue
      const row = valuesOf((olds.get(d) ?? currents.get(d))!.row)
      const b = bases.get(d) ?? 0
      for (let n = Math.min(o, c); n < Math.max(o, c); n++) {
        const copy = n + 1
        if (o > c) {
          if (!threeWay || c === b) await report({kind: 'inserted', key: {}, row, copy})
          else if (o === b) await report({kind: 'kept', key: {}, why: KEPT.deleted, row})
          else await report({kind: 'conflict', key: {}, why: CONFLICT.copies, old: row, current: null, columns: [], changes: {}, base: null, copy})
        } else if (!threeWay || c === b) {
          await report({kind: 'deleted', key: {}, row})
        } else if (o === b) {
          await report({kind: 'kept', key: {}, why: KEPT.inserted, row})
        } else {
          await report({kind: 'conflict', key: {}, why: CONFLICT.copies, old: null, current: row, columns: [], changes: {}, base: null, copy})
        }
      }
    }
  }
}

// The columns (compared, written, not the key's) whose hash differs from the base's: none when the row
// is still as the base had it. A column the base does not know counts as changed.
function changedFromBase(hashes: Values, base: BaseRow, columns: string[]): string[] {
  return columns.filter(c => base[c] === undefined || base[c] !== hashes[c])
}

const sameKey = (a: TableShape, b: TableShape) => a.key.length > 0 && a.key.join('\u0000') === b.key.join('\u0000')
const names = (list: string[]) => list.map(printable).join(', ')

// How the base can serve this table: its snapshot, empty (the table is newer than the base), or not at
// all (its key or, without a key, its columns changed since), with the reason.
function baseFor(base: Base, table: TableComparison, current: TableShape): {use?: TableBase, why?: string} {
  const recorded = base.tables.get(table.table)
  if (!recorded) return {use: {empty: true}}
  if (table.mode === 'key') {
    const types = table.key.map(k => current.columns.find(c => c.name === k)!.type)
    if (recorded.key.join('\u0000') !== table.key.join('\u0000') || recorded.keyTypes.join('\u0000') !== types.join('\u0000')) {
      return {why: `its primary key changed since the base was recorded (${names(recorded.key) || 'none'} then, ${names(table.key)} now)`}
    }
    return {use: {snapshot: recorded}}
  }
  if (recorded.key.length > 0 || recorded.columns.join('\u0000') !== table.columns.map(c => c.name).join('\u0000')) {
    return {why: 'it has no primary key and its columns changed since the base was recorded'}
  }
  return {use: {snapshot: recorded}}
}

function describeTable(old: TableShape, current: TableShape): TableComparison {
  const currentNames = new Set(current.columns.map(c => c.name))
  const oldNames = new Set(old.columns.map(c => c.name))
  const columns = old.columns.filter(c => currentNames.has(c.name)).map(c => ({...c, ...(current.columns.find(d => d.name === c.name)!.generated ? {generated: true} : {})}))
  const keyed = sameKey(old, current)
  const warnings: string[] = []
  if (!keyed) {
    warnings.push(old.key.length === 0 || current.key.length === 0
      ? 'no primary key: compared as a multiset of rows; an updated row shows as one deleted and one inserted'
      : `primary keys differ (${names(old.key)} in OLD, ${names(current.key)} in DATABASE): compared as a multiset of rows`)
  }
  const onlyInOld = old.columns.filter(c => !currentNames.has(c.name)).map(c => c.name)
  const onlyInDatabase = current.columns.filter(c => !oldNames.has(c.name)).map(c => c.name)
  if (onlyInOld.length > 0) warnings.push(`columns only in OLD, not compared: ${names(onlyInOld)}`)
  if (onlyInDatabase.length > 0) warnings.push(`columns only in DATABASE, not compared: ${names(onlyInDatabase)}`)
  return {
    table: current.name, target: targetOf(current), oldTarget: targetOf(old), mode: keyed ? 'key' : 'multiset', against: 'two-way', key: keyed ? old.key : [],
    columns, onlyInOld, onlyInDatabase, oldColumns: keyed ? old.columns : columns, currentColumns: keyed ? current.columns : columns,
    inserted: 0, updated: 0, deleted: 0, conflicts: 0, kept: 0, warnings, cost: {queries: 0, rowsFetched: 0, bytesFetched: 0},
  }
}

export async function compareDatabases(old: Side, current: Side, options: CompareOptions): Promise<Comparison> {
  const settings = {...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined))} as Required<CompareOptions>
  await Promise.all([begin(old.client), begin(current.client)])
  try {
    const [oldShapes, currentShapes] = await Promise.all([readShapes(old.client, old.schema), readShapes(current.client, current.schema)])
    const unknown = options.tables?.filter(name => !oldShapes.has(name) && !currentShapes.has(name)) ?? []
    if (unknown.length > 0) throw new Refused(`--tables names ${unknown.map(n => JSON.stringify(printable(n))).join(', ')}: no such table in either database (give a table of another schema than ${printable(current.schema)} as schema.table).`)
    const wanted = (name: string) => !ALWAYS_LEFT_OUT.includes(name) && (!options.tables || options.tables.includes(name)) && !options.exclude?.includes(name)
    const names = [...oldShapes.keys()].filter(name => wanted(name) && currentShapes.has(name))
    const comparison: Comparison = {
      tables: [],
      tablesOnlyInOld: [...oldShapes.keys()].filter(name => wanted(name) && !currentShapes.has(name)).sort(),
      tablesOnlyInDatabase: [...currentShapes.keys()].filter(name => wanted(name) && !oldShapes.has(name)).sort(),
      insertOrder: foreignKeyOrder(names.map(name => currentShapes.get(name)!)),
    }
    for (const name of comparison.insertOrder) {
      const shapes = {old: oldShapes.get(name)!, current: currentShapes.get(name)!}
      const table = describeTable(shapes.old, shapes.current)
      let base: TableBase | undefined
      if (options.base) {
        const {use, why} = baseFor(options.base, table, shapes.current)
        if (use) {
          base = use
          table.against = 'three-way'
        } else {
          table.warnings.push(`compared two-way: ${why}`)
        }
      }
      const run = new TableRun(old, current, shapes, table, base, settings)
      await (table.mode === 'key' ? run.byKey() : run.asMultiset())
      table.cost = run.cost
      comparison.tables.push(table)
    }
    return comparison
  } finally {
    await Promise.all([old.client.query('COMMIT').catch(() => {}), current.client.query('COMMIT').catch(() => {})])
  }
}
