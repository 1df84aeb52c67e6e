import {execFile} from 'node:child_process'
import {copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {redact, registerSecrets} from '../secrets.js'
import type {LocalMigration} from './project.js'

// Where a migration's down SQL comes from: its down.sql (the layout of Prisma's "generating down
// migrations" guide), or the project's own Prisma CLI diffing the migration states; otherwise a refusal.
export type DownSql =
  | {kind: 'file', path: string, sql: string}
  | {kind: 'generated', command: string, sql: string}
  | {kind: 'missing', reason: string}

export interface PrismaCli {
  bin: string
  version: string
  major: number
}

export interface GenerateOptions {
  projectDir: string
  migrationsDir: string
  shadowDatabaseUrl?: string
  prisma?: PrismaCli
}

export const HOW_TO_WRITE_DOWN_SQL = 'Write it by hand beside migration.sql as down.sql, or generate it with '
  + '`npx prisma migrate diff --from-schema <schema.prisma with the migration> --to-schema <schema.prisma before it> --script > down.sql` '
  + '(Prisma 6: --from-schema-datamodel and --to-schema-datamodel).'

// The project's own `prisma` CLI, found the way npx finds it: node_modules/.bin from the project up.
export function findPrismaCli(projectDir: string): PrismaCli | undefined {
  for (let dir = projectDir; ; dir = dirname(dir)) {
    const bin = join(dir, 'node_modules', '.bin', 'prisma')
    const manifest = join(dir, 'node_modules', 'prisma', 'package.json')
    if (existsSync(bin) && existsSync(manifest)) {
      const version = (JSON.parse(readFileSync(manifest, 'utf8')) as {version: string}).version
      return {bin, version, major: Number(version.split('.')[0])}
    }
    if (dirname(dir) === dir) return undefined
  }
}

// The command that asks Prisma for the SQL going from the state with `migration` to the state without it.
// Prisma 6 takes the shadow database as a flag; Prisma 7 only reads it from prisma.config.ts (often from
// SHADOW_DATABASE_URL, which it inherits).
export function diffCommand(prisma: PrismaCli, withDir: string, withoutDir: string, shadowDatabaseUrl?: string): string[] {
  const args = ['migrate', 'diff', '--from-migrations', withDir, '--to-migrations', withoutDir, '--script']
  if (prisma.major < 7 && shadowDatabaseUrl) args.push('--shadow-database-url', shadowDatabaseUrl)
  return args
}

function missingReason(migration: LocalMigration, options: GenerateOptions): string | undefined {
  const noFile = `${migration.name} has no down.sql`
  if (!options.prisma) return `${noFile}, and no Prisma CLI is installed in the project to generate one. ${HOW_TO_WRITE_DOWN_SQL}`
  if (options.prisma.major < 7 && !options.shadowDatabaseUrl) {
    return `${noFile}; generating one with Prisma ${options.prisma.version} needs an empty scratch database: set SHADOW_DATABASE_URL to one. Or: ${HOW_TO_WRITE_DOWN_SQL}`
  }
  return undefined
}

// Two copies of the migrations folder: up to and including `index`, and up to just before it.
function migrationStates(all: LocalMigration[], index: number, migrationsDir: string): {root: string, withDir: string, withoutDir: string} {
  const root = mkdtempSync(join(tmpdir(), 'migrate-down-'))
  const copy = (target: string, migrations: LocalMigration[]) => {
    for (const m of migrations) cpSync(m.dir, join(target, m.name), {recursive: true})
    const lock = join(migrationsDir, 'migration_lock.toml')
    if (existsSync(lock)) copyFileSync(lock, join(target, 'migration_lock.toml'))
  }
  const withDir = join(root, 'with')
  const withoutDir = join(root, 'without')
  copy(withDir, all.slice(0, index + 1))
  copy(withoutDir, all.slice(0, index))
  return {root, withDir, withoutDir}
}

const run = (bin: string, args: string[], cwd: string) => new Promise<{stdout: string}>((resolve, reject) => {
  execFile(bin, args, {cwd, timeout: 180_000, maxBuffer: 32 * 1024 * 1024, env: {...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1'}}, (error, stdout, stderr) => {
    if (error) reject(new Error((stderr || error.message).trim().split('\n').filter(Boolean).slice(-1)[0] ?? error.message))
    else resolve({stdout})
  })
})

export async function downSqlFor(migration: LocalMigration, all: LocalMigration[], options: GenerateOptions): Promise<DownSql> {
  if (migration.downSql !== undefined) return {kind: 'file', path: join(migration.dir, 'down.sql'), sql: migration.downSql}
  const reason = missingReason(migration, options)
  if (reason) return {kind: 'missing', reason}
  registerSecrets([options.shadowDatabaseUrl])
  const prisma = options.prisma!
  const {root, withDir, withoutDir} = migrationStates(all, all.indexOf(migration), options.migrationsDir)
  const args = diffCommand(prisma, withDir, withoutDir, options.shadowDatabaseUrl)
  const command = redact(['npx', 'prisma', ...args].join(' ').replace(options.shadowDatabaseUrl ?? '\0', '[REDACTED]'))
  try {
    const {stdout} = await run(prisma.bin, args, options.projectDir)
    return {kind: 'generated', command, sql: stdout}
  } catch (error) {
    return {kind: 'missing', reason: `${migration.name} has no down.sql and \`${command}\` failed: ${redact((error as Error).message)}. ${HOW_TO_WRITE_DOWN_SQL}`}
  } finally {
    rmSync(root, {recursive: true, force: true})
  }
}
