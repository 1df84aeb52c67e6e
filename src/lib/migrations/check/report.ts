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
  detail: headline(check, allowMissingDown),
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

export function describeReport(report: CheckReport, allowMissingDown: boolean): string {
  return [
    `Migrations folder: ${report.migrationsDir}`,
    `Scratch database: ${report.database}${report.data ? ', with sample rows in every table before each down' : ''}`,
    '',
    ...checkLines(report.migrations.map(check => migrationCheckLine(check, allowMissingDown))),
    '',
    describeSummary(report, allowMissingDown),
  ].join('\n')
}
