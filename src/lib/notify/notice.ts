import {formatDuration} from '../duration.js'
import {redact} from '../secrets.js'

// The events a run sends to the people following an incident, as data every sink renders its own way:
// one when the run starts (before its first write), one when a check refuses it, one when it ends. Built
// from the plan and the outcome, which hold names, versions and commands only; redacted all the same.

export type NoticeType = 'started' | 'blocked' | 'finished'

export interface Notice {
  // RUN:SEQ, the same for every delivery of this event, so that a receiver can drop a duplicate.
  id: string
  run: string
  seq: number
  type: NoticeType
  at: string
  app: string
  command: string
  // 'roll back to v50': what the run does, and to what.
  what: string
  who: string
  // One line for a pager or a channel.
  summary: string
  // Started: the steps it takes, in order.
  steps?: string[]
  // Blocked: the checks that refused it.
  refusedBy?: {name: string, detail: string}[]
  // Finished.
  outcome?: 'succeeded' | 'failed' | 'interrupted' | 'left'
  error?: string
  // What stays changed, what was put back, and the steps that failed or were left.
  changed?: string[]
  undone?: string[]
  problems?: string[]
  health?: Health
  // The exact commands that undo what stays done, and that finish what was left.
  undo?: string[]
  finish?: string[]
  durationMs?: number
  // The command that shows the run (none for a refusal: nothing ran).
  log?: string
}

export interface Health {
  verdict: 'healthy' | 'unhealthy' | 'inconclusive'
  reason: string
}

// The run as its log began it.
export interface Begun {
  run: string
  command: string
  app: string
  what: string
  who: string
  steps: string[]
}

// How the run ended, from its outcome (or, for a run sent again later, from its log).
export interface Ended {
  status: 'succeeded' | 'failed' | 'interrupted' | 'left'
  error?: string
  steps: {title: string, state: string, note?: string, error?: string}[]
  finish: string[]
  undo: string[]
  durationMs: number
  health?: Health
}

// A step result that is a health watch's verdict (src/lib/health/verdict.ts: `verdict` and `reason`).
export function healthOf(results: unknown[]): Health | undefined {
  for (const result of results) {
    const {verdict, reason} = (result ?? {}) as {verdict?: unknown, reason?: unknown}
    if (['healthy', 'unhealthy', 'inconclusive'].includes(verdict as string) && typeof reason === 'string') return {verdict: verdict as Health['verdict'], reason}
  }
  return undefined
}

const sentence = (text: string) => /[.!?)`]$/.test(text) ? text : `${text}.`

// Everything a notice says passes through `redact`: a secret a message picked up never leaves.
const clean = (notice: Notice): Notice => JSON.parse(redact(JSON.stringify(notice)))

export function startedNotice(begun: Begun, seq: number, at = new Date()): Notice {
  const {run, command, app, what, who, steps} = begun
  return clean({
    id: `${run}:${seq}`, run, seq, type: 'started', at: at.toISOString(), app, command, what, who,
    summary: `${command} started on ${app} by ${who}: ${what} (run ${run})`,
    steps, log: `heroku recovery:log ${run}`,
  })
}

export function blockedNotice(facts: {ref: string, command: string, app: string, what: string, who: string, checks: {name: string, detail: string}[]}, at = new Date()): Notice {
  const {ref, command, app, what, who, checks} = facts
  return clean({
    id: `${ref}:1`, run: ref, seq: 1, type: 'blocked', at: at.toISOString(), app, command, what, who,
    summary: `${command} on ${app} was refused before any change (${what}): ${checks.map(c => sentence(c.detail)).join(' ')}`,
    refusedBy: checks.map(({name, detail}) => ({name, detail})),
  })
}

const ENDED = {succeeded: 'succeeded', failed: 'FAILED', interrupted: 'was interrupted', left: 'was left unfinished'}

export function finishedNotice(begun: Begun, ended: Ended, seq: number, at = new Date()): Notice {
  const {run, command, app, what, who} = begun
  const took = formatDuration(ended.durationMs)
  const problems = ended.steps.filter(s => !['done', 'undone', 'not run'].includes(s.state)).map(s => `${s.title}: ${s.state}${s.error ? ` (${s.error})` : ''}`)
  const health = ended.health ? `; health: ${ended.health.verdict} (${ended.health.reason})` : ''
  const why = ended.status === 'succeeded' ? '' : `: ${ended.error ?? 'see the run log'}`
  return clean({
    id: `${run}:${seq}`, run, seq, type: 'finished', at: at.toISOString(), app, command, what, who,
    summary: `${command} on ${app} ${ENDED[ended.status]} after ${took}: ${what}${why}${health} (run ${run})`,
    outcome: ended.status, error: ended.error,
    changed: ended.steps.filter(s => s.state === 'done').map(s => s.note ? `${s.title}: ${s.note}` : s.title),
    undone: ended.steps.filter(s => s.state === 'undone').map(s => s.title),
    problems, health: ended.health, undo: ended.undo, finish: ended.finish, durationMs: ended.durationMs,
    log: `heroku recovery:log ${run}`,
  })
}

// The notice as a few lines of plain text, for the sinks that show text (Slack, Datadog): the summary
// first, then what a responder acts on.
export function noticeLines(notice: Notice): string[] {
  const list = (label: string, items?: string[]) => items && items.length > 0 ? [`${label}: ${items.join('; ')}`] : []
  return [
    notice.summary,
    ...list('Steps', notice.steps),
    ...list('Changed', notice.changed),
    ...list('Put back', notice.undone),
    ...list('Not done', notice.problems),
    ...list('To finish', notice.finish),
    ...list('To undo', notice.undo),
    ...(notice.log ? [`Details: ${notice.log}`] : []),
  ]
}
