import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {Refused} from '../errors.js'

export interface MigrationsDir {
  path: string
  // Where the path came from, for the plan: `--dir`, `prisma.config.ts`, `package.json`, or the default.
  source: string
}

export interface LocalMigration {
  name: string
  dir: string
  sql: string
  downSql?: string
}

const CONFIG_FILES = ['prisma.config.ts', 'prisma.config.mts', 'prisma.config.js', 'prisma.config.mjs', 'prisma.config.cjs', '.config/prisma.ts']

// prisma.config.ts is TypeScript that Prisma evaluates; loading it here would need a TS runtime and
// run the project's code, so only its literal `migrations.path` and `schema` strings are read.
function fromPrismaConfig(projectDir: string): MigrationsDir | undefined {
  const file = CONFIG_FILES.map(name => join(projectDir, name)).find(path => existsSync(path))
  if (!file) return undefined
  const text = readFileSync(file, 'utf8')
  const base = dirname(file)
  const migrationsPath = /migrations\s*:\s*\{[^}]*?\bpath\s*:\s*(['"`])([^'"`]+)\1/s.exec(text)?.[2]
  if (migrationsPath) return {path: resolve(base, migrationsPath), source: `migrations.path in ${file}`}
  const schema = /\bschema\s*:\s*(['"`])([^'"`]+)\1/.exec(text)?.[2]
  if (schema) return {path: migrationsBesideSchema(resolve(base, schema)), source: `schema in ${file}`}
  return undefined
}

function fromPackageJson(projectDir: string): MigrationsDir | undefined {
  const file = join(projectDir, 'package.json')
  if (!existsSync(file)) return undefined
  const schema = (JSON.parse(readFileSync(file, 'utf8')) as {prisma?: {schema?: string}}).prisma?.schema
  return schema ? {path: migrationsBesideSchema(resolve(projectDir, schema)), source: `prisma.schema in ${file}`} : undefined
}

// A schema can be one file or a folder of .prisma files; the migrations folder sits beside the file or inside the folder.
const migrationsBesideSchema = (schema: string) =>
  join(existsSync(schema) && statSync(schema).isDirectory() ? schema : dirname(schema), 'migrations')

export function findMigrationsDir(projectDir: string, dirFlag?: string): MigrationsDir {
  const found = dirFlag
    ? {path: resolve(projectDir, dirFlag), source: '--dir'}
    : fromPrismaConfig(projectDir) ?? fromPackageJson(projectDir) ?? {path: join(projectDir, 'prisma', 'migrations'), source: 'the default prisma/migrations'}
  if (!existsSync(found.path) || !statSync(found.path).isDirectory()) {
    throw new Refused(`No Prisma migrations folder at ${found.path} (from ${found.source}): run this in the project's folder or pass --dir.`)
  }
  return found
}

// The migrations in Prisma's order: the immediate subfolders, sorted by name, each with its migration.sql.
export function readLocalMigrations(dir: string): LocalMigration[] {
  checkProvider(dir)
  return readdirSync(dir, {withFileTypes: true})
    .filter(entry => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map(entry => entry.name)
    .sort()
    .map(name => {
      const folder = join(dir, name)
      const downPath = join(folder, 'down.sql')
      return {name, dir: folder, sql: readFileSync(join(folder, 'migration.sql'), 'utf8'), downSql: existsSync(downPath) ? readFileSync(downPath, 'utf8') : undefined}
    })
}

function checkProvider(dir: string) {
  const lock = join(dir, 'migration_lock.toml')
  if (!existsSync(lock)) return
  const provider = /provider\s*=\s*"([^"]+)"/.exec(readFileSync(lock, 'utf8'))?.[1]
  if (provider && provider !== 'postgresql') {
    throw new Refused(`${lock} says these migrations are for ${provider}; Heroku Postgres needs postgresql migrations.`)
  }
}
