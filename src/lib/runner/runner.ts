import {isAbort, sleep} from '../abort.js'
import {Api, ApiFailure, isTransient} from '../api/client.js'
import {messageOf, SafeRollbackError} from '../errors.js'
import type {Interrupts} from '../interrupts.js'
import {PollTimeout} from '../poll.js'
import {Action, isDone, perform} from './actions.js'
import {RunLog} from './log.js'
import {KeepsRunning, NoEffect, Step, StepContext, Undo} from './step.js'

// The one runner: it executes a command's steps in order and keeps the promise that the engineer is
// never left worse off. Ctrl-C, SIGTERM and SIGHUP stop it at the next step, and abort the waits and
// reads in flight (a write in flight gets a moment to answer, so that its outcome is known). A write
// whose answer is lost is never sent again: the step reads the state to learn whether it happened.
// When a step fails or the run is stopped, the undos of the steps that ran are performed newest first,
// each checked by reading the state back. Work that Heroku carries on by itself (a restore) is waited
// for before anything is put back. Every event goes to the run log first.

export interface Progress {
  start(title: string): void
  status(text: string): void
  stop(result: string): void
  // A message of its own line, for the engineer (stderr).
  say(text: string): void
  output(text: string): void
}

export type StepState = 'done' | 'failed' | 'unknown' | 'interrupted' | 'not run' | 'undone' | 'undo failed' | 'left running'

export interface StepReport {
  id: string
  title: string
  state: StepState
  note?: string
  error?: string
  // What is known of its change when it failed: 'not made', 'made', 'unknown'.
  change?: 'not made' | 'made' | 'unknown'
  undo?: Omit<Undo, 'action'>
}

export interface RunOutcome {
  run: string
  status: 'succeeded' | 'failed' | 'interrupted' | 'left'
  signal?: NodeJS.Signals
  error?: string
  steps: StepReport[]
  // Exact commands that finish what was left unfinished.
  finish: string[]
  // Exact commands that undo what was done and stays done.
  undo: string[]
  log: string
  // What a step produced (not part of the JSON: it may hold URLs).
  result<T>(stepId: string): T | undefined
}

export interface RunSettings {
  api: Api
  interrupts: Interrupts
  progress: Progress
  dataDir: string
  command: string
  app: string
  // One line for `recovery:log`: 'roll back to v50'.
  what: string
  // The longest any wait may take (--wait-timeout).
  timeoutMs: number
}

// How long a write already on its way may take to answer after Ctrl-C before it is cut off.
export const WRITE_GRACE_MS = 3000
const PUT_BACK_TIMEOUT_MS = 30_000

type Phase = 'steps' | 'settling' | 'putting back'

const sentence = (text: string) => /[.!?)`]$/.test(text) ? text : `${text}.`

export class Runner {
  private readonly results = new Map<string, unknown>()
  private log!: RunLog
  private reports: StepReport[] = []
  private phase: Phase = 'steps'
  private signal?: NodeJS.Signals
  private signalsInPhase = 0
  private leaving = false
  private stepControl = new AbortController()
  private writeControl = new AbortController()
  private settleControl = new AbortController()
  private readonly putBackControl = new AbortController()
  private settling?: KeepsRunning
  private readonly putBackDone = new Set<string>()
  // Steps whose change exists (even when what followed it failed).
  private readonly applied = new Set<string>()
  private readonly needs = new Map<string, string[]>()

  constructor(private readonly settings: RunSettings) {}

  private get putBackApi() {
    return this.settings.api.with({signal: this.putBackControl.signal, writeSignal: undefined, timeoutMs: PUT_BACK_TIMEOUT_MS})
  }

  async run(steps: Step<any>[]): Promise<RunOutcome> {
    const {dataDir, command, app, what} = this.settings
    this.log = RunLog.begin(dataDir, {command, app, what, steps: steps.map(({id, title}) => ({id, title}))})
    this.reports = steps.map(({id, title}) => ({id, title, state: 'not run'}))
    for (const step of steps) if (step.needs) this.needs.set(step.id, step.needs)
    return this.settings.interrupts.during(signal => this.onSignal(signal), async () => {
      let failure: {step: Step, error: string} | undefined
      for (const [index, step] of steps.entries()) {
        if (this.signal) break
        const error = await this.runStep(step, this.reports[index])
        if (error !== undefined) {
          failure = {step, error}
          break
        }
      }
      if (!this.leaving && (failure || this.signal)) await this.putBack(steps)
      for (const report of this.reports) {
        const later = this.reports.find(r => this.applied.has(r.id) && this.needs.get(r.id)?.includes(report.id))
        if (later && report.state === 'done' && (failure || this.signal)) {
          const kept = later.state === 'left running'
            ? `kept while "${later.title}" runs; should it end without effect, \`heroku recovery:resume ${this.log.id}\` puts this back`
            : `kept, for "${later.title}" relies on it`
          report.note = `${report.note ? `${report.note}; ` : ''}${kept}`
        }
      }
      const putBackAbove = new Set<string>()
      for (const [index, step] of steps.entries()) {
        const report = this.reports[index]
        if (report.state === 'not run' && step.putsBack && this.reports.find(r => r.id === step.putsBack)?.state === 'undone') {
          report.note = 'not needed: put back above'
          putBackAbove.add(report.id).add(step.putsBack)
        }
      }
      return this.finish(failure?.error, putBackAbove)
    })
  }

  // Runs one step; returns the error that stops the run, if any.
  private async runStep(step: Step, report: StepReport): Promise<string | undefined> {
    const {progress, timeoutMs} = this.settings
    this.stepControl = new AbortController()
    this.writeControl = new AbortController()
    const stepContext = () => this.context(this.settings.api.with({
      signal: this.stepControl.signal, writeSignal: this.writeControl.signal, timeoutMs: Math.min(timeoutMs, 60_000),
    }), this.stepControl.signal, this.writeControl.signal)
    let context = stepContext()
    this.log.append({event: 'started', step: step.id})
    progress.start(step.title)
    let result: unknown
    let lost = false
    for (let attempt = 1; ; attempt++) {
      try {
        result = await step.apply(context)
        break
      } catch (error) {
        const observed = await this.observe(step, error)
        if (observed.applied) {
          result = observed.result
          lost = true
          break
        }
        // Read back, it did not happen: a passing failure may be tried once more, never blindly.
        if (attempt === 1 && observed.readBack && isTransient(error) && !this.signal) {
          await sleep((error as ApiFailure).retryAfterMs ?? 1000, this.stepControl.signal).catch(() => {})
          continue
        }
        return this.failed(step, report, error, observed.unknown ? 'unknown' : false)
      }
    }
    // From here on the change exists: its undo is due if the run does not succeed.
    this.applied.add(step.id)
    this.results.set(step.id, result)
    const undo = step.undo?.(result as never, this.log.id)
    const keeps = step.keepsRunning?.(result)
    report.undo = undo && strip(undo)
    this.log.append({event: 'applied', step: step.id, undo, running: keeps && {running: keeps.running, settle: keeps.settle}, putsBack: step.putsBack, needs: step.needs})
    if (step.putsBack) this.putBackDone.add(step.putsBack)
    if (keeps) {
      const settled = await this.settle(step, keeps)
      if (settled !== true) return settled
      // A signal that came before the work ended was answered by waiting for it: what follows (`then`)
      // still learns how it ended, until a second signal.
      if (this.stepControl.signal.aborted) {
        this.stepControl = new AbortController()
        this.writeControl = new AbortController()
        context = stepContext()
      }
    }
    if (step.then) {
      try {
        result = await step.then(context, result as never)
        this.results.set(step.id, result)
      } catch (error) {
        if (error instanceof NoEffect) {
          this.applied.delete(step.id)
          report.undo = undefined
          if (error.result !== undefined) this.results.set(step.id, error.result)
        }
        return this.failed(step, report, error, !(error instanceof NoEffect))
      }
    }
    const note = [step.done?.(result as never), lost ? 'its answer was lost; read back: it happened' : undefined].filter(Boolean).join('; ')
    Object.assign(report, {state: 'done', note: note || undefined})
    this.log.append({event: 'done', step: step.id, note: report.note})
    progress.stop(report.note ?? 'done')
    return undefined
  }

  private context(api: Api, signal: AbortSignal, writeSignal = signal): StepContext {
    const {progress, timeoutMs} = this.settings
    return {
      api, signal, writeSignal, timeoutMs,
      status: text => progress.status(text),
      output: text => progress.output(text),
      result: <T>(id: string) => {
        if (!this.results.has(id)) throw new Error(`step ${id} has no result`)
        return this.results.get(id) as T
      },
    }
  }

  // After a failure with the outcome in doubt (a lost answer, a timeout, an interrupt mid-write):
  // read the state. Never send the write again without knowing.
  private async observe(step: Step, error: unknown): Promise<{applied: true, result: unknown} | {applied: false, unknown: boolean, readBack?: boolean}> {
    const inDoubt = isAbort(error) || (error instanceof ApiFailure && error.applied === 'unknown')
    if (!inDoubt) return {applied: false, unknown: false, readBack: error instanceof ApiFailure}
    if (!step.observe) return {applied: false, unknown: !isAbort(error)}
    try {
      const seen = await step.observe(this.context(this.putBackApi, this.putBackControl.signal))
      return seen.applied ? seen : {applied: false, unknown: false, readBack: true}
    } catch {
      return {applied: false, unknown: true}
    }
  }

  // Records a failed step; returns the run's error headline.
  private failed(step: Step, report: StepReport, error: unknown, applied: boolean | 'unknown'): string {
    const interrupted = isAbort(error) && this.signal !== undefined
    const said = error instanceof SafeRollbackError && error.state ? `${messageOf(error)} (${error.state})` : messageOf(error)
    const message = sentence(interrupted && said === 'cancelled' ? 'stopped by the interrupt' : said)
    const change = applied === 'unknown' ? 'unknown' : applied ? 'made' : 'not made'
    Object.assign(report, {state: applied === 'unknown' ? 'unknown' : interrupted ? 'interrupted' : 'failed', error: message, change})
    this.log.append({event: 'failed', step: step.id, error: message, applied})
    this.settings.progress.stop(applied === 'unknown' ? '? outcome unknown' : interrupted ? 'interrupted' : 'failed')
    // An API error says little on its own: name the step it stopped.
    return error instanceof ApiFailure ? `${step.title} failed: ${message}` : message
  }

  // Waits for work going on at Heroku; Ctrl-C explains instead of stopping, twice leaves.
  private async settle(step: Step, keeps: KeepsRunning): Promise<true | string> {
    this.phase = 'settling'
    // A signal that came while the work was being started counts as the first: the next one leaves.
    this.signalsInPhase = this.signal ? 1 : 0
    this.settling = keeps
    this.settleControl = new AbortController()
    if (this.signal) this.explainSettling()
    try {
      await perform(this.settings.api.with({signal: this.settleControl.signal, writeSignal: undefined}), keeps.settle, {
        timeoutMs: this.settings.timeoutMs, status: text => this.settings.progress.status(text),
      })
      this.log.append({event: 'settled', step: step.id})
      return true
    } catch (error) {
      const report = this.reports.find(r => r.id === step.id)!
      // Still running (left, or past --wait-timeout): nothing may be put back while it runs.
      if (this.leaving || error instanceof PollTimeout) {
        this.leaving = true
        const why = error instanceof PollTimeout ? `still running after ${messageOf(error).replace(/^Timed out after (\S+) .*/, '$1')}` : 'still running when the command was left'
        Object.assign(report, {state: 'left running', error: `${keeps.running} was ${why}`})
        this.settings.progress.stop('left running')
        return report.error!
      }
      this.log.append({event: 'settled', step: step.id})
      return this.failed(step, report, error, true)
    } finally {
      this.settling = undefined
      this.phase = 'steps'
    }
  }

  private explainSettling() {
    const due = this.dueUndos().map(r => r.undo!.title.toLowerCase())
    const then = due.length > 0 ? `, then: ${due.join('; ')}` : ''
    this.settings.progress.say(`${this.settling!.running} is running at Heroku and cannot be stopped: ${this.settling!.meanwhile} `
      + `Waiting for it to finish${then}. Press Ctrl-C again to leave now; \`heroku recovery:resume ${this.log.id}\` finishes later.`)
  }

  private onSignal(signal: NodeJS.Signals) {
    this.signal ??= signal
    const count = ++this.signalsInPhase
    if (this.phase === 'settling') {
      if (count === 1) return this.explainSettling()
      this.leaving = true
      this.settleControl.abort()
      return
    }
    if (this.phase === 'putting back') {
      if (count === 1) return this.settings.progress.say(`Putting things back first. Press Ctrl-C again to leave now; \`heroku recovery:resume ${this.log.id}\` finishes it later.`)
      this.leaving = true
      this.putBackControl.abort()
      return
    }
    if (count === 1) this.settings.progress.say('Stopping at the next step; what was done will be put back, or listed with the command that undoes it.')
    this.stepControl.abort()
    // The write of this step: a later step (or what follows a settle) has controls of its own.
    const write = this.writeControl
    if (count === 1) setTimeout(() => write.abort(), WRITE_GRACE_MS).unref()
    else this.writeControl.abort()
  }

  // Automatic undos of the steps that ran and were not put back by a later step, newest first.
  private dueUndos(): StepReport[] {
    return this.reports.filter(r => this.applied.has(r.id) && r.state !== 'undone' && r.undo?.automatic && !this.putBackDone.has(r.id) && !this.needed(r.id)).reverse()
  }

  // A later change that exists relies on this one.
  private needed(id: string): boolean {
    return [...this.applied].some(later => this.needs.get(later)?.includes(id))
  }

  private async putBack(steps: Step[]) {
    this.phase = 'putting back'
    this.signalsInPhase = 0
    for (const report of this.dueUndos()) {
      if (this.leaving) break
      const undo = steps.find(s => s.id === report.id)!.undo!(this.results.get(report.id) as never, this.log.id)!
      this.settings.progress.start(undo.title)
      this.log.append({event: 'undo-started', step: report.id})
      try {
        await performChecked(this.putBackApi, undo.action!)
        report.state = 'undone'
        this.log.append({event: 'undone', step: report.id})
        this.settings.progress.stop('done, read back')
      } catch (error) {
        Object.assign(report, {state: 'undo failed', error: messageOf(error)})
        this.log.append({event: 'undo-failed', step: report.id, error: messageOf(error)})
        this.settings.progress.stop('failed')
      }
    }
  }

  // `putBackAbove`: steps not run because the put-back did what they would have (maintenance off), and
  // the steps they put back (maintenance on, undone): together as the plan meant them.
  private finish(error: string | undefined, putBackAbove: Set<string>): RunOutcome {
    // A signal that stopped nothing (it came as the last step was finishing, or while work that cannot be
    // stopped ran to its end and only put-backs were left): the run is complete.
    const complete = !error && this.reports.every(r => r.state === 'done' || putBackAbove.has(r.id))
    if (complete && this.signal) this.settings.progress.say(`The ${this.signal} came when nothing was left to stop: every step is done.`)
    const status = this.leaving ? 'left' : complete ? 'succeeded' : this.signal ? 'interrupted' : error ? 'failed' : 'succeeded'
    // Work left running at Heroku: until it ends, nothing may be put back by hand and its undo is not
    // known (a release phase may still fail); `recovery:resume` waits for it and then does what is due.
    const running = new Set(this.reports.filter(r => r.state === 'left running').map(r => r.id))
    const open = [...(this.leaving && running.size === 0 ? this.dueUndos() : []), ...this.reports.filter(r => r.state === 'undo failed')]
    const finish = open.length > 0 || this.leaving ? [`heroku recovery:resume ${this.log.id}`, ...open.map(r => r.undo!.command)] : []
    const settling = (id: string) => running.has(id) || [...running].some(later => this.needs.get(later)?.includes(id))
    // What stays done, and the commands that would take it back (a rollback, a restore), newest first.
    const undo = this.reports.filter(r => this.applied.has(r.id) && r.undo && (!r.undo.automatic || this.needed(r.id)) && !this.putBackDone.has(r.id) && !settling(r.id))
      .reverse().map(r => r.undo!.command)
    const message = status === 'succeeded' ? undefined : error ?? `Interrupted (${this.signal}).`
    this.log.append({event: 'end', status, message})
    const outcome = {run: this.log.id, status, signal: complete ? undefined : this.signal, error: message, steps: this.reports, finish, undo, log: this.log.file}
    return Object.defineProperty(outcome, 'result', {value: <T>(id: string) => this.results.get(id) as T | undefined, enumerable: false}) as RunOutcome
  }
}


const strip = ({action: _action, ...rest}: Undo): StepReport['undo'] => rest

// An undo is done when reading the state back says so; one more try if not.
export async function performChecked(api: Api, action: Action, timeoutMs = PUT_BACK_TIMEOUT_MS) {
  let last: unknown
  for (let round = 1; round <= 2; round++) {
    try {
      await perform(api, action, {timeoutMs})
    } catch (error) {
      if (isAbort(error)) throw error
      last = error
    }
    try {
      if (await isDone(api, action)) return
      last ??= new Error('reading the state back shows it is not done')
    } catch (error) {
      if (isAbort(error)) throw error
      last = error
    }
  }
  throw last
}
