import type {ClientBase} from 'pg'
import {quoteIdent} from '../postgres/identifiers.js'

// What the comparison needs to know of one side: its tables, their columns with types, primary keys
// and foreign keys. Read from the catalog of the schema Prisma manages.

export interface Column {
  name: string
  // `integer`, `character varying(20)`: what a text value is cast to.
  type: string
}

export interface TableShape {
  name: string
  columns: Column[]
  // Primary key columns in key order; empty when the table has none.
  key: string[]
  // Tables this one points to with a foreign key.
  references: string[]
}

// Prisma's own bookkeeping is never compared: a recovery is not a migration.
export const ALWAYS_LEFT_OUT = ['_prisma_migrations']

export {quoteIdent}
export const qualified = (schema: string, table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`

export async function readShapes(client: ClientBase, schema: string): Promise<Map<string, TableShape>> {
  const {rows: columns} = await client.query<{table: string, column: string, type: string}>(`
    SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY c.relname, a.attnum`, [schema])
  const {rows: constraints} = await client.query<{table: string, kind: string, columns: string[], target: string | null}>(`
    SELECT c.relname AS table, k.contype AS kind, t.relname AS target,
      ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(num, pos)
        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.pos)::text[] AS columns
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_class t ON t.oid = k.confrelid
    WHERE n.nspname = $1 AND k.contype IN ('p', 'f')`, [schema])
  const shapes = new Map<string, TableShape>()
  for (const row of columns) {
    const shape = shapes.get(row.table) ?? {name: row.table, columns: [], key: [], references: []}
    shape.columns.push({name: row.column, type: row.type})
    shapes.set(row.table, shape)
  }
  for (const constraint of constraints) {
    const shape = shapes.get(constraint.table)
    if (!shape) continue
    if (constraint.kind === 'p') shape.key = constraint.columns
    else if (constraint.target && constraint.target !== constraint.table) shape.references.push(constraint.target)
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
