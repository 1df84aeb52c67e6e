import {printable} from '../names.js'
import type {ReplayResult} from './replay.js'
import type {ReconcileSummary} from './plan.js'

// What the terminal shows: counts per table and where the rows are, never a row value.

const pad = (cells: string[][]) => {
  const widths = cells[0].map((_, i) => Math.max(...cells.map(row => row[i].length)))
  return cells.map(row => `  ${row.map((cell, i) => i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join('  ')}`.trimEnd())
}

const rows = (n: number) => `${n} row${n === 1 ? '' : 's'}`

export function describeSummary(summary: ReconcileSummary): string {
  const since = summary.since ? ` (recovery point ${summary.since})` : ''
  const lines = [`Compared ${summary.from}, the database from before the recovery (OLD), with ${summary.to}, the recovered one, on ${summary.app}${since}.`, '']
  if (summary.tables.length > 0) {
    lines.push(...pad([
      ['table', 'written after (inserted)', 'updated after', 'deleted after'],
      ...summary.tables.map(t => [printable(t.table) + (t.mode === 'multiset' ? ' (no primary key)' : ''), String(t.inserted), String(t.updated), String(t.deleted)]),
    ]))
  } else {
    lines.push('  No table is in both databases.')
  }
  const notes = [
    ...summary.tables.flatMap(t => t.warnings.map(w => `${printable(t.table)}: ${w}`)),
    ...(summary.tablesOnlyInOld.length > 0 ? [`only in OLD, not compared: ${summary.tablesOnlyInOld.map(printable).join(', ')}`] : []),
    ...(summary.tablesOnlyInDatabase.length > 0 ? [`only in DATABASE, not compared: ${summary.tablesOnlyInDatabase.map(printable).join(', ')}`] : []),
  ]
  if (notes.length > 0) lines.push('', ...notes.map(n => `Warning: ${n}`))
  const {inserted, updated, deleted} = summary.totals
  lines.push('', `${rows(inserted)} written and ${updated} updated after the recovery point ${inserted + updated === 1 ? 'is' : 'are'} only in OLD; ${rows(deleted)} of DATABASE ${deleted === 1 ? 'is' : 'are'} no longer in OLD.`,
    `Rows (personal data: keep the folder private) and replay.sql are in ${summary.folder}`,
    `Compared in ${summary.cost.durationMs} ms with ${summary.cost.queries} queries; ${summary.cost.rowsFetched} rows of hashes, keys and data were fetched.`)
  return lines.join('\n')
}

export function describeReplay(result: ReplayResult): string {
  const changed = Object.entries(result.changed)
  const conflicts = Object.entries(result.conflicts)
  const lines = changed.every(([, n]) => n === 0)
    ? [conflicts.length > 0 ? 'replay.sql changed no row.' : 'replay.sql changed nothing: every write was already there.']
    : ['Carried over, in one transaction (rows inserted or updated per table):', ...pad(changed.map(([table, n]) => [table, String(n)]))]
  if (conflicts.length > 0) {
    const total = conflicts.reduce((sum, [, n]) => sum + n, 0)
    lines.push(`Not carried over: ${rows(total)} ${total === 1 ? 'conflicts' : 'conflict'} with an existing row of DATABASE on another unique key, so DATABASE does not have them:`,
      ...pad(conflicts.map(([table, n]) => [table, String(n)])), `The statements are in ${result.conflictsFile}: decide on each by hand.`)
  }
  if (result.sequences.length > 0) {
    lines.push(`Moved ${result.sequences.length} sequence${result.sequences.length === 1 ? '' : 's'} past the rows carried over, in the same transaction: ${result.sequences.map(s => `${printable(s.sequence)} to ${s.to}`).join(', ')}.`)
  }
  return lines.join('\n')
}
