import {join} from 'node:path'
import {printable} from '../names.js'
import type {View} from '../plan.js'
import {checksSection, stepList} from '../render/index.js'
import {runJson} from '../runner/report.js'
import {shellQuote} from '../shell.js'
import {dropBaseSql} from './base.js'
import type {ReconcileSummary} from './comparison.js'
import type {ReconcilePlan} from './plan.js'
import type {ReplayResult} from './replay.js'
import {describeAgainst, plural, rows} from './words.js'

// What the terminal shows: counts per table and where the rows are, never a row value.

const pad = (cells: string[][]) => {
  const widths = cells[0].map((_, i) => Math.max(...cells.map(row => row[i].length)))
  return cells.map(row => `  ${row.map((cell, i) => i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join('  ')}`.trimEnd())
}


export function preferWarning(prefer: 'old' | 'current'): string {
  return prefer === 'old'
    ? 'no base, --prefer old: where the databases differ, OLD\'s values are written over DATABASE\'s, and rows only in OLD are inserted: this overwrites writes DATABASE took after the promote and brings back rows deleted from it since.'
    : 'no base, --prefer current: rows both databases hold keep DATABASE\'s values; rows only in OLD are inserted, which brings back any row deleted from DATABASE after the promote.'
}

export function describeSummary(summary: ReconcileSummary): string {
  const since = summary.since ? ` (recovery point ${summary.since})` : ''
  const lines = [`Compared ${summary.from}, the database from before the recovery (OLD), with ${summary.to}, the recovered one (DATABASE), on ${summary.app}${since}.`]
  lines.push(summary.base
    ? `Comparison: ${describeAgainst(summary)}: only what OLD changed since the recovery point is carried over; what DATABASE changed since the promote is kept; what both changed is a conflict, for a person to decide.`
    : `Comparison: ${describeAgainst(summary)}: DATABASE holds no base recorded by db:recover, so who changed a row that differs cannot be told.`, '')
  if (summary.tables.length > 0) {
    lines.push(...pad([
      ['table', 'written after (inserted)', 'updated after', 'deleted after', 'conflicts', 'kept (DATABASE changed)'],
      ...summary.tables.map(t => [printable(t.table) + (t.mode === 'multiset' ? ' (no primary key)' : ''), String(t.inserted), String(t.updated), String(t.deleted), String(t.conflicts), String(t.kept)]),
    ]))
  } else {
    lines.push('  No table is in both databases.')
  }
  const notes = [
    ...(summary.base ? [] : [summary.prefer ? preferWarning(summary.prefer) : 'two-way comparison (no base): replay.sql holds every insert and update commented out, and --apply needs --prefer old|current.']),
    ...summary.tables.flatMap(t => t.warnings.map(w => `${printable(t.table)}: ${w}`)),
    ...(summary.tablesOnlyInOld.length > 0 ? [`only in OLD, not compared: ${summary.tablesOnlyInOld.map(printable).join(', ')}`] : []),
    ...(summary.tablesOnlyInDatabase.length > 0 ? [`only in DATABASE, not compared: ${summary.tablesOnlyInDatabase.map(printable).join(', ')}`] : []),
  ]
  if (notes.length > 0) lines.push('', ...notes.map(n => `Warning: ${n}`))
  const {inserted, updated, deleted, conflicts, kept} = summary.totals
  lines.push('', `Only in OLD: ${rows(inserted)} written and ${rows(updated)} updated after the recovery point. ${rows(deleted)} deleted from OLD after it ${deleted === 1 ? 'is' : 'are'} still in DATABASE (left for you to decide, commented out in replay.sql).`)
  if (summary.base) {
    const resolved = summary.prefer === 'old' ? 'they take OLD\'s values (--prefer old)' : 'not carried over'
    lines.push(`${conflicts === 0 ? 'No conflict (no row changed on both sides since the recovery point)' : `${plural(conflicts, 'conflict')} (changed on both sides since the recovery point): ${resolved}; both values are in conflicts.csv`}. ${rows(kept)} changed in DATABASE after the promote ${kept === 1 ? 'is' : 'are'} kept as ${kept === 1 ? 'it is' : 'they are'}.`)
  }
  lines.push(`Rows (personal data: keep the folder private) and replay.sql are in ${summary.folder}`,
    `Compared in ${summary.cost.durationMs} ms with ${plural(summary.cost.queries, 'query', 'queries')}; ${rows(summary.cost.rowsFetched)} of hashes, keys and data ${summary.cost.rowsFetched === 1 ? 'was' : 'were'} fetched.`)
  return lines.join('\n')
}

export function describeReplay(result: ReplayResult): string {
  const changed = Object.entries(result.changed)
  const conflicts = Object.entries(result.conflicts)
  const lines = changed.every(([, n]) => n === 0)
    ? [conflicts.length > 0 ? 'replay.sql changed no row.' : 'replay.sql changed nothing: every write was already there.']
    : ['Carried over, in one transaction (rows inserted or updated per table):', ...pad(changed.map(([table, n]) => [printable(table), String(n)]))]
  if (conflicts.length > 0) {
    const total = conflicts.reduce((sum, [, n]) => sum + n, 0)
    lines.push(`Not carried over: ${rows(total)} ${total === 1 ? 'conflicts' : 'conflict'} with an existing row of DATABASE on another unique key, so DATABASE does not have them:`,
      ...pad(conflicts.map(([table, n]) => [printable(table), String(n)])), `The statements are in ${result.conflictsFile}: decide on each by hand.`)
  }
  if (result.sequences.length > 0) {
    lines.push(`Moved ${plural(result.sequences.length, 'sequence')} past the rows carried over, in the same transaction: ${result.sequences.map(s => `${printable(s.sequence)} to ${s.to}`).join(', ')}.`)
  }
  return lines.join('\n')
}

interface Database {
  // As the user named it (--to), its label, and the app.
  given: string
  label: string
  app: string
}

export function dropBaseLine(summary: ReconcileSummary, database: Database): string | undefined {
  if (!summary.base) return undefined
  return `When you are done reconciling, drop the base db:recover recorded (each row's key and column hashes): \`${shellQuote(['heroku', 'pg:psql', database.given, '--app', database.app, '-c', dropBaseSql(summary.base.schema)])}\``
}

// After a comparison without --apply: how to carry the writes over.
export function describeNext(summary: ReconcileSummary, database: Database): string {
  const how = summary.base || summary.prefer
    ? `run it with --apply${summary.prefer ? ` --prefer ${summary.prefer}` : ''}`
    : 'run this again with --apply --prefer old|current (every statement in it is commented out: no base to tell who changed what)'
  const psql = `${shellQuote(['heroku', 'pg:psql', database.given, '--app', database.app])} < ${shellQuote([join(summary.folder, 'replay.sql')])}`
  const drop = dropBaseLine(summary, database)
  return [`Nothing was changed. To carry the writes over: review replay.sql, then ${how} (or \`${psql}\`).`, ...(drop ? [drop] : [])].join('\n')
}

// db:reconcile as the guarded skeleton shows it: the comparison, and with --apply its checks and steps.
// Without --apply (or with --dry-run) the skeleton's dry run says how to carry the writes over.
export const reconcileView: View<ReconcilePlan> = {
  preview: (plan, steps) => plan.summary
    ? [describeSummary(plan.summary), ...(plan.apply ? ['', ...checksSection(plan.checks), '', 'Steps:', ...stepList(steps)] : [])].join('\n')
    : [`Not compared: ${plan.old}, the database from before the recovery (OLD), with ${plan.database.label} (DATABASE), on ${plan.app}.`, '', ...checksSection(plan.checks)].join('\n'),
  dryRun: plan => `\n${describeNext(plan.summary!, {...plan.database, app: plan.app})}`,
  closing(plan, outcome) {
    const drop = dropBaseLine(plan.summary!, {...plan.database, app: plan.app})
    return [`\n${describeReplay(outcome.result<ReplayResult>('replay')!)}`, ...(drop ? [drop] : [])].join('\n')
  },
  json: (plan, _steps, outcome) => ({...plan.summary, applied: outcome?.result<ReplayResult>('replay') ?? null, run: outcome ? runJson(outcome) : undefined}),
}
