import type {MigrationCheck} from '../check/staircase.js'
import {type DownSql, downSqlsFor, findPrismaCli} from '../down-sql.js'
import type {LocalMigration} from '../project.js'
import {amendVerdict} from './by-hand.js'
import {writeGeneratedDowns} from './write.js'

// migrate:check --generate-missing: each migration without a down.sql gets one from Prisma, which the
// staircase then checks like a written one; --write keeps the ones it proves.

export interface Generation {
  // The migrations with their generated downs in place, for the staircase.
  migrations: LocalMigration[]
  generated: Map<string, Extract<DownSql, {kind: 'generated'}>>
  // Why a migration got none.
  failed: Map<string, string>
}

export interface GenerationOptions {
  projectDir: string
  migrationsDir: string
  // Only these need a down (migrate:check --from).
  wanted: (migration: LocalMigration) => boolean
  cacheDir?: string
}

export async function generateMissing(migrations: LocalMigration[], options: GenerationOptions): Promise<Generation> {
  const missing = migrations.filter(m => m.downSql === undefined && options.wanted(m))
  const downs = missing.length > 0
    ? await downSqlsFor(missing, migrations, {
      projectDir: options.projectDir, migrationsDir: options.migrationsDir, prisma: findPrismaCli(options.projectDir),
      shadowDatabaseUrl: process.env.SHADOW_DATABASE_URL, generate: {flag: '--generate-missing', enabled: true}, schema: 'public', cacheDir: options.cacheDir,
    })
    : new Map<string, DownSql>()
  const generated = new Map<string, Extract<DownSql, {kind: 'generated'}>>()
  const failed = new Map<string, string>()
  for (const [name, down] of downs) {
    if (down.kind === 'generated') generated.set(name, down)
    else if (down.kind === 'missing') failed.set(name, down.reason)
  }
  return {migrations: migrations.map(m => generated.has(m.name) ? {...m, downSql: generated.get(m.name)!.sql} : m), generated, failed}
}

// The generated SQL as the report shows it: without the provenance comment at its top, and without blank lines.
const shown = (sql: string) => sql.split('\n').filter(line => line.trim() !== '' && !/^-- (Down migration for|the diff from|schema\.prisma can model)/.test(line))

// Each verdict with what the generation says: the SQL, what to add by hand, where it was written.
export async function annotate(checks: MigrationCheck[], generation: Generation, write: boolean, dirs: Map<string, string>): Promise<MigrationCheck[]> {
  const annotated = await Promise.all(checks.map(async check => {
    const down = generation.generated.get(check.migration)
    const failure = generation.failed.get(check.migration)
    if (failure && check.verdict === 'no-down') return {...check, notes: [...check.notes, failure]}
    if (!down) return check
    const up = generation.migrations.find(m => m.name === check.migration)!.sql
    const amended = check.verdict === 'reverts' || check.verdict === 'differs' ? await amendVerdict(check, up, down.sql) : check
    return {...amended, generated: {by: down.command, note: down.note, sql: down.sql}, notes: [...amended.notes, 'generated down:', ...shown(down.sql).map(line => `  ${line}`)]}
  }))
  if (!write) return annotated
  const results = writeGeneratedDowns(annotated.filter(c => c.generated).map(c => ({migration: c.migration, dir: dirs.get(c.migration)!, sql: c.generated!.sql, verdict: c.verdict})))
  return annotated.map(check => {
    const result = results.find(r => r.migration === check.migration)
    if (!result) return check
    const line = result.written ? `written to ${result.path}` : `${result.path}: ${result.reason}`
    return {...check, generated: {...check.generated!, written: result.written ? result.path : undefined}, notes: [...check.notes, line]}
  })
}
