import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {Heroku} from '../heroku/heroku.js'
import type {Addon} from '../heroku/state.js'
import {loadApp} from '../scenarios/load.js'
import type {AppSpec} from '../scenarios/spec.js'
import {BrokenApp, BrokenAppOptions, brokenAppSpec} from './broken-app.js'

// An app whose database was migrated by `prisma migrate deploy` from a Prisma project folder (see
// scenarios/prisma.ts).

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

export async function seedPrismaApp(sandbox: Heroku, name: string, projectDir: string, options: PrismaAppOptions = {}): Promise<BrokenApp & {database: Addon}> {
  const {app, databases} = await loadApp(sandbox, prismaAppSpec(name, projectDir, options))
  return {app, database: databases.DATABASE}
}
