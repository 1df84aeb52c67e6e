import type {ClientBase} from 'pg'
import {ALWAYS_LEFT_OUT, BASE_SCHEMA_PREFIX, displayName, qualified, readShapes, SESSION_SETTINGS, targetOf} from './schema.js'
import {quoteIdent} from '../postgres/identifiers.js'

// The base of a three-way db:reconcile: the recovered database as db:recover created it, before anything
// wrote to it, which is OLD as of the recovery point. Not a copy: per table with a primary key, each
// row's key and an 8-byte hash of each column's text; per table without one, each distinct row's hash
// and how many times it is there. It lives in the recovered database itself, in a schema of its own
// (heroku_reconcile_base_RUN), so that any machine finds it, DATABASE's rows are held against it
// server side, and it goes away with the database. Recorded in one transaction: whole or not at all.

export interface BaseLabel {
  run: string
  // The recovery point the database was created at (ISO 8601).
  recoveryPoint: string
  // The database recovered from (OLD, for db:reconcile) and the new one the base is recorded in.
  old: {id: string, name: string}
  database: {id: string, name: string}
}

export interface BaseTable {
  schema: string
  relname: string
  // Primary key columns and their types when recorded; empty for a table recorded as a multiset.
  key: string[]
  keyTypes: string[]
  // The columns hashed, in the order of the hashes: every column but the key's and generated ones
  // (for a table without a key, every column, hashed together).
  columns: string[]
  // The snapshot table, qualified; its hash column.
  snapshot: string
  hashColumn: string
  rows: number
}

export interface Base extends BaseLabel {
  schema: string
  recordedAt: string
  // By the name the comparison gives the table (see readShapes).
  tables: Map<string, BaseTable>
}

export interface Recorded {
  schema: string
  tables: number
  rows: number
  bytes: number
  durationMs: number
}

// A column's value as the comparison reads it (text, in SESSION_SETTINGS), hashed as 8 bytes: the same
// expression on the base, on OLD and on DATABASE (the same server version: one is a fork of the other).
// hashtextextended, about twice as fast as md5 on a million rows; NULL hashes as zero.
export const columnHash = (expression: string) => `int8send(coalesce(hashtextextended(${expression}::text, 0), 0))`
export const columnHashHex = (expression: string) => `encode(${columnHash(expression)}, 'hex')`

export const baseSchemaFor = (run: string) => `${BASE_SCHEMA_PREFIX}${run.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63)

// The snapshot's hash column: a name no key column has.
export const hashColumnFor = (key: string[]) => {
  let name = 'h'
  while (key.includes(name)) name += '_'
  return name
}

export const dropBaseSql = (schema: string) => `DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`

export async function recordBase(client: ClientBase, label: BaseLabel, home: string): Promise<Recorded> {
  const started = Date.now()
  const schema = baseSchemaFor(label.run)
  const own = (name: string) => qualified(schema, name)
  await client.query('BEGIN')
  try {
    for (const setting of SESSION_SETTINGS) await client.query(setting)
    const shapes = [...(await readShapes(client, home)).values()].filter(s => !ALWAYS_LEFT_OUT.includes(s.name))
    await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`)
    await client.query(`CREATE TABLE ${own('tables')} (n int PRIMARY KEY, table_schema text NOT NULL, table_name text NOT NULL,
      key_columns text[] NOT NULL, key_types text[] NOT NULL, columns text[] NOT NULL, rows bigint NOT NULL)`)
    let rows = 0
    for (const [index, shape] of shapes.entries()) {
      const n = index + 1
      const snapshot = own(`t${n}`)
      const source = targetOf(shape)
      let count: number
      let hashed = shape.columns.map(c => c.name)
      if (shape.key.length > 0) {
        hashed = shape.columns.filter(c => !c.generated && !shape.key.includes(c.name)).map(c => c.name)
        const hashes = hashed.length === 0 ? '\'\'::bytea' : hashed.map(c => columnHash(`t.${quoteIdent(c)}`)).join(' || ')
        const hashColumn = quoteIdent(hashColumnFor(shape.key))
        count = (await client.query(`CREATE TABLE ${snapshot} AS SELECT ${shape.key.map(k => `t.${quoteIdent(k)}`).join(', ')}, ${hashes} AS ${hashColumn} FROM ${source} t`)).rowCount ?? 0
        await client.query(`ALTER TABLE ${snapshot} ADD PRIMARY KEY (${shape.key.map(quoteIdent).join(', ')})`)
      } else {
        const row = `ROW(${shape.columns.map(c => `t.${quoteIdent(c.name)}`).join(', ')})::text`
        await client.query(`CREATE TABLE ${snapshot} AS SELECT decode(substr(md5(${row}), 1, 16), 'hex') AS h, count(*)::int AS n FROM ${source} t GROUP BY 1`)
        await client.query(`ALTER TABLE ${snapshot} ADD PRIMARY KEY (h)`)
        count = Number((await client.query(`SELECT coalesce(sum(n), 0)::bigint AS n FROM ${snapshot}`)).rows[0].n)
      }
      rows += count
      const types = shape.key.map(k => shape.columns.find(c => c.name === k)!.type)
      await client.query(`INSERT INTO ${own('tables')} VALUES ($1, $2, $3, $4, $5, $6, $7)`, [n, shape.schema, shape.relname, shape.key, types, hashed, count])
    }
    await client.query(`CREATE TABLE ${own('about')} (run text NOT NULL, recovery_point timestamptz NOT NULL, old_addon_id text NOT NULL, old_addon_name text NOT NULL,
      database_addon_id text NOT NULL, database_addon_name text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())`)
    await client.query(`INSERT INTO ${own('about')} (run, recovery_point, old_addon_id, old_addon_name, database_addon_id, database_addon_name) VALUES ($1, $2, $3, $4, $5, $6)`,
      [label.run, label.recoveryPoint, label.old.id, label.old.name, label.database.id, label.database.name])
    const {rows: [{bytes}]} = await client.query(`SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`, [schema])
    await client.query('COMMIT')
    return {schema, tables: shapes.length, rows, bytes: Number(bytes), durationMs: Date.now() - started}
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

interface AboutRow {
  run: string
  recovery_point: Date
  old_addon_id: string
  old_addon_name: string
  database_addon_id: string
  database_addon_name: string
  recorded_at: Date
}

async function readAbout(client: ClientBase, schema: string): Promise<AboutRow | undefined> {
  const {rows} = await client.query<AboutRow>(`SELECT * FROM ${qualified(schema, 'about')} LIMIT 1`)
  return rows[0]
}

const baseSchemas = async (client: ClientBase) => (await client.query<{schema: string}>(`SELECT n.nspname AS schema FROM pg_namespace n
  WHERE starts_with(n.nspname, $1) AND EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = 'about')
  ORDER BY 1`, [BASE_SCHEMA_PREFIX])).rows.map(r => r.schema)

// Whether the base of this run is there (after a lost answer to its COMMIT).
export async function hasBase(client: ClientBase, run: string): Promise<boolean> {
  const schema = baseSchemaFor(run)
  return (await baseSchemas(client)).includes(schema) && (await readAbout(client, schema)) !== undefined
}

// The newest base recorded in this database (DATABASE) for a recovery from `old`. A database forked
// from one that had bases keeps copies of them: they were recorded in another database and do not count.
export async function findBase(client: ClientBase, home: string, old: {id: string}, database?: {id: string}): Promise<Base | undefined> {
  let found: {schema: string, about: AboutRow} | undefined
  for (const schema of await baseSchemas(client)) {
    const about = await readAbout(client, schema)
    if (!about || about.old_addon_id !== old.id || (database && about.database_addon_id !== database.id)) continue
    if (!found || about.recorded_at > found.about.recorded_at) found = {schema, about}
  }
  if (!found) return undefined
  const {schema, about} = found
  const {rows} = await client.query<{n: number, table_schema: string, table_name: string, key_columns: string[], key_types: string[], columns: string[], rows: string}>(
    `SELECT * FROM ${qualified(schema, 'tables')} ORDER BY n`)
  const tables = new Map<string, BaseTable>()
  for (const row of rows) {
    tables.set(displayName(row.table_schema, row.table_name, home), {
      schema: row.table_schema, relname: row.table_name, key: row.key_columns, keyTypes: row.key_types, columns: row.columns,
      snapshot: qualified(schema, `t${row.n}`), hashColumn: row.key_columns.length > 0 ? hashColumnFor(row.key_columns) : 'h', rows: Number(row.rows),
    })
  }
  return {
    schema, run: about.run, recoveryPoint: about.recovery_point.toISOString(), recordedAt: about.recorded_at.toISOString(),
    old: {id: about.old_addon_id, name: about.old_addon_name}, database: {id: about.database_addon_id, name: about.database_addon_name}, tables,
  }
}
