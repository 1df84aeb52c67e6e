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
      : report.state === 'failed' || report.state === 'interrupted' ? `${report.state}${report.change ? CHANGE[report.change] : ''}`
        : report.state === 'unknown' ? CHANGE.unknown.slice(2)
          : report.state === 'left running' ? report.error
            : report.state === 'not run' ? report.note ?? 'not run' : report.note
  return stepLine(report.state, report.title, detail)
}

// Whether the run left the app in the maintenance mode it turned on; null when it did not turn it on.
export function stillInMaintenance(outcome: RunOutcome): boolean | null {
  const on = outcome.steps.find(s => s.id === 'maintenance-on')
  if (!on) return null
  const off = outcome.steps.find(s => s.id === 'maintenance-off')
  return ['done', 'undo failed', 'left running'].includes(on.state) && off?.state !== 'done'
}

export function describeRun(outcome: RunOutcome): string {
  const app = appOf(outcome)
  const running = outcome.steps.find(s => s.state === 'left running')
  const turnOff = running
    ? `\`heroku recovery:resume ${outcome.run}\` turns it off once "${running.title}" has ended (not before: what is due depends on how it ends)`
    : `\`heroku maintenance:off --app ${app}\` turns it off`
  const lines = [
    ...(stillInMaintenance(outcome) ? [`${app} is still in maintenance mode: ${turnOff}.`] : []),
    ...outcome.steps.map(reportLine),
  ]
  if (outcome.finish.length > 0) lines.push('To finish what was left:', ...outcome.finish.map(c => `  ${c}`))
  if (outcome.undo.length > 0) lines.push(`To undo what was done: ${outcome.undo.map(c => `\`${c}\``).join(', then ')}`)
  lines.push(`Run log: heroku recovery:log --app ${app} (run ${outcome.run})`)
  return lines.join('\n')
}

const appOf = (outcome: RunOutcome) => outcome.log.split('/').at(-2)

// The run as --json reports it.
export const runJson = (outcome: RunOutcome) =>
  ({id: outcome.run, status: outcome.status, stillInMaintenance: stillInMaintenance(outcome), steps: outcome.steps, finish: outcome.finish, undo: outcome.undo})

// A run that did not succeed: the error, the true state of every step, and the commands that finish or undo.
export class RunFailed extends SafeRollbackError {
  constructor(readonly outcome: RunOutcome, details: Record<string, unknown>) {
    super(outcome.error ?? 'The run did not finish.', describeRun(outcome), details)
    this.exitCode = outcome.signal ? exitCodeOf(outcome.signal) : 1
  }
}
