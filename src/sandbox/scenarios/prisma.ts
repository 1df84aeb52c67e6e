import {createHash, randomUUID} from 'node:crypto'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import type {Heroku} from '../heroku/heroku.js'
import type {Addon} from '../heroku/state.js'

// `prisma migrate deploy` of a project's migrations, as a scenario's `migrate` event runs it: the schema
// changes applied, and `_prisma_migrations` filled in exactly as Prisma fills it in.

// The table as Prisma's schema engine creates it on PostgreSQL.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`

export function migrationNames(migrationsDir: string): string[] {
  return readdirSync(migrationsDir, {withFileTypes: true})
    .filter(entry => entry.isDirectory() && existsSync(join(migrationsDir, entry.name, 'migration.sql')))
    .map(entry => entry.name)
    .sort()
}

// What `prisma migrate deploy` does per pending migration: a row first, the script, then the row finished.
export async function deployMigrations(sandbox: Heroku, database: Addon, migrationsDir: string, count?: number): Promise<string[]> {
  await sandbox.sql(database, CREATE_MIGRATIONS_TABLE)
  const names = migrationNames(migrationsDir).slice(0, count)
  for (const name of names) {
    const script = readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8')
    const id = randomUUID()
    const checksum = createHash('sha256').update(script).digest('hex')
    await sandbox.sql(database, 'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)', [id, checksum, name])
    await sandbox.sql(database, script)
    await sandbox.sql(database, 'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id])
  }
  return names
}
