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

const MARK: Record<Verdict, string> = {reverts: 'ok  ', differs: 'FAIL', 'no-down': 'FAIL', broken: 'FAIL', 'cannot-check': 'skip', 'not-checked': 'skip'}

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

export const describeMigrationCheck = (check: MigrationCheck, allowMissingDown = false): string[] => [
  `  ${check.verdict === 'no-down' && allowMissingDown ? 'warn' : MARK[check.verdict]}  ${check.migration}  ${headline(check, allowMissingDown)}`,
  ...[...check.problems, ...check.drops, ...check.notes].map(line => `          ${line}`),
]

export function describeSummary(report: CheckReport, allowMissingDown: boolean): string {
  const {summary} = report
  const parts = [
    summary.reverts > 0 && `${summary.reverts} revert${summary.reverts === 1 ? 's' : ''} exactly`,
    summary.differs > 0 && `${summary.differs} with differences`,
    summary['no-down'] > 0 && `${summary['no-down']} without down.sql${allowMissingDown ? ' (accepted)' : ''}`,
    summary.broken > 0 && `${summary.broken} whose migration.sql fails`,
    summary['cannot-check'] + summary['not-checked'] > 0 && `${summary['cannot-check'] + summary['not-checked']} not checked here (use --database-url with a PostgreSQL that has the extension)`,
  ].filter(Boolean)
  const total = report.migrations.length
  return `${total} migration${total === 1 ? '' : 's'} checked: ${parts.length > 0 ? parts.join(', ') : 'none'}.`
}

export function describeReport(report: CheckReport, allowMissingDown: boolean): string {
  return [
    `Migrations folder: ${report.migrationsDir}`,
    `Scratch database: ${report.database}${report.data ? ', with sample rows in every table before each down' : ''}`,
    '',
    ...report.migrations.flatMap(check => describeMigrationCheck(check, allowMissingDown)),
    '',
    describeSummary(report, allowMissingDown),
  ].join('\n')
}
