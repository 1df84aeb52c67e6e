import {randomBytes} from 'node:crypto'
import {closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync} from 'node:fs'
import {hostname, userInfo} from 'node:os'
import {join} from 'node:path'
import {messageOf, Refused} from '../errors.js'
import {redact} from '../secrets.js'
import type {Action} from './actions.js'
import {due, type Entry, unsettled} from './ledger.js'
import type {Planned} from './plan.js'
import type {Undo} from './step.js'

// A run log that survives the process: each run appends its events as JSON lines to a file of its own
// under the CLI's data directory, written through to disk one event at a time, so that an SSH session
// that drops or a process that is killed still leaves a record that `recovery:log` reads and
// `recovery:resume` finishes from. Names, versions and commands only: never a secret value.

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted' | 'left' | 'died' | 'finished'

// A step as the run planned it: `command` is what a person would type to do the same by hand.
export interface PlannedRecord {
  id: string
  title: string
  data?: Planned
  command?: string
}

// What was known before the run began, for the postmortem's timeline (recovery:log --format markdown):
// the checks, the warnings said, and the command that carries out the same plan.
export interface RunContext {
  checks?: {name: string, outcome: string, detail: string}[]
  warnings?: string[]
  rerun?: string
}

export type RunEvent = {at: string} & (
  // The planned steps, with their data when the plan is data (see plan.ts).
  | ({event: 'begin', run: string, command: string, app: string, what: string, who: string, host: string, pid: number, steps: PlannedRecord[]} & RunContext)
  // Another process goes on with the run (`recovery:resume --continue`).
  | {event: 'continued', who: string, host: string, pid: number}
  // `undo`: the step's undoPartial, due if the step never gets to 'applied' or 'failed', or fails with its outcome unknown.
  | {event: 'started', step: string, undo?: Undo}
  // The change exists from here on (what follows it may still fail): its undo, and work it started.
  | {event: 'applied', step: string, undo?: Undo, running?: {running: string, settle: Action}, putsBack?: string, needs?: string[], result?: unknown}
  | {event: 'done', step: string, note?: string, result?: unknown}
  | {event: 'failed', step: string, error: string, applied: boolean | 'unknown'}
  // `by`: the run of recovery:resume that did it, when it was not this run.
  | {event: 'settled', step: string, by?: string}
  | {event: 'undo-started', step: string}
  | {event: 'undone', step: string, by?: string}
  | {event: 'undo-failed', step: string, error: string}
  | {event: 'end', status: Exclude<RunStatus, 'running' | 'died'>, message?: string, by?: string}
  // What the run told the people following the incident (src/lib/notify), as it was sent, and what became
  // of each delivery: `to` names the sink without its secret, so that what was not delivered can be sent again.
  | {event: 'notice', seq: number, notice: Record<string, unknown>}
  | {event: 'notified', seq: number, to: string, label: string, status: 'delivered' | 'not delivered' | 'in doubt', why?: string}
)

type Distribute<T> = T extends unknown ? Omit<T, 'at'> : never
export type NewEvent = Distribute<RunEvent>

// A step as its run's log tells it.
export interface StepRecord extends Entry {
  title: string
  note?: string
  error?: string
  data?: Planned
  command?: string
  // What the step produced, as the log kept it (set once its change exists).
  result?: unknown
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
  // Lines of the file that could not be read (a torn write, an edit): what they said is lost.
  unreadable: number
}

const runsDir = (dataDir: string) => join(dataDir, 'safe-rollback', 'runs')

export const newRunId = (now = new Date()) =>
  `${now.toISOString().slice(2, 19).replace(/[-:]/g, '').replace('T', '-')}-${randomBytes(2).toString('hex')}`

export class RunLog {
  private constructor(readonly id: string, readonly file: string) {}

  static begin(dataDir: string, fields: {command: string, app: string, what: string, steps: PlannedRecord[]} & RunContext): RunLog {
    const id = newRunId()
    const dir = join(runsDir(dataDir), fields.app)
    const log = new RunLog(id, join(dir, `${id}.jsonl`))
    try {
      mkdirSync(dir, {recursive: true, mode: 0o700})
      log.append({event: 'begin', run: id, ...fields, ...whoAmI()})
    } catch (error) {
      // No record, no change: a run that could not be finished later must not start.
      throw new Refused(`Cannot write the run log in ${dir}: ${(error as Error).message}`)
    }
    return log
  }

  // Goes on with a run of another process (recovery:resume --continue): later events are this process's.
  static continue(file: string): RunLog {
    const log = RunLog.attach(file)
    log.append({event: 'continued', ...whoAmI()})
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

export const whoAmI = () => ({who: `${userInfo().username}@${hostname()}`, host: hostname(), pid: process.pid})

const isAlive = (pid: number, host: string) => {
  if (host !== hostname()) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as {code?: string}).code === 'EPERM'
  }
}

// One process at a time finishes a run: a lock file beside its log, created only if none is there. The lock
// of a process that is gone is taken over: renamed away first, so that of two takers only one wins.
// Returns what releases it.
export function lockRun(record: RunRecord): () => void {
  const lock = `${record.file}.lock`
  const mine = JSON.stringify({pid: process.pid, host: hostname(), at: new Date().toISOString()})
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      writeFileSync(lock, mine, {flag: 'wx', mode: 0o600})
      return () => {
        try {
          if (readFileSync(lock, 'utf8') === mine) unlinkSync(lock)
        } catch {}
      }
    } catch (error) {
      if ((error as {code?: string}).code !== 'EEXIST') throw new Refused(`Cannot lock run ${record.id} (${lock}): ${messageOf(error)}`)
    }
    const holder = lockHolder(lock)
    if (holder) throw new Refused(`Run ${record.id} is being finished by process ${holder.pid} on ${holder.host} (since ${holder.at}): wait for it, then see \`heroku recovery:log ${record.id}\`.`)
    const stale = `${lock}.${process.pid}`
    try {
      renameSync(lock, stale)
      unlinkSync(stale)
    } catch {}
  }
  throw new Refused(`Run ${record.id} is being finished by another process: wait for it, then see \`heroku recovery:log ${record.id}\`.`)
}

// Who holds a lock, if it is still held: a process that is alive, or a lock too fresh to have been written yet.
function lockHolder(lock: string): {pid: number, host: string, at: string} | undefined {
  try {
    const holder = JSON.parse(readFileSync(lock, 'utf8'))
    return isAlive(holder.pid, holder.host) ? holder : undefined
  } catch {
    try {
      return Date.now() - statSync(lock).mtimeMs < 60_000 ? {pid: 0, host: 'this machine', at: 'a moment ago'} : undefined
    } catch {
      return undefined
    }
  }
}

// The events of one run as its log has them, and how many lines could not be read.
export function readEvents(file: string): {events: RunEvent[], unreadable: number} {
  let unreadable = 0
  const events = readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap(line => {
    try {
      const event = JSON.parse(line) as RunEvent
      if (typeof event?.event === 'string' && (!('step' in event) || typeof event.step === 'string')) return [event]
    } catch {}
    unreadable++
    return []
  })
  return {events, unreadable}
}

// The events of one run, folded into what is true of each step.
export function readRun(file: string): RunRecord | undefined {
  const {events, unreadable} = readEvents(file)
  const begin = events.find(e => e.event === 'begin')
  if (!begin || begin.event !== 'begin') return undefined
  const steps = new Map<string, StepRecord>(begin.steps.map(s => [s.id, {...s, state: 'not run'}]))
  const record: RunRecord = {
    id: begin.run, file, command: begin.command, app: begin.app, what: begin.what, who: begin.who, host: begin.host, pid: begin.pid,
    startedAt: begin.at, status: 'running', steps: [...steps.values()], unreadable,
  }
  for (const event of events) {
    const step = 'step' in event ? steps.get(event.step) : undefined
    if ('step' in event && !step) {
      record.unreadable++
      continue
    }
    switch (event.event) {
      case 'started': Object.assign(step!, {state: 'started', ...(event.undo && {undo: event.undo, partial: true})}); break
      case 'continued': Object.assign(record, {status: 'running', host: event.host, pid: event.pid, endedAt: undefined, message: undefined}); break
      case 'applied':
        Object.assign(step!, {applied: true, partial: undefined, undo: event.undo, running: event.running, needs: event.needs, ...('result' in event && {result: event.result})})
        if (event.putsBack && steps.has(event.putsBack)) steps.get(event.putsBack)!.putBack = true
        break
      case 'done': Object.assign(step!, {state: 'done', note: event.note, ...('result' in event && {result: event.result})}); break
      // A change that turned out to have no effect after all (a failed release phase) no longer exists.
      case 'failed': Object.assign(step!, {state: event.applied === 'unknown' ? 'unknown' : 'failed', error: event.error, ...(event.applied === false && {applied: false, partial: undefined})}); break
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
// on is listed too, to be put back only then (see `keptFor` in ledger.ts).
export function openItems(record: RunRecord): {settle: StepRecord[], undo: StepRecord[]} {
  if (['running', 'succeeded', 'finished'].includes(record.status)) return {settle: [], undo: []}
  return {settle: unsettled(record.steps), undo: due(record.steps).filter(s => s.undo!.action)}
}

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
