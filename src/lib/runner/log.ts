import {randomBytes} from 'node:crypto'
import {closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync} from 'node:fs'
import {hostname, userInfo} from 'node:os'
import {join} from 'node:path'
import {Refused} from '../errors.js'
import {redact} from '../secrets.js'
import type {Action} from './actions.js'
import type {Undo} from './step.js'

// A run log that survives the process: each run appends its events as JSON lines to a file of its own
// under the CLI's data directory, written through to disk one event at a time, so that an SSH session
// that drops or a process that is killed still leaves a record that `recovery:log` reads and
// `recovery:resume` finishes from. Names, versions and commands only: never a secret value.

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted' | 'left' | 'died' | 'finished'

export type RunEvent = {at: string} & (
  | {event: 'begin', run: string, command: string, app: string, what: string, who: string, host: string, pid: number, steps: {id: string, title: string}[]}
  | {event: 'started', step: string}
  // The change exists from here on (what follows it may still fail): its undo, and work it started.
  | {event: 'applied', step: string, undo?: Undo, running?: {running: string, settle: Action}, putsBack?: string, needs?: string[]}
  | {event: 'done', step: string, note?: string}
  | {event: 'failed', step: string, error: string, applied: boolean | 'unknown'}
  | {event: 'settled', step: string}
  | {event: 'undo-started', step: string}
  | {event: 'undone', step: string}
  | {event: 'undo-failed', step: string, error: string}
  | {event: 'end', status: Exclude<RunStatus, 'running' | 'died'>, message?: string, by?: string}
)

type Distribute<T> = T extends unknown ? Omit<T, 'at'> : never
export type NewEvent = Distribute<RunEvent>

export interface StepRecord {
  id: string
  title: string
  state: 'not run' | 'started' | 'done' | 'failed' | 'unknown' | 'undone' | 'undo failed'
  // Its change exists (it may have failed after making it).
  applied?: boolean
  note?: string
  error?: string
  undo?: Undo
  // Work this step started that goes on at Heroku until it settles (a restore).
  running?: {running: string, settle: Action}
  settled?: boolean
  putBack?: boolean
  // The earlier steps whose changes this one relies on (see Step.needs).
  needs?: string[]
}

export interface RunRecord {
  id: string
  file: string
  command: string
  app: string
  what: string
  who: string
  host: string
  pid: number
  startedAt: string
  endedAt?: string
  status: RunStatus
  message?: string
  steps: StepRecord[]
}

const runsDir = (dataDir: string) => join(dataDir, 'safe-rollback', 'runs')

export const newRunId = (now = new Date()) =>
  `${now.toISOString().slice(2, 19).replace(/[-:]/g, '').replace('T', '-')}-${randomBytes(2).toString('hex')}`

export class RunLog {
  private constructor(readonly id: string, readonly file: string) {}

  static begin(dataDir: string, fields: {command: string, app: string, what: string, steps: {id: string, title: string}[]}): RunLog {
    const id = newRunId()
    const dir = join(runsDir(dataDir), fields.app)
    const log = new RunLog(id, join(dir, `${id}.jsonl`))
    try {
      mkdirSync(dir, {recursive: true, mode: 0o700})
      log.append({event: 'begin', run: id, ...fields, who: `${userInfo().username}@${hostname()}`, host: hostname(), pid: process.pid})
    } catch (error) {
      // No record, no change: a run that could not be finished later must not start.
      throw new Refused(`Cannot write the run log in ${dir}: ${(error as Error).message}`)
    }
    return log
  }

  static attach(file: string): RunLog {
    return new RunLog(file.replace(/^.*\/|\.jsonl$/g, ''), file)
  }

  // Written through to disk before the step it records goes on: a crash right after still leaves it.
  append(event: NewEvent) {
    const line = redact(JSON.stringify({at: new Date().toISOString(), ...event})) + '\n'
    const fd = openSync(this.file, 'a', 0o600)
    try {
      writeSync(fd, line)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }
}

const isAlive = (pid: number, host: string) => {
  if (host !== hostname()) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as {code?: string}).code === 'EPERM'
  }
}

// The events of one run, folded into what is true of each step.
export function readRun(file: string): RunRecord | undefined {
  const events = readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap(line => {
    try {
      return [JSON.parse(line) as RunEvent]
    } catch {
      return []
    }
  })
  const begin = events.find(e => e.event === 'begin')
  if (!begin || begin.event !== 'begin') return undefined
  const steps = new Map<string, StepRecord>(begin.steps.map(s => [s.id, {...s, state: 'not run'}]))
  const record: RunRecord = {
    id: begin.run, file, command: begin.command, app: begin.app, what: begin.what, who: begin.who, host: begin.host, pid: begin.pid,
    startedAt: begin.at, status: 'running', steps: [...steps.values()],
  }
  for (const event of events) {
    const step = 'step' in event ? steps.get(event.step) : undefined
    switch (event.event) {
      case 'started': Object.assign(step!, {state: 'started'}); break
      case 'applied':
        Object.assign(step!, {applied: true, undo: event.undo, running: event.running, needs: event.needs})
        if (event.putsBack && steps.has(event.putsBack)) steps.get(event.putsBack)!.putBack = true
        break
      case 'done': Object.assign(step!, {state: 'done', note: event.note}); break
      // A change that turned out to have no effect after all (a failed release phase) no longer exists.
      case 'failed': Object.assign(step!, {state: event.applied === 'unknown' ? 'unknown' : 'failed', error: event.error, ...(event.applied === false && {applied: false})}); break
      case 'settled': Object.assign(step!, {settled: true}); break
      case 'undone': Object.assign(step!, {state: 'undone'}); break
      case 'undo-failed': Object.assign(step!, {state: 'undo failed', error: event.error}); break
      case 'end': Object.assign(record, {status: event.status, endedAt: event.at, message: event.message}); break
    }
  }
  if (record.status === 'running' && !isAlive(record.pid, record.host)) record.status = 'died'
  return record
}

// What a run that did not finish left behind: work still running at Heroku to wait for, then the
// put-backs that were due, newest first. Empty for a run that succeeded or was finished since.
// Work still running may end without effect (a release phase that fails): a change that only it relies
// on is listed too, to be put back only then (see `keptFor`).
export function openItems(record: RunRecord): {settle: StepRecord[], undo: StepRecord[]} {
  if (['running', 'succeeded', 'finished'].includes(record.status)) return {settle: [], undo: []}
  const settle = record.steps.filter(s => s.running && !s.settled)
  const needed = new Set(record.steps.filter(s => s.applied && !settle.includes(s)).flatMap(s => s.needs ?? []))
  const undo = record.steps.filter(s => s.applied && s.state !== 'undone' && s.undo?.automatic && s.undo.action && !s.putBack && !needed.has(s.id)).reverse()
  return {settle, undo}
}

// The work still running that relies on this change: its put-back is due only if all of it ends without effect.
export const keptFor = (open: {settle: StepRecord[]}, step: StepRecord): StepRecord[] => open.settle.filter(s => s.needs?.includes(step.id))

// Every run on record, newest first; only those of `app` when given.
export function listRuns(dataDir: string, app?: string): RunRecord[] {
  const root = runsDir(dataDir)
  if (!existsSync(root)) return []
  const apps = app ? [app] : readdirSync(root)
  return apps.flatMap(name => {
    const dir = join(root, name)
    if (!existsSync(dir)) return []
    return readdirSync(dir).filter(f => f.endsWith('.jsonl')).flatMap(f => readRun(join(dir, f)) ?? [])
  }).sort((a, b) => b.startedAt.localeCompare(a.startedAt))
}

export const findRun = (dataDir: string, id: string) => listRuns(dataDir).find(run => run.id === id)
