import {randomUUID} from 'node:crypto'
import type {ClientBase} from 'pg'
import {SafeRollbackError} from '../errors.js'
import {checksumOf, matchesChecksum} from './checksum.js'
import {HistoryRow, isApplied, migrationsTable, readHistory} from './history.js'
import {HISTORY_SCHEMA, PRISMA_LOCK_KEY} from './steps.js'

// The compensation of a revert: the reverted migrations applied again (their migration.sql, oldest
// first, in one transaction holding Prisma's lock) and their _prisma_migrations rows put back exactly as
// they were, so that the code that needs them meets its schema again and Prisma sees nothing changed.

export interface Reapplied {
  name: string
  sql: string
  // The row the revert deleted, as it was; a new one is written as Prisma would when it is not known.
  row?: HistoryRow
}

const COLUMNS = ['id', 'checksum', 'finished_at', 'migration_name', 'logs', 'rolled_back_at', 'started_at', 'applied_steps_count'] as const

export async function reapplyMigrations(client: ClientBase, schema: string, migrations: Reapplied[]): Promise<void> {
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [PRISMA_LOCK_KEY])
    const applied = new Set((await readHistory(client, schema) ?? []).filter(isApplied).map(r => r.migration_name))
    for (const migration of [...migrations].sort((a, b) => a.name.localeCompare(b.name))) {
      if (applied.has(migration.name)) continue
      await client.query(migration.sql)
      const row = migration.row ?? {
        id: randomUUID(), checksum: checksumOf(migration.sql), finished_at: new Date(), migration_name: migration.name,
        logs: null, rolled_back_at: null, started_at: new Date(), applied_steps_count: 1,
      }
      await client.query(
        `INSERT INTO ${migrationsTable(schema)} (${COLUMNS.map(c => `"${c}"`).join(', ')}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
        COLUMNS.map(column => row[column]),
      )
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw new SafeRollbackError(`Applying the reverted migrations again failed: ${(error as Error).message}`, 'The transaction was rolled back: the schema is as the revert left it.')
  }
}

export async function areApplied(client: ClientBase, schema: string, names: string[]): Promise<boolean> {
  const applied = new Set((await readHistory(client, schema) ?? []).filter(isApplied).map(r => r.migration_name))
  return names.every(name => applied.has(name))
}

// The migrations among these whose SQL the database's record of reverts (kept by migrate:down) does not
// vouch for: none recorded under that name, or recorded with another checksum.
export async function unrecordedReverts(client: ClientBase, migrations: Reapplied[]): Promise<string[]> {
  const recorded = await client.query<{migration_name: string, checksum: string}>(
    `SELECT migration_name, checksum FROM ${HISTORY_SCHEMA}.reverted_migrations WHERE migration_name = ANY($1)`,
    [migrations.map(m => m.name)],
  ).then(r => r.rows, (error: {code?: string}) => {
    if (error.code === '42P01' || error.code === '3F000') return []
    throw error
  })
  return migrations.filter(m => !recorded.some(r => r.migration_name === m.name && matchesChecksum(m.sql, r.checksum))).map(m => m.name)
}
