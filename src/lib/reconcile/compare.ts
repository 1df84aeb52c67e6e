import type {ClientBase} from 'pg'
import {Refused} from '../errors.js'
import {printable} from '../names.js'
import {ALWAYS_LEFT_OUT, Column, foreignKeyOrder, qualified, quoteIdent, readShapes, TableShape} from './schema.js'

// The comparison engine of `db:reconcile`: OLD (the database as it was when it was replaced, holding
// the writes made after the recovery point) against DATABASE (the recovered one). The databases do
// the work: per range of primary keys, a row count and an aggregate hash of the rows on each side.
// Only ranges that differ are split, and only small ones are fetched, so unchanged data never leaves
// the database and memory stays bounded by the batch sizes below, whatever the table size.

export interface Side {
  client: ClientBase
  schema: string
}

export type Values = Record<string, string | null>

export type Difference =
  // Only in OLD: written after the recovery point.
  // Without a primary key, `copy` says which copy of an identical row this is (DATABASE has copy - 1).
  | {kind: 'inserted', key: Values, row: Values, copy?: number}
  // Only in DATABASE: deleted after the recovery point (often the damage itself).
  | {kind: 'deleted', key: Values, row: Values}
  // In both, with these columns differing: updated after the recovery point.
  | {kind: 'updated', key: Values, old: Values, current: Values, columns: string[]}

export interface TableComparison {
  table: string
  // 'key': row by row by primary key; 'multiset': a table without a (shared) primary key, rows as a bag.
  mode: 'key' | 'multiset'
  key: string[]
  // Columns compared (on both sides), and the ones only one side has.
  columns: Column[]
  onlyInOld: string[]
  onlyInDatabase: string[]
  // Columns of OLD, for the inserted rows.
  oldColumns: Column[]
  inserted: number
  updated: number
  deleted: number
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
  await client.query(`SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, MDY'; SET LOCAL IntervalStyle = 'postgres';
    SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'`)
}

function append<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

const textLength = (rows: unknown[][]) => rows.reduce<number>((sum, row) => sum + row.reduce<number>((s, v) => s + (v === null ? 0 : String(v).length), 0), 0)

class TableRun {
  readonly cost: Cost = {queries: 0, rowsFetched: 0, bytesFetched: 0}
  private readonly table: string
  private readonly keyColumns: Column[]
  private readonly hashed: string
  // A 64-bit hash of the row's text: the text, so that 1.0 and 1.00 differ as they do to the app.
  private readonly rowHash: string

  constructor(private readonly old: Side, private readonly current: Side, private readonly result: TableComparison, private readonly options: Required<Omit<CompareOptions, 'tables' | 'exclude'>>) {
    this.table = result.table
    this.keyColumns = result.key.map(name => result.columns.find(c => c.name === name)!)
    const row = `ROW(${result.columns.map(c => `t.${quoteIdent(c.name)}`).join(', ')})::text`
    this.hashed = `md5(${row})`
    this.rowHash = `hashtextextended(${row}, 0)`
  }

  private async query(side: Side, text: string, values: unknown[]): Promise<unknown[][]> {
    const {rows} = await side.client.query({text, values, rowMode: 'array'})
    this.cost.queries++
    this.cost.rowsFetched += rows.length
    this.cost.bytesFetched += textLength(rows)
    return rows
  }

  private keyTuple(prefix: string) {
    return `(${this.keyColumns.map((c, i) => `${prefix}${i}::${c.type}`).join(', ')})`
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
        SELECT count(*) || ':' || coalesce(sum(${this.rowHash}), 0) AS n FROM ${qualified(side.schema, this.table)} t ${where}) h`, values)
      return new Map(rows.map(([i, n]) => [i as number, n as string]))
    })
  }

  // The first pass, one scan per side: rows in buckets between keys read every `bucketRows` rows from
  // the bigger side (width_bucket: a binary search per row), a count and a hash sum per bucket.
  private async buckets(): Promise<Measured[]> {
    const estimate = async (side: Side) => Number((await this.query(side, 'SELECT greatest(c.reltuples, 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2', [side.schema, this.table]))[0][0])
    const [oldRows, currentRows] = await Promise.all([estimate(this.old), estimate(this.current)])
    const sampled = oldRows > currentRows ? this.old : this.current
    const every = Math.max(this.options.bucketRows, Math.ceil(Math.max(oldRows, currentRows) / this.options.maxBuckets))
    const keys = this.keyColumns.map((c, i) => `t.${quoteIdent(c.name)}::text AS k${i}`).join(', ')
    const order = this.keyColumns.map(c => `t.${quoteIdent(c.name)}`).join(', ')
    const thresholds = await this.query(sampled, `SELECT ${this.keyColumns.map((_, i) => `k${i}`).join(', ')} FROM (
      SELECT ${keys}, row_number() OVER (ORDER BY ${order}) AS rn FROM ${qualified(sampled.schema, this.table)} t) s WHERE rn % $1 = 0 ORDER BY rn`, [every]) as string[][]
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
      FROM ${qualified(side.schema, this.table)} t GROUP BY 1`, values)).map(([b, n, s]) => [b as number, {n: n as number, digest: `${n}:${s}`}]))
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
        SELECT * FROM (SELECT ${keys}, row_number() OVER (ORDER BY ${order}) AS rn FROM ${qualified(side.schema, this.table)} t ${where}) s
        WHERE rn % r.step = 0) b ORDER BY r.i, b.rn`, values)
      const found = new Map<number, string[][]>()
      for (const [i, ...key] of rows) append(found, i as number, key as string[])
      return found
    })
  }

  private async fetch(side: Side, ranges: Range[], columns: Column[]): Promise<Map<Range, unknown[][]>> {
    const selected = [...this.keyColumns, ...columns].map(c => `t.${quoteIdent(c.name)}::text`).join(', ')
    return this.perShape(ranges, this.options.rangesPerQuery, async (batch, lo, hi) => {
      const {from, where, values} = this.ranges(batch, [], lo, hi)
      const rows = await this.query(side, `SELECT r.i, x.* FROM ${from} CROSS JOIN LATERAL (
        SELECT ${selected} FROM ${qualified(side.schema, this.table)} t ${where}) x`, values)
      const found = new Map<number, unknown[][]>()
      for (const [i, ...row] of rows) append(found, i as number, row)
      return found
    })
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
      const [old, current] = await Promise.all([this.fetch(this.old, batch, this.result.oldColumns), this.fetch(this.current, batch, this.currentColumns())])
      for (const range of batch) await this.classify(old.get(range) ?? [], current.get(range) ?? [])
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

  private currentColumns(): Column[] {
    return [...this.result.columns, ...this.result.onlyInDatabase.map(name => ({name, type: 'text'}))]
  }

  private async classify(oldRows: unknown[][], currentRows: unknown[][]) {
    const width = this.keyColumns.length
    const keyOf = (row: unknown[]) => Object.fromEntries(this.keyColumns.map((c, i) => [c.name, row[i] as string | null]))
    const valuesOf = (row: unknown[], columns: Column[]) => Object.fromEntries(columns.map((c, i) => [c.name, row[width + i] as string | null]))
    const common = new Set(this.result.columns.map(c => c.name))
    const olds = new Map(oldRows.map(row => [JSON.stringify(row.slice(0, width)), row]))
    for (const row of currentRows) {
      const id = JSON.stringify(row.slice(0, width))
      const before = olds.get(id)
      const current = valuesOf(row, this.currentColumns())
      if (!before) {
        this.result.deleted++
        await this.options.onDifference(this.result, {kind: 'deleted', key: keyOf(row), row: current})
        continue
      }
      olds.delete(id)
      const old = valuesOf(before, this.result.oldColumns)
      const columns = this.result.columns.map(c => c.name).filter(name => old[name] !== current[name])
      if (columns.length === 0) continue
      this.result.updated++
      const pick = (values: Values) => Object.fromEntries(Object.entries(values).filter(([name]) => common.has(name)))
      await this.options.onDifference(this.result, {kind: 'updated', key: keyOf(row), old: pick(old), current: pick(current), columns})
    }
    for (const row of olds.values()) {
      this.result.inserted++
      await this.options.onDifference(this.result, {kind: 'inserted', key: keyOf(row), row: valuesOf(row, this.result.oldColumns)})
    }
  }

  // Rows as a multiset: 256 buckets by the first byte of each row's hash, one query per side; only
  // differing buckets are fetched, and rows are matched by their hash.
  async asMultiset() {
    const bits = (from: number) => `sum(('x' || substr(d, ${from}, 16))::bit(64)::bigint)::text`
    const buckets = async (side: Side) => new Map((await this.query(side, `SELECT substr(d, 1, 2), count(*)::int, ${bits(1)}, ${bits(17)}
      FROM (SELECT ${this.hashed} AS d FROM ${qualified(side.schema, this.table)} t) x GROUP BY 1`, [])).map(([b, ...rest]) => [b as string, rest.join()]))
    const [old, current] = await Promise.all([buckets(this.old), buckets(this.current)])
    const differing = [...new Set([...old.keys(), ...current.keys()])].filter(b => old.get(b) !== current.get(b))
    if (differing.length === 0) return
    const rowsOf = async (side: Side) => {
      const rows = await this.query(side, `SELECT d, ${this.result.columns.map(c => `${quoteIdent(c.name)}::text`).join(', ')}
        FROM (SELECT ${this.hashed} AS d, t.* FROM ${qualified(side.schema, this.table)} t) x WHERE substr(d, 1, 2) = ANY($1::text[])`, [differing])
      const bag = new Map<string, {row: unknown[], count: number}>()
      for (const [d, ...row] of rows) {
        const entry = bag.get(d as string) ?? {row, count: 0}
        entry.count++
        bag.set(d as string, entry)
      }
      return bag
    }
    const [olds, currents] = await Promise.all([rowsOf(this.old), rowsOf(this.current)])
    const valuesOf = (row: unknown[]) => Object.fromEntries(this.result.columns.map((c, i) => [c.name, row[i] as string | null]))
    for (const [d, {row, count}] of olds) {
      for (let n = currents.get(d)?.count ?? 0; n < count; n++) {
        this.result.inserted++
        await this.options.onDifference(this.result, {kind: 'inserted', key: {}, row: valuesOf(row), copy: n + 1})
      }
    }
    for (const [d, {row, count}] of currents) {
      for (let n = olds.get(d)?.count ?? 0; n < count; n++) {
        this.result.deleted++
        await this.options.onDifference(this.result, {kind: 'deleted', key: {}, row: valuesOf(row)})
      }
    }
  }
}

const sameKey = (a: TableShape, b: TableShape) => a.key.length > 0 && a.key.join('\u0000') === b.key.join('\u0000')

function describeTable(old: TableShape, current: TableShape): TableComparison {
  const currentNames = new Set(current.columns.map(c => c.name))
  const oldNames = new Set(old.columns.map(c => c.name))
  const columns = old.columns.filter(c => currentNames.has(c.name))
  const keyed = sameKey(old, current)
  const warnings: string[] = []
  if (!keyed) {
    warnings.push(old.key.length === 0 || current.key.length === 0
      ? 'no primary key: compared as a multiset of rows; an updated row shows as one deleted and one inserted'
      : `primary keys differ (${old.key.join(', ')} in OLD, ${current.key.join(', ')} in DATABASE): compared as a multiset of rows`)
  }
  const onlyInOld = old.columns.filter(c => !currentNames.has(c.name)).map(c => c.name)
  const onlyInDatabase = current.columns.filter(c => !oldNames.has(c.name)).map(c => c.name)
  if (onlyInOld.length > 0) warnings.push(`columns only in OLD, not compared: ${onlyInOld.join(', ')}`)
  if (onlyInDatabase.length > 0) warnings.push(`columns only in DATABASE, not compared: ${onlyInDatabase.join(', ')}`)
  return {
    table: old.name, mode: keyed ? 'key' : 'multiset', key: keyed ? old.key : [], columns, onlyInOld, onlyInDatabase,
    oldColumns: keyed ? old.columns : columns, inserted: 0, updated: 0, deleted: 0, warnings, cost: {queries: 0, rowsFetched: 0, bytesFetched: 0},
  }
}

export async function compareDatabases(old: Side, current: Side, options: CompareOptions): Promise<Comparison> {
  const settings = {...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined))} as Required<CompareOptions>
  await Promise.all([begin(old.client), begin(current.client)])
  try {
    const [oldShapes, currentShapes] = await Promise.all([readShapes(old.client, old.schema), readShapes(current.client, current.schema)])
    const unknown = options.tables?.filter(name => !oldShapes.has(name) && !currentShapes.has(name)) ?? []
    if (unknown.length > 0) throw new Refused(`--tables names ${unknown.map(n => JSON.stringify(printable(n))).join(', ')}: no such table in either database (schema ${printable(current.schema)}).`)
    const wanted = (name: string) => !ALWAYS_LEFT_OUT.includes(name) && (!options.tables || options.tables.includes(name)) && !options.exclude?.includes(name)
    const names = [...oldShapes.keys()].filter(name => wanted(name) && currentShapes.has(name))
    const comparison: Comparison = {
      tables: [],
      tablesOnlyInOld: [...oldShapes.keys()].filter(name => wanted(name) && !currentShapes.has(name)).sort(),
      tablesOnlyInDatabase: [...currentShapes.keys()].filter(name => wanted(name) && !oldShapes.has(name)).sort(),
      insertOrder: foreignKeyOrder(names.map(name => currentShapes.get(name)!)),
    }
    for (const name of comparison.insertOrder) {
      const table = describeTable(oldShapes.get(name)!, currentShapes.get(name)!)
      const run = new TableRun(old, current, table, settings)
      await (table.mode === 'key' ? run.byKey() : run.asMultiset())
      table.cost = run.cost
      comparison.tables.push(table)
    }
    return comparison
  } finally {
    await Promise.all([old.client.query('COMMIT').catch(() => {}), current.client.query('COMMIT').catch(() => {})])
  }
}
