import {SafeRollbackError} from '../errors.js'
import {exitCodeOf} from '../interrupts.js'
import type {RunOutcome, StepReport} from './runner.js'
import {stepLine} from '../render/index.js'

// How a run's outcome reads (see render/ for the marks and columns every command shares).

const CHANGE = {
  'not made': '; nothing was changed',
  made: ' after its change was made',
  unknown: '; it may or may not have happened: reading the state back did not tell',
}

// One line per step, saying what is true of it now; the error itself is the headline above.
function reportLine(report: StepReport): string {
  const detail = report.state === 'undone' ? `undone (${report.undo?.title.toLowerCase()}; read back)`
    : report.state === 'undo failed' ? `NOT undone: ${report.undo?.title.toLowerCase()} failed (${report.error}); run \`${report.undo?.command}\``
      : report.state === 'failed' || report.state === 'interrupted' ? `${report.state}${CHANGE[report.change ?? 'not made']}`
        : report.state === 'unknown' ? CHANGE.unknown.slice(2)
          : report.state === 'left running' ? report.error
            : report.state === 'not run' ? report.note ?? 'not run' : report.note
  return stepLine(report.state, report.title, detail)
}

export function describeRun(outcome: RunOutcome): string {
  const lines = outcome.steps.map(reportLine)
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
