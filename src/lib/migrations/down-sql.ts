import {execFile} from 'node:child_process'
import {copyFileSync, cpSync, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {redact, registerSecrets} from '../secrets.js'
import type {DownSql} from './down-source.js'
import {hasSchemaEngineBinary, type PrismaCli} from './prisma-cli.js'
import type {LocalMigration} from './project.js'

export type {DownSql} from './down-source.js'
export {findPrismaCli, hasSchemaEngineBinary, type PrismaCli} from './prisma-cli.js'

export interface GenerateOptions {
  projectDir: string
  migrationsDir: string
  shadowDatabaseUrl?: string
  prisma?: PrismaCli
  // --generate (migrate:check: --generate-missing): generate what is missing with Prisma's WebAssembly schema
  // engine when the project's Prisma CLI cannot run its engine binary. The flag's name, for the messages.
  generate?: {flag: string, enabled: boolean}
  // The schema the app's migrations run in, named by the generated SQL.
  schema?: string
  cacheDir?: string
}

export const HOW_TO_WRITE_DOWN_SQL = 'Write it by hand beside migration.sql as down.sql, or generate it with '
  + '`npx prisma migrate diff --from-schema <schema.prisma with the migration> --to-schema <schema.prisma before it> --script > down.sql` '
  + '(Prisma 6: --from-schema-datamodel and --to-schema-datamodel).'

// The command that asks Prisma for the SQL going from the state with `migration` to the state without it.
// Prisma 6 takes the shadow database as a flag; Prisma 7 only reads it from prisma.config.ts (often from
// SHADOW_DATABASE_URL, which it inherits).
export function diffCommand(prisma: PrismaCli, withDir: string, withoutDir: string, shadowDatabaseUrl?: string): string[] {
  const args = ['migrate', 'diff', '--from-migrations', withDir, '--to-migrations', withoutDir, '--script']
  if (prisma.major < 7 && shadowDatabaseUrl) args.push('--shadow-database-url', shadowDatabaseUrl)
  return args
}

// What to say after a refusal, when generating with the WebAssembly engine was not asked for.
const orGenerate = (options: GenerateOptions) => options.generate && !options.generate.enabled
  ? ` Or pass ${options.generate.flag}: Prisma's schema engine, compiled to WebAssembly, generates it here without its binary or a shadow database.`
  : ''

function missingReason(migration: LocalMigration, options: GenerateOptions): string | undefined {
  const noFile = `${migration.name} has no down.sql`
  if (!options.prisma) return `${noFile}, and no Prisma CLI is installed in the project to generate one. ${HOW_TO_WRITE_DOWN_SQL}${orGenerate(options)}`
  if (options.prisma.major < 7 && !options.shadowDatabaseUrl) {
    return `${noFile}; generating one with Prisma ${options.prisma.version} needs an empty scratch database: set SHADOW_DATABASE_URL to one. Or: ${HOW_TO_WRITE_DOWN_SQL}${orGenerate(options)}`
  }
  return undefined
}

const canRunCli = (options: GenerateOptions) =>
  options.prisma !== undefined && hasSchemaEngineBinary(options.prisma) && (options.prisma.major >= 7 || options.shadowDatabaseUrl !== undefined)

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

// The project's Prisma CLI diffing the two states: its SQL, or why it failed.
async function runCli(migration: LocalMigration, all: LocalMigration[], options: GenerateOptions): Promise<{command: string, sql?: string, error?: string}> {
  registerSecrets([options.shadowDatabaseUrl])
  const prisma = options.prisma!
  const {root, withDir, withoutDir} = migrationStates(all, all.indexOf(migration), options.migrationsDir)
  const args = diffCommand(prisma, withDir, withoutDir, options.shadowDatabaseUrl)
  const command = redact(['npx', 'prisma', ...args].join(' ').replace(options.shadowDatabaseUrl ?? '\0', '[REDACTED]'))
  try {
    return {command, sql: (await run(prisma.bin, args, options.projectDir)).stdout}
  } catch (error) {
    return {command, error: redact((error as Error).message)}
  } finally {
    rmSync(root, {recursive: true, force: true})
  }
}

export async function downSqlFor(migration: LocalMigration, all: LocalMigration[], options: GenerateOptions): Promise<DownSql> {
  if (migration.downSql !== undefined) return {kind: 'file', path: join(migration.dir, 'down.sql'), sql: migration.downSql}
  const reason = missingReason(migration, options)
  if (reason) return {kind: 'missing', reason}
  const {command, sql, error} = await runCli(migration, all, options)
  return sql !== undefined
    ? {kind: 'generated', command, sql}
    : {kind: 'missing', reason: `${migration.name} has no down.sql and \`${command}\` failed: ${error}. ${HOW_TO_WRITE_DOWN_SQL}${orGenerate(options)}`}
}

// The down SQL of each of `migrations`. With --generate, the project's Prisma CLI generates what is missing
// when it has its engine binary; otherwise (or when it fails) Prisma's schema engine compiled to WebAssembly
// does, loaded only then.
export async function downSqlsFor(migrations: LocalMigration[], all: LocalMigration[], options: GenerateOptions): Promise<Map<string, DownSql>> {
  const downs = new Map<string, DownSql>()
  const generate = options.generate?.enabled ?? false
  const toEngine: LocalMigration[] = []
  let cliNote: string | undefined
  for (const migration of migrations) {
    if (migration.downSql !== undefined || !generate) {
      downs.set(migration.name, await downSqlFor(migration, all, options))
      continue
    }
    if (canRunCli(options)) {
      const {command, sql, error} = await runCli(migration, all, options)
      if (sql !== undefined) {
        downs.set(migration.name, {kind: 'generated', command, sql})
        continue
      }
      cliNote = `\`${command}\` failed: ${error}`
    } else if (options.prisma) {
      cliNote ??= `the project's Prisma ${options.prisma.version} CLI cannot run here: ${hasSchemaEngineBinary(options.prisma) ? 'Prisma 6 needs SHADOW_DATABASE_URL' : 'its schema engine binary is not installed'}`
    }
    toEngine.push(migration)
  }
  if (toEngine.length === 0) return downs
  const {generateDowns} = await import('./generate/generate.js')
  const generated = await generateDowns({all, missing: toEngine, migrationsDir: options.migrationsDir, projectDir: options.projectDir, schema: options.schema ?? 'public', cacheDir: options.cacheDir, cliNote})
  // In the order asked.
  return new Map(migrations.map(m => [m.name, downs.get(m.name) ?? generated.get(m.name)!]))
}
