import {readEvents, RunLog, type RunRecord} from '../runner/log.js'
import {BUDGET_MS, type Delivered, Lane} from './deliver.js'
import {type Begun, type Ended, finishedNotice, healthOf, type Notice, startedNotice} from './notice.js'
import type {Sink} from './sinks.js'

// `heroku recovery:log RUN --notify TARGET`: the run's events that TARGET has not had, sent again with
// their ids, in order. An event whose answer was lost goes again only to a sink that drops duplicates. A
// run that notified nobody gets its events now, made from its log (a start, and an outcome if it ended).

export interface Resent {
  label: string
  sent: string[]
  skipped: string[]
  failed: {id: string, why: string}[]
}

// What recovery:log knows of the run's end (history.ts's recordJson): enough for its outcome event.
export interface Recorded {
  steps: {title: string, state: string, note?: string, error?: string}[]
  finish: string[]
  undo: string[]
}

const STATUSES: Record<string, Ended['status']> = {succeeded: 'succeeded', failed: 'failed', interrupted: 'interrupted', left: 'left', died: 'left'}

// The notices the run's log holds; for a run that notified nobody, made now from the log and recorded in it.
export function noticesOf(record: RunRecord, recorded: Recorded): Notice[] {
  const {events} = readEvents(record.file)
  const stored = new Map<number, Notice>()
  for (const event of events) if (event.event === 'notice') stored.set(event.seq, event.notice as unknown as Notice)
  if (stored.size > 0) return [...stored.values()].sort((a, b) => a.seq - b.seq)
  const begin = events.find(e => e.event === 'begin')
  if (begin?.event !== 'begin') return []
  const begun: Begun = {run: record.id, command: record.command, app: record.app, what: record.what, who: record.who, steps: begin.steps.map(s => s.title)}
  const notices = [startedNotice(begun, 1, new Date(record.startedAt))]
  const status = STATUSES[record.status]
  if (status && record.endedAt) {
    const ended: Ended = {
      status, error: record.message, steps: recorded.steps, finish: recorded.finish, undo: recorded.undo,
      durationMs: Date.parse(record.endedAt) - Date.parse(record.startedAt), health: healthOf(record.steps.map(s => s.result)),
    }
    notices.push(finishedNotice(begun, ended, 2, new Date(record.endedAt)))
  }
  const log = RunLog.attach(record.file)
  for (const notice of notices) log.append({event: 'notice', seq: notice.seq, notice: notice as unknown as Record<string, unknown>})
  return notices
}

const named = (notice: Notice) => `${notice.id} (${notice.type === 'finished' ? `run ${notice.outcome}` : `run ${notice.type}`})`

export async function sendAgain(record: RunRecord, notices: Notice[], sink: Sink, budgetMs = BUDGET_MS): Promise<Resent> {
  const {events} = readEvents(record.file)
  const last = new Map<number, Delivered['status']>()
  const delivered = new Set<number>()
  for (const event of events) {
    if (event.event !== 'notified' || event.to !== sink.key) continue
    last.set(event.seq, event.status)
    if (event.status === 'delivered') delivered.add(event.seq)
  }
  const log = RunLog.attach(record.file)
  const lane = new Lane(sink, budgetMs)
  const resent: Resent = {label: sink.label, sent: [], skipped: [], failed: []}
  for (const notice of notices) {
    if (delivered.has(notice.seq)) continue
    if (last.get(notice.seq) === 'in doubt' && !sink.dedupes) {
      resent.skipped.push(named(notice))
      continue
    }
    const outcome = await lane.deliver(notice)
    log.append({event: 'notified', seq: notice.seq, to: sink.key, label: sink.label, ...outcome})
    if (outcome.status === 'delivered') resent.sent.push(named(notice))
    else resent.failed.push({id: notice.id, why: outcome.why})
  }
  return resent
}
