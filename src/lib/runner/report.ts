import {SafeRollbackError} from '../errors.js'
import {exitCodeOf} from '../interrupts.js'
import type {RunOutcome, StepReport} from './runner.js'
import type {Step} from './step.js'

// How a plan's steps and a run's outcome read: the same marks and words for every command.

const MARKS: Record<StepReport['state'], string> = {
  done: '✓', failed: '✗', unknown: '?', interrupted: '✗', 'not run': '-', undone: '↺', 'undo failed': '✗', 'left running': '…',
}

const CHANGE = {
  'not made': '; nothing was changed',
  made: ' after its change was made',
  unknown: '; it may or may not have happened: reading the state back did not tell',
}

export function describeSteps(steps: Step<any>[]): string[] {
  return steps.map((step, i) => {
    const undo = step.undo?.(undefined)
    const back = undo ? ` (undo: ${undo.automatic ? `${undo.title.toLowerCase()}, by itself on failure or Ctrl-C` : `\`${undo.command}\``})` : ''
    return `  ${i + 1}. ${step.title}${back}`
  })
}

// One line per step, saying what is true of it now; the error itself is the headline above.
function stepLine(report: StepReport): string {
  const detail = report.state === 'undone' ? `undone (${report.undo?.title.toLowerCase()}; read back)`
    : report.state === 'undo failed' ? `NOT undone: ${report.undo?.title.toLowerCase()} failed (${report.error}); run \`${report.undo?.command}\``
      : report.state === 'failed' || report.state === 'interrupted' ? `${report.state}${CHANGE[report.change ?? 'not made']}`
        : report.state === 'unknown' ? CHANGE.unknown.slice(2)
          : report.state === 'left running' ? report.error
            : report.state === 'not run' ? report.note ?? 'not run' : report.note
  return `  ${MARKS[report.state]} ${report.title}${detail ? `: ${detail}` : ''}`
}

export function describeRun(outcome: RunOutcome): string {
  const lines = outcome.steps.map(stepLine)
  if (outcome.finish.length > 0) lines.push('To finish what was left:', ...outcome.finish.map(c => `  ${c}`))
  if (outcome.undo.length > 0) lines.push(`To undo what was done: ${outcome.undo.map(c => `\`${c}\``).join(', then ')}`)
  lines.push(`Run log: heroku recovery:log --app ${appOf(outcome)} (run ${outcome.run})`)
  return lines.join('\n')
}

const appOf = (outcome: RunOutcome) => outcome.log.split('/').at(-2)

// The run as --json reports it.
export const runJson = (outcome: RunOutcome) =>
  ({id: outcome.run, status: outcome.status, steps: outcome.steps, finish: outcome.finish, undo: outcome.undo})

// A run that did not succeed: the error, the true state of every step, and the commands that finish or undo.
export class RunFailed extends SafeRollbackError {
  constructor(readonly outcome: RunOutcome, details: Record<string, unknown>) {
    super(outcome.error ?? 'The run did not finish.', describeRun(outcome), details)
    this.exitCode = outcome.signal ? exitCodeOf(outcome.signal) : 1
  }
}
