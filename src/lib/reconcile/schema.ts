import type {ClientBase} from 'pg'
import {quoteIdent} from '../postgres/identifiers.js'

// What the comparison needs to know of one side: its tables in every schema the app's data can live in,
// their columns with types, primary keys and foreign keys. Read from the catalog.

export interface Column {
  name: string
  // `integer`, `character varying(20)`: what a text value is cast to.
  type: string
  // GENERATED ALWAYS AS (...) STORED: hashed and compared, never written (the database computes it).
  generated?: boolean
}

export interface TableShape {
  // How the table is named to people and in --tables: `customers` in the connection's schema (Prisma's),
  // `audit.events` in another one.
  name: string
  schema: string
  relname: string
  columns: Column[]
  // Primary key columns in key order; empty when the table has none.
  key: string[]
  // Tables this one points to with a foreign key, by name.
  references: string[]
}

// Prisma's own bookkeeping is never compared: a recovery is not a migration.
export const ALWAYS_LEFT_OUT = ['_prisma_migrations']

// The plugin's own schemas: the bases db:recover records for db:reconcile (one schema per base) and
// migrate:down's copies of reverted migrations. Bookkeeping, never data to carry over.
export const BASE_SCHEMA_PREFIX = 'heroku_reconcile_base_'
const OWN_SCHEMAS = ['heroku_migrate_down']
export const isOwnSchema = (schema: string) => schema.startsWith(BASE_SCHEMA_PREFIX) || OWN_SCHEMAS.includes(schema)

// Values are compared (and hashed) as text in these session settings, whatever each server's defaults.
export const SESSION_SETTINGS = [
  'SET LOCAL TimeZone = \'UTC\'', 'SET LOCAL DateStyle = \'ISO, MDY\'', 'SET LOCAL IntervalStyle = \'postgres\'',
  'SET LOCAL extra_float_digits = 3', 'SET LOCAL bytea_output = \'hex\'',
]

export const qualified = (schema: string, table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`
export const targetOf = (shape: {schema: string, relname: string}) => qualified(shape.schema, shape.relname)

export const displayName = (schema: string, relname: string, home: string) => schema === home ? relname : `${schema}.${relname}`

// Every ordinary or partitioned table of every schema but the system's, the plugin's own, and those of
// extensions (PostGIS's spatial_ref_sys), keyed by display name.
export async function readShapes(client: ClientBase, home: string): Promise<Map<string, TableShape>> {
  const tables = `
    SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`
  const {rows: columns} = await client.query<{schema: string, table: string, column: string, type: string, generated: boolean}>(`
    SELECT t.nspname AS schema, t.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated <> '' AS generated
    FROM (${tables}) t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY t.nspname, t.relname, a.attnum`)
  const {rows: constraints} = await client.query<{schema: string, table: string, kind: string, columns: string[], targetSchema: string | null, target: string | null}>(`
    SELECT t.nspname AS schema, t.relname AS table, k.contype AS kind, tn.nspname AS "targetSchema", tc.relname AS target,
      ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(num, pos)
        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.pos)::text[] AS columns
    FROM (${tables}) t JOIN pg_constraint k ON k.conrelid = t.oid
    LEFT JOIN pg_class tc ON tc.oid = k.confrelid LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
    WHERE k.contype IN ('p', 'f')`)
  const shapes = new Map<string, TableShape>()
  for (const row of columns) {
    if (isOwnSchema(row.schema)) continue
    const name = displayName(row.schema, row.table, home)
    const shape = shapes.get(name) ?? {name, schema: row.schema, relname: row.table, columns: [], key: [], references: []}
    shape.columns.push({name: row.column, type: row.type, ...(row.generated ? {generated: true} : {})})
    shapes.set(name, shape)
  }
  for (const constraint of constraints) {
    const shape = shapes.get(displayName(constraint.schema, constraint.table, home))
    if (!shape) continue
    if (constraint.kind === 'p') shape.key = constraint.columns
    else if (constraint.target) {
      const target = displayName(constraint.targetSchema!, constraint.target, home)
      if (target !== shape.name) shape.references.push(target)
    }
  }
  return shapes
}

// Parents before children, so that inserted rows find the rows they point to; cycles keep name order.
export function foreignKeyOrder(shapes: TableShape[]): string[] {
  const byName = new Map(shapes.map(s => [s.name, s]))
  const ordered: string[] = []
  const visiting = new Set<string>()
  const visit = (name: string) => {
    if (ordered.includes(name) || visiting.has(name) || !byName.has(name)) return
    visiting.add(name)
    for (const parent of [...byName.get(name)!.references].sort()) visit(parent)
    visiting.delete(name)
    ordered.push(name)
  }
  for (const name of [...byName.keys()].sort()) visit(name)
  return ordered
}
