import type {Check} from '../checks.js'
import type {Finding, Verdict} from '../schema/compat.js'
import {blocking} from '../checks.js'
import {Refused} from '../errors.js'
import {matchesChecksum} from './checksum.js'
import type {LossFinding} from './data-loss.js'
import type {DownSql} from './down-source.js'
import {HistoryRow, isApplied, isFailed} from './history.js'
import type {LocalMigration} from './project.js'
import {nonTransactionalReason, Statement} from './statements.js'

// The pure half of migrate:down: from what was read (local folders, `_prisma_migrations`, the down
// SQL and the live data) to a plan with a reason for every decision. No I/O here.

export interface Target {
  steps?: number
  to?: string
}

export interface Selection {
  // Applied migrations in Prisma's order (folder names sorted).
  applied: string[]
  // What to revert, newest first: the order the down scripts run in.
  revert: LocalMigration[]
  keep: string | null
  checks: Check[]
}

export const SCHEMA_ONLY_NOTE = 'A down migration reverts schema changes, not data changes: rows that these migrations inserted, '
  + 'updated, backfilled or deleted stay as they are (restore a backup for those).'

export const BOOKKEEPING = 'The reverted migrations\' rows are deleted from _prisma_migrations in the same transaction (so '
  + '`prisma migrate status` lists them as not applied and `prisma migrate deploy` applies them again); a copy of each deleted row '
  + 'is kept in heroku_migrate_down.reverted_migrations, outside the schema Prisma manages.'

const failedRowAdvice = (row: HistoryRow) =>
  `${row.migration_name} failed at ${row.started_at.toISOString()} after ${row.applied_steps_count} step(s) and may be half-applied: `
  + `repair the schema by hand, then run \`npx prisma migrate resolve --rolled-back ${row.migration_name}\` (or \`--applied\` if it completed) before reverting anything.`

export function selectReverts(local: LocalMigration[], rows: HistoryRow[], target: Target): Selection {
  const applied = [...new Set(rows.filter(isApplied).map(r => r.migration_name))].sort()
  const failed = rows.filter(isFailed)
  const checks: Check[] = []
  checks.push(failed.length > 0
    ? {name: 'history', outcome: 'failed', detail: failed.map(failedRowAdvice).join(' ')}
    : {name: 'history', outcome: 'passed', detail: `${applied.length} migration(s) applied, none failed.`})

  const names = namesToRevert(applied, target)
  const byName = new Map(local.map(m => [m.name, m]))
  const missing = names.filter(name => !byName.has(name))
  const keep = applied[applied.length - names.length - 1] ?? null
  const pendingBelow = local.filter(m => !applied.includes(m.name) && applied.length > 0 && m.name < applied.at(-1)!).map(m => m.name)
  // Refused outright rather than as a failed check: when every migration to revert is missing, there
  // would be no step left to show the check beside.
  if (missing.length > 0) {
    throw new Refused(`${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} applied in the database but not in the local migrations folder: run this from a checkout that has ${missing.length === 1 ? 'it' : 'them'}.`)
  }
  if (names.length > 0) {
    const gaps = pendingBelow.length > 0 ? ` Note: ${pendingBelow.join(', ')} ${pendingBelow.length === 1 ? 'is' : 'are'} in the folder but not applied, older than the newest applied one.` : ''
    checks.push({name: 'order', outcome: pendingBelow.length > 0 ? 'warning' : 'passed', detail: `Reverting the newest ${names.length} applied, newest first: ${[...names].reverse().join(', ')}; ${keep ? `${keep} stays the newest applied.` : 'no migration stays applied.'}${gaps}`})
  }
  return {applied, revert: [...names].reverse().map(name => byName.get(name)!), keep, checks}
}

function namesToRevert(applied: string[], target: Target): string[] {
  if (target.to !== undefined) {
    const index = applied.indexOf(target.to)
    if (index === -1) throw new Refused(`${target.to} is not an applied migration of this database. Applied: ${applied.length > 0 ? applied.join(', ') : 'none'}.`)
    return applied.slice(index + 1)
  }
  const steps = target.steps ?? 1
  if (steps > applied.length) throw new Refused(`--steps ${steps} asks for more than the ${applied.length} applied migration(s).`)
  return applied.slice(applied.length - steps)
}

// --- The plan ------------------------------------------------------------------------------------

export interface DownStep {
  migration: string
  source: string
  // The Prisma command that produced the SQL, when it was generated.
  command?: string
  statements: string[]
}

export interface DownPlan {
  app: string
  database: string
  migrationsDir: string
  steps: DownStep[]
  keep: string | null
  checks: Check[]
  dataLoss: LossFinding[]
  // The other apps on the database and whether their code fits the schema the down leaves.
  otherApps: OtherApp[]
  settings: {lockTimeout: string, statementTimeout: string | null}
  bookkeeping: string
  note: string
  blocked: boolean
}

export interface PlanInput {
  app: string
  database: string
  migrationsDir: string
  selection: Selection
  rows: HistoryRow[]
  downs: Map<string, DownSql>
  statements: Map<string, Statement[]>
  dataLoss: LossFinding[]
  backups: Check
  // The staircase of the down SQL on a scratch database (check/down-check.ts).
  downCheck?: Check
  allowDataLoss: boolean
  ignoreChecksum: boolean
  lockTimeout: string
  statementTimeout: string | null
  // The other apps attached to the database, with whether their code fits the schema the down leaves.
  otherApps?: OtherApp[]
  // Revert even when another app's code does not fit the schema the down leaves.
  acceptSchemaRisk?: boolean
}

// Another app on the database, and whether the code it runs now fits the schema the down leaves.
export interface OtherApp {
  app: string
  // Its attachment names.
  names: string[]
  // Its current release, when it could be read.
  release?: number
  from?: 'git' | 'slug'
  verdict: Verdict | 'unknown'
  // Why it could not be told.
  reason?: string
  findings: Finding[]
}

const blockFindings = (other: OtherApp) => other.findings.filter(f => f.level === 'block')

function otherVerdict(other: OtherApp, acceptRisk: boolean): string {
  const who = `${other.app}${other.release === undefined ? '' : ` v${other.release}`}`
  const from = other.from ? ` (read from ${other.from === 'git' ? 'the git repository' : 'its slug'})` : ''
  switch (other.verdict) {
    case 'unknown': return `${who}: whether its code still fits is not checked: ${other.reason}`
    case 'compatible': return `${who}: its code${from} fits the schema the down leaves`
    case 'warnings': return `${who}: its code${from} fits the schema the down leaves, with ${other.findings.length} point(s) to review: ${other.findings.map(f => f.message).join('; ')}`
    case 'blocked': {
      const found = blockFindings(other).map(f => `${f.message}${f.migration ? ` (${f.migration})` : ''}`).join('; ')
      return `${who}: its code${from} does NOT fit the schema the down leaves: ${found}${acceptRisk ? '; going on anyway: --accept-schema-risk' : ''}`
    }
  }
}

// Other apps run their own code on the schema the down leaves: a misfit refuses unless --accept-schema-risk;
// an app whose code cannot be read is said, not refused.
export function otherAppsCheck(database: string, others: OtherApp[], acceptRisk: boolean): Check[] {
  if (others.length === 0) return []
  const one = others.length === 1
  const apps = `${others.map(s => `${s.app} (${s.names.join(', ')})`).join(', ')} also ${one ? 'uses' : 'use'} ${database}: ${one ? 'its' : 'their'} code meets the reverted schema too`
  if (others.every(o => o.verdict === 'unknown')) {
    return [{name: 'other apps', outcome: 'warning', detail: `${apps}, and whether it still fits is not checked: ${others.map(o => `${o.app}: ${o.reason}`).join('; ')}.`}]
  }
  const misfits = others.filter(o => o.verdict === 'blocked')
  const verdicts = others.map(o => otherVerdict(o, acceptRisk)).join('. ')
  if (misfits.length > 0 && !acceptRisk) {
    const which = misfits.map(o => o.app).join(', ')
    return [{name: 'other apps', outcome: 'failed', detail: `${apps}. ${verdicts}. Roll ${which} back to code that fits first, or pass --accept-schema-risk to revert anyway.`}]
  }
  const outcome = others.every(o => o.verdict === 'compatible') ? 'passed' : 'warning'
  return [{name: 'other apps', outcome, detail: `${apps}. ${verdicts}.`}]
}

function checksumCheck(selection: Selection, rows: HistoryRow[], ignore: boolean): Check {
  const drifted = selection.revert.filter(m => {
    const recorded = rows.filter(r => r.migration_name === m.name && isApplied(r)).at(-1)?.checksum
    return recorded !== undefined && !matchesChecksum(m.sql, recorded)
  }).map(m => m.name)
  if (drifted.length === 0) return {name: 'checksums', outcome: 'passed', detail: 'Each migration.sql matches the checksum Prisma recorded when applying it.'}
  const detail = `${drifted.join(', ')}: migration.sql differs from what was applied (sha256 mismatch), so its down SQL may not match the schema`
  return ignore
    ? {name: 'checksums', outcome: 'warning', detail: `${detail}; going ahead because of --ignore-checksum.`}
    : {name: 'checksums', outcome: 'failed', detail: `${detail}. Check out the commit that applied it, or pass --ignore-checksum.`}
}

function downSqlCheck(selection: Selection, downs: Map<string, DownSql>): Check {
  const sources = selection.revert.map(m => downs.get(m.name)!)
  const missing = sources.filter((d): d is Extract<DownSql, {kind: 'missing'}> => d.kind === 'missing')
  if (missing.length > 0) return {name: 'down-sql', outcome: 'failed', detail: missing.map(d => d.reason).join(' ')}
  const generated = selection.revert.filter(m => downs.get(m.name)!.kind === 'generated').map(m => m.name)
  const notes = [...new Set(sources.map(d => d.kind === 'generated' ? d.note : undefined).filter(Boolean))]
  return generated.length > 0
    ? {name: 'down-sql', outcome: 'warning', detail: [`Generated by Prisma for ${generated.join(', ')}: Prisma's diff only knows what schema.prisma models, so hand-written SQL (views, triggers, functions) is not reverted. Review it with --dry-run.`, ...notes].join(' ')}
    : {name: 'down-sql', outcome: 'passed', detail: 'Every migration to revert has a down.sql.'}
}

function transactionCheck(selection: Selection, statements: Map<string, Statement[]>): Check {
  const problems = selection.revert.flatMap(m => (statements.get(m.name) ?? []).map(s => ({m, s, reason: nonTransactionalReason(s)})))
    .filter(p => p.reason)
    .map(p => `${p.m.name}: \`${firstLine(p.s.text)}\`: ${p.reason}`)
  return problems.length > 0
    ? {name: 'transaction', outcome: 'failed', detail: `All steps run in one transaction so that a failure changes nothing, and these statements cannot: ${problems.join('; ')}. Run them by hand outside a transaction (say, drop the index without CONCURRENTLY in down.sql).`}
    : {name: 'transaction', outcome: 'passed', detail: 'Every statement can run inside the single transaction.'}
}

function dataLossCheck(findings: LossFinding[], allow: boolean): Check {
  const losing = findings.filter(f => f.loses)
  if (losing.length === 0) {
    return {name: 'data-loss', outcome: 'passed', detail: findings.length > 0 ? `Nothing would be lost: ${findings.map(f => f.detail).join('; ')}.` : 'No statement drops or narrows anything.'}
  }
  const detail = losing.map(f => `${f.migration}: ${f.detail}`).join('; ')
  return allow
    ? {name: 'data-loss', outcome: 'warning', detail: `Data will be lost: ${detail}. Going ahead because of --allow-data-loss.`}
    : {name: 'data-loss', outcome: 'failed', detail: `Data would be lost: ${detail}. Pass --allow-data-loss to accept it.`}
}

export const firstLine = (sql: string) => {
  const line = sql.split('\n').map(l => l.trim()).find(l => l && !l.startsWith('--')) ?? sql.trim()
  return line.length > 120 ? `${line.slice(0, 117)}...` : line
}

const sourceOf = (down: DownSql) => down.kind === 'file' ? down.path : down.kind === 'generated' ? 'generated by prisma migrate diff' : 'missing'

export function planDown(input: PlanInput): DownPlan {
  const {selection} = input
  const checks: Check[] = [
    ...selection.checks,
    checksumCheck(selection, input.rows, input.ignoreChecksum),
    downSqlCheck(selection, input.downs),
    transactionCheck(selection, input.statements),
    ...input.downCheck ? [input.downCheck] : [],
    dataLossCheck(input.dataLoss, input.allowDataLoss),
    input.backups,
    ...otherAppsCheck(input.database, input.otherApps ?? [], input.acceptSchemaRisk ?? false),
    {name: 'schema-only', outcome: 'warning', detail: SCHEMA_ONLY_NOTE},
  ]
  const steps = selection.revert.map(m => {
    const down = input.downs.get(m.name)!
    return {migration: m.name, source: sourceOf(down), command: down.kind === 'generated' ? down.command : undefined, statements: (input.statements.get(m.name) ?? []).map(s => s.text)}
  })
  return {
    app: input.app,
    database: input.database,
    migrationsDir: input.migrationsDir,
    steps,
    keep: selection.keep,
    checks,
    dataLoss: input.dataLoss,
    otherApps: input.otherApps ?? [],
    settings: {lockTimeout: input.lockTimeout, statementTimeout: input.statementTimeout},
    bookkeeping: BOOKKEEPING,
    note: SCHEMA_ONLY_NOTE,
    blocked: blocking(checks).length > 0,
  }
}
