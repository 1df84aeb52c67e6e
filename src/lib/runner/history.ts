import type {Actions, Ended} from './actions.js'
import {kept, keptFor} from './ledger.js'
import {openItems, RunLog, RunRecord, StepRecord} from './log.js'
import {performChecked} from './runner.js'
import type {Step} from './step.js'
import {stepLine} from '../render/index.js'

// Runs on record, as `recovery:log` shows them and `recovery:resume` finishes them. Titles and commands
// come from the actions themselves: the log's words are not trusted to say what they do.

// The work of these steps, mid-sentence.
const runningOf = (actions: Actions, steps: StepRecord[]) => steps.map(s => actions.title(s.running!.settle).replace(/^Wait for /, '').replace(/ to finish$/, '')).join(' and ')

// A put-back kept for work still running is due only if that work ends without effect.
export function dueTitle(actions: Actions, record: RunRecord, step: StepRecord): string {
  const waits = keptFor(record.steps, step)
  const title = actions.title(step.undo!.action!)
  return waits.length === 0 ? title : `${title}, if ${runningOf(actions, waits)} ends without effect`
}

export function recordJson(actions: Actions, record: RunRecord) {
  const {settle, undo} = openItems(record)
  return {
    id: record.id, app: record.app, command: record.command, what: record.what, who: record.who,
    startedAt: record.startedAt, endedAt: record.endedAt ?? null, status: record.status, message: record.message ?? null, unreadableLines: record.unreadable,
    steps: record.steps.map(({id, title, state, note, error, undo}) => ({id, title, state, note, error, undo: undo && {title: undo.title, command: undo.command, automatic: undo.automatic}})),
    // Left to do: what was still running, then the put-backs that were due; `heroku recovery:resume` does both.
    unfinished: [...settle.map(s => actions.title(s.running!.settle)), ...undo.map(s => dueTitle(actions, record, s))],
    // While work runs, nothing is to be put back by hand: what is due depends on how it ends.
    finish: settle.length + undo.length > 0 ? [`heroku recovery:resume ${record.id}`, ...(settle.length > 0 ? [] : undo.map(s => actions.command(s.undo!.action!)))] : [],
    undo: kept(record.steps).map(s => s.undo!.action ? actions.command(s.undo!.action) : s.undo!.command),
  }
}

// A step whose put-back failed is a step that was done: the failure is its undo's.
const recordLine = (actions: Actions, s: StepRecord) => s.state === 'undo failed'
  ? stepLine(s.state, s.title, `done, but NOT undone: ${(s.undo?.action ? actions.title(s.undo.action) : s.undo?.title ?? 'its undo').toLowerCase()} failed (${s.error})`)
  : stepLine(s.state, s.title, s.error ?? s.note)

// Said before anything is read from a log with lines that could not be read.
export const unreadableWarning = (record: RunRecord) => record.unreadable === 0 ? undefined
  : `${record.unreadable} line${record.unreadable === 1 ? '' : 's'} of run ${record.id}'s log could not be read (${record.file}): what ${record.unreadable === 1 ? 'it says' : 'they say'} about the run is lost, so the state shown may be out of date. Check the app before finishing the run.`

export function describeRecord(actions: Actions, record: RunRecord): string {
  const json = recordJson(actions, record)
  const lines = [
    `${record.id}  ${record.startedAt.replace('T', ' ').slice(0, 19)} UTC  ${record.who}  ${record.command} on ${record.app}: ${record.what}  [${record.status}]`,
    ...record.steps.map(s => recordLine(actions, s)),
  ]
  if (json.unfinished.length > 0) lines.push(`  Left unfinished: ${json.unfinished.join('; ')}.`, `  Finish it: heroku recovery:resume ${record.id}`)
  if (json.undo.length > 0) lines.push(`  Undo: ${json.undo.join(', then ')}`)
  return lines.join('\n')
}

// The steps that finish a run: wait for what it left running, then each put-back that was due, newest
// first. Each checks the state first, so that a second resume, or a put-back someone did by hand, is a
// no-op, and is written to the run's own log once done, so that the run reads as it now is. A put-back
// kept for work that was running happens only if that work ended without effect.
export function finishingSteps(actions: Actions, record: RunRecord): Step<any>[] {
  const {settle, undo} = openItems(record)
  const original = RunLog.attach(record.file)
  return [
    ...settle.map((s): Step<Ended | undefined> => ({
      id: `settle-${s.id}`,
      title: `${actions.title(s.running!.settle)} (\`${actions.command(s.running!.settle)}\`)`,
      // Ended badly is still ended: only then may the put-backs run.
      async apply({api, timeoutMs, status}) {
        let ended: Ended | undefined
        try {
          ended = await actions.perform(api, s.running!.settle, {timeoutMs, status}) ?? undefined
        } catch (error) {
          if (!await actions.isDone(api, s.running!.settle)) throw error
        }
        original.append({event: 'settled', step: s.id})
        return ended
      },
      done: ended => ended?.said ?? '',
    })),
    ...undo.map(s => {
      const [step] = undoSteps(actions, [s], original)
      const waits = keptFor(record.steps, s)
      if (waits.length === 0) return step
      return {
        id: step.id,
        title: `${dueTitle(actions, record, s)} (\`${actions.command(s.undo!.action!)}\`)`,
        async apply(context): Promise<string | undefined> {
          const took = waits.filter(w => context.result<Ended | undefined>(`settle-${w.id}`)?.tookEffect !== false)
          if (took.length > 0) return `not needed: ${runningOf(actions, took)} took effect, and relies on it`
          await step.apply(context)
          return undefined
        },
        done: (note?: string) => note ?? '',
      } satisfies Step<string | undefined>
    }),
  ]
}

// Recorded undos as steps of a new run: each performed unless reading the state shows it done, then checked.
export const undoSteps = (actions: Actions, records: StepRecord[], original?: RunLog): Step<void>[] => records.map(s => ({
  id: `undo-${s.id}`,
  title: `${actions.title(s.undo!.action!)} (\`${actions.command(s.undo!.action!)}\`)`,
  async apply({api}) {
    if (!await actions.isDone(api, s.undo!.action!)) await performChecked(actions, api, s.undo!.action!)
    original?.append({event: 'undone', step: s.id})
  },
}))
