import {join} from 'node:path'
import {Refused, SafeRollbackError} from '../../errors.js'
import type {Progress} from '../../runner/runner.js'
import {firstLine} from '../plan.js'
import {findMigrationsDir, type LocalMigration, readLocalMigrations} from '../project.js'
import {parseStatements, runsProgram} from '../statements.js'
import {type CheckReport, summarize} from './report.js'
import {extensionsOf} from '../extensions.js'
import {pgliteScratch, type Scratch, urlScratch} from './scratch.js'
import {isEmptySnapshot, takeSnapshot} from './snapshot.js'
import {runStaircase, type StaircaseOptions} from './staircase.js'

export interface CheckOptions {
  projectDir: string
  dir?: string
  from?: string
  data: boolean
  databaseUrl?: string
  // Where PGlite's initialized data folder is kept between runs.
  cacheDir?: string
  progress?: Progress
  // --generate-missing: a down for each migration without one, from Prisma's schema engine; --write keeps the proven ones.
  generate?: {write: boolean}
}

// A check that found something wrong (exit 1), or could not check everything (exit 3).
export class CheckFailed extends SafeRollbackError {
  constructor(report: CheckReport) {
    const {summary} = report
    const wrong = summary.differs + summary.broken + summary['no-down']
    super(report.exitCode === 1
      ? `${wrong} migration(s) cannot be reverted safely by their down.sql: see the lines marked FAIL.`
      : 'Some migrations could not be checked on this PostgreSQL: see the lines marked skip.', 'Nothing was changed: the check ran on a scratch database.', report as unknown as Record<string, unknown>)
    this.exitCode = report.exitCode
  }
}

export {extensionsOf} from '../extensions.js'

// A migration that runs a program on the database server is refused before anything runs: a shell
// command is nothing a check may run, on PGlite (where it never ends) or on --database-url.
export async function refusePrograms(migrations: LocalMigration[]) {
  for (const migration of migrations) {
    for (const [file, sql] of [['migration.sql', migration.sql], ['down.sql', migration.downSql]] as const) {
      if (!sql || !/\bprogram\b/i.test(sql)) continue
      const statement = (await parseStatements(sql, file).catch(() => [])).find(runsProgram)
      if (statement) {
        throw new Refused(`${join(migration.dir, file)}: \`${firstLine(statement.text)}\` runs a program on the database server (COPY ... PROGRAM), which migrate:check never does: nothing was checked.`)
      }
    }
  }
}

export async function openScratch(migrations: LocalMigration[], databaseUrl?: string, cacheDir?: string): Promise<Scratch> {
  if (!databaseUrl) return pgliteScratch(await extensionsOf(migrations), cacheDir)
  const db = await urlScratch(databaseUrl).catch(error => {
    throw new Refused(`Could not connect to --database-url: ${(error as Error).message}.`)
  })
  const found = await takeSnapshot(db)
  if (!isEmptySnapshot(found)) {
    await db.close()
    const objects = Object.values(found).filter(o => o.kind !== 'column').map(o => `${o.kind} ${o.name}`)
    const some = `${objects.slice(0, 3).join(', ')}${objects.length > 3 ? ', ...' : ''}`
    throw new Refused(`The database at ${db.where} is not empty (it has ${some}): the check applies every migration to it, so give it an empty one.`)
  }
  return db
}

// Progress on long runs: a line at most every few seconds, so that CI logs stay short.
export const PROGRESS_EVERY_MS = 5000

export function throttled(progress: Progress | undefined, total: number, now = Date.now): StaircaseOptions['progress'] {
  if (!progress) return undefined
  let last = now()
  return (done, _total, migration) => {
    if (done === total || now() - last < PROGRESS_EVERY_MS) return
    last = now()
    progress.status(`${done}/${total}: ${migration}`)
  }
}

async function generate(migrations: LocalMigration[], migrationsDir: string, wanted: (m: LocalMigration) => boolean, options: CheckOptions) {
  const {generateMissing} = await import('../generate/missing.js')
  const missing = migrations.filter(m => m.downSql === undefined && wanted(m)).length
  options.progress?.start(`Generating ${missing} missing down(s) with Prisma's schema engine`)
  try {
    const generation = await generateMissing(migrations, {projectDir: options.projectDir, migrationsDir, wanted, cacheDir: options.cacheDir})
    options.progress?.stop('done')
    return generation
  } catch (error) {
    options.progress?.stop('failed')
    throw error
  }
}

export async function checkMigrations(options: CheckOptions, allowMissingDown: boolean): Promise<CheckReport> {
  const migrationsDir = findMigrationsDir(options.projectDir, options.dir)
  const migrations = readLocalMigrations(migrationsDir.path)
  if (migrations.length === 0) throw new Refused(`${migrationsDir.path} holds no migrations (no subfolder with a migration.sql).`)
  if (options.from && !migrations.some(m => m.name === options.from)) {
    throw new Refused(`--from ${options.from} is not a migration in ${migrationsDir.path}. The newest: ${migrations.slice(-3).map(m => m.name).join(', ')}.`)
  }
  await refusePrograms(migrations)
  const checked = (m: LocalMigration) => !options.from || m.name >= options.from
  const generation = options.generate && await generate(migrations, migrationsDir.path, checked, options)
  const db = await openScratch(migrations, options.databaseUrl, options.cacheDir)
  options.progress?.start(`Checking ${migrations.length} migration(s) on ${db.where}`)
  try {
    let checks = await runStaircase(db, generation?.migrations ?? migrations, {
      // Generated downs always get rows in their tables: a step of Prisma's that fails on them is the usual way it is wrong.
      data: options.data || (generation ? m => generation.generated.has(m.name) : false),
      check: options.from ? checked : undefined,
      progress: throttled(options.progress, migrations.length),
    })
    options.progress?.stop('done')
    if (generation) {
      const {annotate} = await import('../generate/missing.js')
      checks = await annotate(checks, generation, options.generate!.write, new Map(migrations.map(m => [m.name, m.dir])))
    }
    const where = db.throwaway ? db.where : `${db.where} (it now holds the schema of the newest migration)`
    return summarize(`${migrationsDir.path} (${migrationsDir.source})`, where, options.data, checks, allowMissingDown)
  } catch (error) {
    options.progress?.stop('failed')
    throw error
  } finally {
    await db.close()
  }
}
