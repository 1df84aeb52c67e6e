import {commandFor, isDone, perform} from './actions.js'
import {openItems, RunRecord, StepRecord} from './log.js'
import {performChecked} from './runner.js'
import type {Step} from './step.js'
import {stepLine} from '../render/index.js'

// Runs on record, as `recovery:log` shows them and `recovery:resume` finishes them.


export function recordJson(record: RunRecord) {
  const {settle, undo} = openItems(record)
  return {
    id: record.id, app: record.app, command: record.command, what: record.what, who: record.who,
    startedAt: record.startedAt, endedAt: record.endedAt ?? null, status: record.status, message: record.message ?? null,
    steps: record.steps.map(({id, title, state, note, error, undo}) => ({id, title, state, note, error, undo: undo && {title: undo.title, command: undo.command, automatic: undo.automatic}})),
    // Left to do: what was still running, then the put-backs that were due; `heroku recovery:resume` does both.
    unfinished: [...settle.map(s => s.running!.running), ...undo.map(s => s.undo!.title)],
    finish: settle.length + undo.length > 0 ? [`heroku recovery:resume ${record.id}`, ...undo.map(s => s.undo!.command)] : [],
    undo: record.steps.filter(s => s.applied && s.undo && !s.undo.automatic).reverse().map(s => s.undo!.command),
  }
}

export function describeRecord(record: RunRecord): string {
  const json = recordJson(record)
  const lines = [
    `${record.id}  ${record.startedAt.replace('T', ' ').slice(0, 19)} UTC  ${record.who}  ${record.command} on ${record.app}: ${record.what}  [${record.status}]`,
    ...record.steps.map(s => stepLine(s.state, s.title, s.error ?? s.note)),
  ]
  if (json.unfinished.length > 0) lines.push(`  Left unfinished: ${json.unfinished.join('; ')}.`, `  Finish it: heroku recovery:resume ${record.id}`)
  if (json.undo.length > 0) lines.push(`  Undo: ${json.undo.join(', then ')}`)
  return lines.join('\n')
}

// The steps that finish a run: wait for what it left running, then each put-back that was due, newest
// first. Each checks the state first, so that a second resume, or a put-back someone did by hand, is a no-op.
export function finishingSteps(record: RunRecord): Step<void>[] {
  const {settle, undo} = openItems(record)
  return [
    ...settle.map((s): Step<void> => ({
      id: `settle-${s.id}`,
      title: `Wait for ${s.running!.running} to finish (\`${commandFor(s.running!.settle)}\`)`,
      // Ended badly is still ended: only then may the put-backs run.
      async apply({api, timeoutMs, status}) {
        await perform(api, s.running!.settle, {timeoutMs, status}).catch(async error => {
          if (!await isDone(api, s.running!.settle)) throw error
        })
      },
    })),
    ...undoSteps(undo),
  ]
}

// Recorded undos as steps of a new run: each performed unless reading the state shows it done, then checked.
export const undoSteps = (records: StepRecord[]): Step<void>[] => records.map(s => ({
  id: `undo-${s.id}`,
  title: s.undo!.title,
  async apply({api}) {
    if (!await isDone(api, s.undo!.action!)) await performChecked(api, s.undo!.action!)
  },
}))
