import {commandFor, type Ended, isDone, perform} from './actions.js'
import {keptFor, openItems, RunRecord, StepRecord} from './log.js'
import {performChecked} from './runner.js'
import type {Step} from './step.js'
import {stepLine} from '../render/index.js'

// Runs on record, as `recovery:log` shows them and `recovery:resume` finishes them.


// The work of these steps, mid-sentence.
const runningOf = (steps: StepRecord[]) => steps.map(s => s.running!.running.replace(/^The /, 'the ')).join(' and ')

// A put-back kept for work still running is due only if that work ends without effect.
export function dueTitle(open: {settle: StepRecord[]}, step: StepRecord): string {
  const waits = keptFor(open, step)
  const running = runningOf(waits)
  return waits.length === 0 ? step.undo!.title : `${step.undo!.title}, if ${running} ends without effect`
}

export function recordJson(record: RunRecord) {
  const open = openItems(record)
  const {settle, undo} = open
  return {
    id: record.id, app: record.app, command: record.command, what: record.what, who: record.who,
    startedAt: record.startedAt, endedAt: record.endedAt ?? null, status: record.status, message: record.message ?? null,
    steps: record.steps.map(({id, title, state, note, error, undo}) => ({id, title, state, note, error, undo: undo && {title: undo.title, command: undo.command, automatic: undo.automatic}})),
    // Left to do: what was still running, then the put-backs that were due; `heroku recovery:resume` does both.
    unfinished: [...settle.map(s => s.running!.running), ...undo.map(s => dueTitle(open, s))],
    // While work runs, nothing is to be put back by hand: what is due depends on how it ends.
    finish: settle.length + undo.length > 0 ? [`heroku recovery:resume ${record.id}`, ...(settle.length > 0 ? [] : undo.map(s => s.undo!.command))] : [],
    // What stays done once the work still running has ended is not known yet.
    undo: record.steps.filter(s => s.applied && s.undo && !s.undo.automatic && !settle.includes(s) && keptFor(open, s).length === 0).reverse().map(s => s.undo!.command),
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
// A put-back kept for work that was running happens only if that work ended without effect.
export function finishingSteps(record: RunRecord): Step<any>[] {
  const open = openItems(record)
  const {settle, undo} = open
  return [
    ...settle.map((s): Step<Ended | undefined> => ({
      id: `settle-${s.id}`,
      title: `Wait for ${s.running!.running} to finish (\`${commandFor(s.running!.settle)}\`)`,
      // Ended badly is still ended: only then may the put-backs run.
      async apply({api, timeoutMs, status}) {
        try {
          return await perform(api, s.running!.settle, {timeoutMs, status}) ?? undefined
        } catch (error) {
          if (!await isDone(api, s.running!.settle)) throw error
          return undefined
        }
      },
      done: ended => ended?.said ?? '',
    })),
    ...undo.map(s => {
      const [step] = undoSteps([s])
      const waits = keptFor(open, s)
      if (waits.length === 0) return step
      return {
        id: step.id,
        title: dueTitle(open, s),
        async apply(context): Promise<string | undefined> {
          const took = waits.filter(w => context.result<Ended | undefined>(`settle-${w.id}`)?.tookEffect !== false)
          if (took.length > 0) return `not needed: ${runningOf(took)} took effect, and relies on it`
          await step.apply(context)
          return undefined
        },
        done: (note?: string) => note ?? '',
      } satisfies Step<string | undefined>
    }),
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
