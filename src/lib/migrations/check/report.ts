import type {Check} from '../../checks.js'
import {checkLines, CheckLine} from '../../render/index.js'
import type {MigrationCheck, Verdict} from './staircase.js'

// The staircase's verdicts as migrate:check reports them: one line per migration, then a summary; the
// same object is the --json document.

export interface CheckReport {
  migrationsDir: string
  database: string
  data: boolean
  migrations: MigrationCheck[]
  summary: Record<Verdict, number>
  // 0 every checked down reverts exactly; 1 something is wrong; 3 nothing wrong found, but not everything could be checked.
  exitCode: number
  passed: boolean
}

const VERDICTS: Verdict[] = ['reverts', 'differs', 'no-down', 'broken', 'cannot-check', 'not-checked']

export function summarize(migrationsDir: string, database: string, data: boolean, checks: MigrationCheck[], allowMissingDown: boolean): CheckReport {
  const summary = Object.fromEntries(VERDICTS.map(v => [v, checks.filter(c => c.verdict === v).length])) as Record<Verdict, number>
  const wrong = summary.differs + summary.broken + (allowMissingDown ? 0 : summary['no-down'])
  const unchecked = summary['cannot-check'] + summary['not-checked']
  const exitCode = wrong > 0 ? 1 : unchecked > 0 ? 3 : 0
  return {migrationsDir, database, data, migrations: checks, summary, exitCode, passed: exitCode === 0}
}

const OUTCOME: Record<Verdict, Check['outcome']> = {reverts: 'passed', differs: 'failed', 'no-down': 'failed', broken: 'failed', 'cannot-check': 'skipped', 'not-checked': 'skipped'}

function headline(check: MigrationCheck, allowMissingDown: boolean): string {
  switch (check.verdict) {
    case 'reverts': return 'reverts exactly'
    case 'differs': return `${check.problems.length} difference${check.problems.length === 1 ? '' : 's'}`
    case 'no-down': return allowMissingDown ? 'no down.sql (accepted with --allow-missing-down)' : 'no down.sql'
    case 'broken': return 'migration.sql itself fails'
    case 'cannot-check': return 'cannot check here, use --database-url'
    case 'not-checked': return 'not checked'
  }
}

// Each migration as a check line (the same marks and columns as every command's checks), its differences under it.
export const migrationCheckLine = (check: MigrationCheck, allowMissingDown = false): CheckLine => ({
  name: check.migration,
  outcome: check.verdict === 'no-down' && allowMissingDown ? 'warning' : OUTCOME[check.verdict],
  detail: `${headline(check, allowMissingDown)}${check.generated ? ' (generated down)' : ''}`,
  more: [...check.problems, ...check.drops, ...check.notes],
})

export function describeSummary(report: CheckReport, allowMissingDown: boolean): string {
  const {summary} = report
  const parts = [
    summary.reverts > 0 && `${summary.reverts} revert${summary.reverts === 1 ? 's' : ''} exactly`,
    summary.differs > 0 && `${summary.differs} with differences`,
    summary['no-down'] > 0 && `${summary['no-down']} without down.sql${allowMissingDown ? ' (accepted)' : ''}`,
    summary.broken > 0 && `${summary.broken} whose migration.sql fails`,
    summary['cannot-check'] + summary['not-checked'] > 0 && `${summary['cannot-check'] + summary['not-checked']} not checked here (each line says why; use --database-url)`,
  ].filter(Boolean)
  const total = report.migrations.length
  return `${total} migration${total === 1 ? '' : 's'} checked: ${parts.length > 0 ? parts.join(', ') : 'none'}.`
}

// With --generate-missing: how the downs were generated (engine and release), and what --write did or would do.
function generationLines(report: CheckReport): {header: string[], footer: string[]} {
  const generated = report.migrations.filter(m => m.generated)
  const missing = report.summary['no-down']
  if (generated.length === 0) return {header: [], footer: missing > 0 && !report.migrations.some(m => m.verdict === 'no-down' && m.notes.length > 0) ? ['Generate the missing downs with --generate-missing (Prisma\'s schema engine, compiled to WebAssembly: no binary needed).'] : []}
  const notes = [...new Set(generated.map(m => m.generated!.note).filter(Boolean))]
  const proven = generated.filter(m => m.verdict === 'reverts')
  const written = generated.filter(m => m.generated!.written)
  const rows = report.data ? '' : ' Each was checked with sample rows in its tables.'
  return {
    header: [`Generated downs: ${generated.length}, for the migrations without a down.sql.${rows} ${notes.join(' ')}`.trimEnd()],
    footer: written.length > 0 || proven.length === 0 ? [] : [`Keep the ${proven.length} generated down(s) that revert exactly with --write (each becomes down.sql beside its migration.sql).`],
  }
}

export function describeReport(report: CheckReport, allowMissingDown: boolean): string {
  const generation = generationLines(report)
  return [
    `Migrations folder: ${report.migrationsDir}`,
    `Scratch database: ${report.database}${report.data ? ', with sample rows in every table before each down' : ''}`,
    ...generation.header,
    '',
    ...checkLines(report.migrations.map(check => migrationCheckLine(check, allowMissingDown))),
    '',
    describeSummary(report, allowMissingDown),
    ...generation.footer,
  ].join('\n')
}
