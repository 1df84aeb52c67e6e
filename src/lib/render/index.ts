import {color} from '@heroku-cli/color'
import type {Check} from '../checks.js'
import {printable} from '../names.js'
import type {StepState} from '../runner/ledger.js'
import type {Step} from '../runner/step.js'

// How every command prints its checks, its steps and what became of them: the same symbols, columns and
// words in safe-rollback, db:recover, migrate:down, migrate:check and the run log. Colour only where
// @heroku-cli/color sees a terminal (never with NO_COLOR, never in a pipe or a CI log).

// A sentence's first letter: `the sequence fence and --verify connect` → `The sequence fence…`.
export const upperFirst = (text: string) => text.replace(/^[a-z]/, c => c.toUpperCase())

export const CHECK_MARKS: Record<Check['outcome'], string> = {passed: '✓', failed: '✗', warning: '!', skipped: '-'}


export const STEP_MARKS: Record<StepState, string> = {
  done: '✓', failed: '✗', unknown: '?', interrupted: '✗', 'not run': '-', undone: '↺', 'undo failed': '✗', 'left running': '…', started: '…',
}

const paint: Record<Check['outcome'], (text: string) => string> = {passed: color.green, failed: color.red, warning: color.yellow, skipped: color.dim}

export interface CheckLine extends Check {
  // Lines under the detail, in its column (a migration's differences).
  more?: string[]
}

// One line per check: mark, name in a column as wide as the longest name, detail. For example
//   ✓ release  v50 succeeded and is eligible for rollback.
//   ✗ backups  DATABASE (postgresql-curved-65626): newest good backup a001 is 2d old (limit 1d).
export function checkLines(checks: CheckLine[]): string[] {
  const width = Math.max(0, ...checks.map(c => printable(c.name).length))
  return checks.flatMap(check => [
    `  ${paint[check.outcome](CHECK_MARKS[check.outcome])} ${printable(check.name).padEnd(width)}  ${printable(check.detail)}`.trimEnd(),
    ...(check.more ?? []).map(line => `${' '.repeat(width + 6)}${printable(line)}`),
  ])
}

export const checksSection = (checks: CheckLine[]): string[] => ['Checks:', ...checkLines(checks)]

// A plan's steps, numbered, each with its undo.
export function stepList(steps: Step<any>[]): string[] {
  const width = String(steps.length).length
  return steps.map((step, i) => {
    const undo = step.undo?.(undefined)
    const back = undo ? ` (undo: ${undo.automatic ? `${undo.title.toLowerCase()}, by itself on failure or Ctrl-C` : `\`${undo.command}\``})` : ''
    return `  ${String(i + 1).padStart(width)}. ${printable(step.title)}${printable(back)}`
  })
}

// What is true of one step now: mark, title, and what became of it.
export const stepLine = (state: StepState, title: string, detail?: string): string => `  ${STEP_MARKS[state]} ${printable(title)}${detail ? `: ${printable(detail)}` : ''}`
