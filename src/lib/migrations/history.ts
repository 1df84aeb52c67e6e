import type {ClientBase} from 'pg'
import {quoteIdent} from '../postgres/identifiers.js'

// One row of `_prisma_migrations`, as Prisma writes it.
export interface HistoryRow {
  id: string
  checksum: string
  finished_at: Date | null
  migration_name: string
  logs: string | null
  rolled_back_at: Date | null
  started_at: Date
  applied_steps_count: number
}

export const MIGRATIONS_TABLE = '_prisma_migrations'


export const migrationsTable = (schema: string) => `${quoteIdent(schema)}.${quoteIdent(MIGRATIONS_TABLE)}`

// The whole table, oldest first; undefined when the database has never seen `prisma migrate`.
export async function readHistory(client: ClientBase, schema: string): Promise<HistoryRow[] | undefined> {
  const {rows: [exists]} = await client.query<{found: boolean}>('SELECT to_regclass($1) IS NOT NULL AS found', [migrationsTable(schema)])
  if (!exists.found) return undefined
  const {rows} = await client.query<HistoryRow>(`SELECT * FROM ${migrationsTable(schema)} ORDER BY started_at, migration_name`)
  return rows
}

// Prisma's reading: a row with neither finished_at nor rolled_back_at is a failed (or running) migration.
export const isFailed = (row: HistoryRow) => row.finished_at === null && row.rolled_back_at === null

// A migration is applied when one of its rows finished and was not rolled back.
export const isApplied = (row: HistoryRow) => row.finished_at !== null && row.rolled_back_at === null

// A fingerprint of the rows, to notice that someone changed the table between planning and applying.
export const fingerprintOf = (rows: HistoryRow[]) =>
  rows.map(r => [r.id, r.checksum, r.finished_at?.toISOString(), r.rolled_back_at?.toISOString(), r.applied_steps_count].join('|')).sort().join('\n')
