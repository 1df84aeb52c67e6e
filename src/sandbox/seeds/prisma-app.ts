import {createHash, randomUUID} from 'node:crypto'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Sandbox} from '../index.js'
import {BrokenApp, BrokenAppOptions, brokenAppSpec} from './broken-app.js'
import {AppSpec, loadApp} from '../scenarios/load.js'
import type {Addon} from '../heroku/state.js'

// An app whose database was migrated by `prisma migrate deploy` from a Prisma project folder: the
// schema changes applied, and `_prisma_migrations` filled in exactly as Prisma fills it in.

// The fixture project of the tests (five migrations, each with a down.sql), from src/ and from dist/ alike.
export const PRISMA_FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'prisma-app')

// A few rows for a demo: users with short names and one bio, so that reverting add_user_bio shows a data-loss refusal.
export const DEMO_ROWS = `INSERT INTO "User" (email, name, bio) VALUES
  ('ada@example.com', 'Ada', 'wrote the first program'), ('grace@example.com', 'Grace', NULL);`

export interface PrismaAppOptions extends BrokenAppOptions {
  // How many of the project's migrations to apply (default: all of them).
  applied?: number
  // SQL run after the migrations, say to insert a few rows.
  seedSql?: string
}

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
export async function deployMigrations(sandbox: Sandbox, database: Addon, migrationsDir: string, count?: number): Promise<string[]> {
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

// A whole app (releases, a fresh backup) whose database has the project's migrations applied, and optional seed rows.
// sandbox/scenarios/unwanted-migration.json is this app for the fixture project, with DEMO_ROWS.
export function prismaAppSpec(name: string, projectDir: string, options: PrismaAppOptions = {}): AppSpec {
  const spec = brokenAppSpec(name, options)
  return {...spec, events: [
    ...spec.events!,
    {migrate: {project: projectDir, ...(options.applied === undefined ? {} : {applied: options.applied})}},
    ...(options.seedSql ? [{sql: options.seedSql}] : []),
  ]}
}

export async function seedPrismaApp(sandbox: Sandbox, name: string, projectDir: string, options: PrismaAppOptions = {}): Promise<BrokenApp & {database: Addon}> {
  const {app, databases} = await loadApp(sandbox, prismaAppSpec(name, projectDir, options))
  return {app, database: databases.DATABASE}
}
