import type {Scratch} from './scratch.js'
import type {Snapshot} from './snapshot.js'
import {quoteIdent} from '../../postgres/identifiers.js'

// A few rows in every table before a down runs, with values made from the column types, so that a down
// that only works on empty tables fails on the scratch database rather than in an incident.

export const SAMPLE_ROWS = 3

interface ColumnInfo {
  table: string
  column: string
  type: string
  typtype: string
  typcategory: string
  typname: string
  typmod: number
  not_null: boolean
  default: string | null
  identity: string
  generated: string
  reference: {table: string, column: string} | string | null
}

const COLUMNS = `
  SELECT c.oid::regclass::text AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
    t.typtype, t.typcategory, t.typname, a.atttypmod AS typmod, a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default,
    a.attidentity AS identity, a.attgenerated AS generated,
    (SELECT json_build_object('table', k.confrelid::regclass::text, 'column', quote_ident(fa.attname))
      FROM pg_constraint k JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = k.confkey[1]
      WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.conkey = ARRAY[a.attnum] LIMIT 1) AS reference
  FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND c.relname <> '_prisma_migrations'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  ORDER BY c.oid::regclass::text, a.attnum`

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`

// The value of row `i` (1, 2, 3...) for a column, as SQL; undefined to leave the column to its default.
export function sampleValue(column: Omit<ColumnInfo, 'table' | 'reference'> & {reference?: {table: string, column: string} | null, table: string}): string | undefined {
  const {type, typcategory, typname, typtype} = column
  if (column.generated || column.identity || column.default?.startsWith('nextval(')) return undefined
  if (column.reference) {
    if (column.reference.table === column.table) return 'NULL'
    const {table, column: ref} = column.reference
    return `(SELECT ${ref} FROM ${table} ORDER BY 1 OFFSET (i - 1) % greatest((SELECT count(*) FROM ${table}), 1) LIMIT 1)`
  }
  if (typtype === 'e') return `(enum_range(NULL::${type}))[1 + (i - 1) % array_length(enum_range(NULL::${type}), 1)]`
  if (typcategory === 'A') return `'{}'::${type}`
  if (typcategory === 'N') return `(i)::${type}`
  if (typcategory === 'B') return '(i % 2 = 0)'
  if (typcategory === 'S') {
    const length = (typname === 'varchar' || typname === 'bpchar') && column.typmod > 4 ? column.typmod - 4 : undefined
    const text = `${literal(`${column.column}-`)} || i`
    return length ? `left(${text}, ${length})::${type}` : `(${text})::${type}`
  }
  if (typname === 'date' || typname === 'timestamp' || typname === 'timestamptz') return `(timestamp '2026-01-01' + i * interval '1 day')::${type}`
  if (typname === 'time' || typname === 'timetz') return `(time '12:00' + i * interval '1 minute')::${type}`
  if (typname === 'interval') return 'i * interval \'1 minute\''
  if (typname === 'uuid') return `md5(${literal(column.column)} || i)::uuid`
  if (typname === 'json' || typname === 'jsonb') return `json_build_object('n', i)::${type}`
  if (typname === 'bytea') return `convert_to(${literal(column.column)} || i, 'UTF8')`
  if (typname === 'inet' || typname === 'cidr') return `('10.0.0.' || i)::${type}`
  if (column.default !== null) return undefined
  return 'NULL'
}

// Tables that others point to come first.
function fillOrder(columns: ColumnInfo[]): string[] {
  const tables = [...new Set(columns.map(c => c.table))]
  const needs = new Map(tables.map(t => [t, new Set(columns.filter(c => c.table === t && c.reference && typeof c.reference === 'object' && c.reference.table !== t).map(c => (c.reference as {table: string}).table))]))
  const ordered: string[] = []
  const visit = (table: string, path: Set<string>) => {
    if (ordered.includes(table) || path.has(table)) return
    path.add(table)
    for (const parent of needs.get(table) ?? []) visit(parent, path)
    ordered.push(table)
  }
  for (const table of tables) visit(table, new Set())
  return ordered
}

// Fills every table with SAMPLE_ROWS rows; a table that refuses them (a check constraint, a domain) is said, not fatal.
export async function fillSampleRows(db: Scratch): Promise<string[]> {
  const columns = (await db.query<ColumnInfo>(COLUMNS)).map(c => ({...c, reference: typeof c.reference === 'string' ? JSON.parse(c.reference) : c.reference}))
  const notes: string[] = []
  for (const table of fillOrder(columns)) {
    const values = columns.filter(c => c.table === table).map(c => ({name: quoteIdent(c.column), value: sampleValue(c)})).filter(c => c.value !== undefined)
    const sql = values.length > 0
      ? `INSERT INTO ${table} (${values.map(v => v.name).join(', ')}) SELECT ${values.map(v => v.value).join(', ')} FROM generate_series(1, ${SAMPLE_ROWS}) AS i`
      : `INSERT INTO ${table} SELECT FROM generate_series(1, ${SAMPLE_ROWS})`
    await db.query('SAVEPOINT sample_rows')
    try {
      await db.query(sql)
      await db.query('RELEASE SAVEPOINT sample_rows')
    } catch (error) {
      await db.query('ROLLBACK TO SAVEPOINT sample_rows')
      notes.push(`could not put sample rows in ${table}: ${(error as Error).message}`)
    }
  }
  return notes
}

export interface DroppedValues {
  // `table "Post"`, `column "User"."bio"`.
  object: string
  count: number
  values: string[]
}

// What a down would drop, read before it runs: the rows of tables and the values of columns that the
// migration added (present after it, absent before it).
export async function valuesToDrop(db: Scratch, before: Snapshot, after: Snapshot): Promise<DroppedValues[]> {
  const added = Object.keys(after).filter(key => !(key in before)).map(key => after[key])
  const addedTables = new Set(added.filter(o => o.kind === 'table').map(o => o.name))
  const dropped: DroppedValues[] = []
  for (const object of added) {
    if (object.kind === 'table') {
      const [{n}] = await db.query<{n: number | string}>(`SELECT count(*) AS n FROM ${object.name}`)
      if (Number(n) > 0) dropped.push({object: `table ${object.name}`, count: Number(n), values: []})
    } else if (object.kind === 'column') {
      const table = object.name.slice(0, object.name.lastIndexOf('.'))
      if (addedTables.has(table)) continue
      const column = object.name.slice(table.length + 1)
      const rows = await db.query<{value: string}>(`SELECT ${column}::text AS value FROM ${table} WHERE ${column} IS NOT NULL ORDER BY 1 LIMIT ${SAMPLE_ROWS}`)
      if (rows.length > 0) dropped.push({object: `column ${object.name}`, count: rows.length, values: rows.map(r => r.value)})
    }
  }
  return dropped
}

export const describeDropped = (dropped: DroppedValues) => dropped.values.length > 0
  ? `drops ${dropped.object} with values ${dropped.values.map(v => literal(v.length > 40 ? `${v.slice(0, 37)}...` : v)).join(', ')}`
  : `drops ${dropped.object} with ${dropped.count} row(s)`
