import type {ClientBase} from 'pg'
import {quoteIdent} from '../postgres/identifiers.js'

// What the database holds, read from its catalog: the tables, columns and enums of the schemas Prisma
// manages. Read-only.

export interface CatalogColumn {
  column: string
  // The type as PostgreSQL names it internally: int4, varchar, _text (an array), or an enum's name.
  udt: string
  array: boolean
  enum: boolean
  maxLength: number | null
  nullable: boolean
  hasDefault: boolean
}

export interface Catalog {
  // "schema.table" to its columns.
  tables: Map<string, CatalogColumn[]>
  // "schema.enum" to its values in order.
  enums: Map<string, string[]>
}

// A table's or enum's key in the catalog's maps (not SQL: never quoted).
export const catalogKey = (schema: string, name: string) => `${schema}.${name}`

export async function readCatalog(client: ClientBase, schemas: string[]): Promise<Catalog> {
  const [columns, enums] = await Promise.all([
    client.query(`
      SELECT c.table_schema, c.table_name, c.column_name, c.udt_name, c.data_type, c.character_maximum_length,
             c.is_nullable = 'YES' AS nullable,
             (c.column_default IS NOT NULL OR c.is_identity = 'YES' OR c.is_generated = 'ALWAYS') AS has_default
        FROM information_schema.columns c
        JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE t.table_type = 'BASE TABLE' AND c.table_schema = ANY($1)
       ORDER BY c.table_schema, c.table_name, c.ordinal_position`, [schemas]),
    client.query(`
      SELECT n.nspname AS schema, t.typname AS name, e.enumlabel AS value
        FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = ANY($1)
       ORDER BY n.nspname, t.typname, e.enumsortorder`, [schemas]),
  ])
  const catalog: Catalog = {tables: new Map(), enums: new Map()}
  for (const row of enums.rows) {
    const key = catalogKey(row.schema, row.name)
    catalog.enums.set(key, [...catalog.enums.get(key) ?? [], row.value])
  }
  for (const row of columns.rows) {
    const key = catalogKey(row.table_schema, row.table_name)
    const array = row.data_type === 'ARRAY'
    const udt = array ? row.udt_name.replace(/^_/, '') : row.udt_name
    catalog.tables.set(key, [...catalog.tables.get(key) ?? [], {
      column: row.column_name, udt, array, enum: row.data_type === 'USER-DEFINED' || (array && catalog.enums.has(catalogKey(row.table_schema, udt))),
      maxLength: row.character_maximum_length, nullable: row.nullable, hasDefault: row.has_default,
    }])
  }
  return catalog
}

export interface EnumProbe {
  schema: string
  table: string
  column: string
  list: boolean
  values: string[]
}

// Which of the values does any row hold? One EXISTS per value, never a count.
export async function valuesInUse(client: ClientBase, probe: EnumProbe): Promise<string[]> {
  const table = `${quoteIdent(probe.schema)}.${quoteIdent(probe.table)}`
  const column = quoteIdent(probe.column)
  const used: string[] = []
  for (const value of probe.values) {
    const condition = probe.list ? `$1 = ANY(${column}::text[])` : `${column}::text = $1`
    const {rows} = await client.query(`SELECT EXISTS (SELECT 1 FROM ${table} WHERE ${condition}) AS used`, [value])
    if (rows[0].used) used.push(value)
  }
  return used
}
