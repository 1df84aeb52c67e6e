import {isAbort, sleep} from '../abort.js'
import {Api, ApiFailure, isTransient} from '../api/client.js'
import {messageOf, SafeRollbackError} from '../errors.js'
import type {Interrupts} from '../interrupts.js'
import {PollTimeout} from '../poll.js'
import type {Action, Actions} from './actions.js'
import {due, type Entry, kept, keptFor, type StepState, unsettled} from './ledger.js'
import {type RunContext, RunLog, type RunRecord, type StepRecord} from './log.js'
import type {Planned} from './plan.js'
import {KeepsRunning, NoEffect, Ref, resultOf, Step, StepContext, Undo} from './step.js'

// The one runner: it executes a command's steps in order and keeps the promise that the engineer is
// never left worse off. Ctrl-C, SIGTERM and SIGHUP stop it at the next step, and abort the waits and
// reads in flight (a write in flight gets a moment to answer, so that its outcome is known). A write
// whose answer is lost is never sent again: the step reads the state to learn whether it happened.
// When a step fails or the run is stopped, the undos of the steps that ran are performed newest first,
// each checked by reading the state back. Work that Heroku carries on by itself (a restore) is waited
// for before anything is put back. Every event goes to the run log first.
// Steps next to each other that name one group (Step.together: requests to different apps) run at the
// same time, each still a step of its own (its events, its read-back, its undo); the runner waits for all
// of them before it decides, and starts nothing new after a signal. Their put-backs run together too.

export interface Progress {
  start(title: string): void
  status(text: string): void
  stop(result: string): void
  // A message of its own line, for the engineer (stderr).
  say(text: string): void
  // A progress line of its own (a step of a group that ended), above the spinner; none where progress is not shown (--json).
  line?(text: string): void
  output(text: string): void
}

export type {StepState} from './ledger.js'

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
  // How long the run took.
  durationMs: number
  // What a step produced (not part of the JSON: it may hold URLs).
  result<T>(stepId: string): T | undefined
}

export interface RunSettings {
  api: Api
  // What each kind of put-back and wait does (src/lib/registry.ts).
  actions: Actions
  interrupts: Interrupts
  progress: Progress
  dataDir: string
  command: string
  app: string
  // One line for `recovery:log`: 'roll back to v50'.
  what: string
  // The longest any wait may take (--wait-timeout).
  timeoutMs: number
  // What the command already holds of the steps' shared resources (see StepContext.resource).
  resources?: Map<string, unknown>
  // What was known before the run (its checks, the warnings said, the command that re-runs it), for the run log.
  context?: RunContext
  // Called once the run has its id and its log, before the first step: what must be said before anything
  // changes (the start event the people following an incident get) is said here. It must not throw.
  begun?(run: {id: string, file: string}): Promise<void>
}

// How long a write already on its way may take to answer after Ctrl-C before it is cut off.
export const WRITE_GRACE_MS = 3000
const PUT_BACK_TIMEOUT_MS = 30_000

type Phase = 'steps' | 'settling' | 'putting back'

const sentence = (text: string) => /[.!?)`]$/.test(text) ? text : `${text}.`

// A step as the runner follows it: its report, and what the ledger needs to know of it.
type Tracked = StepReport & Entry & {together?: string}

// The controls of a step under way: Ctrl-C aborts its reads at once, its write after a moment.
interface Running {
  step: Step
  stepControl: AbortController
  writeControl: AbortController
}

// The steps of a plan as they run: alone, or with the steps next to them of the same group. A step that
// keeps work running at Heroku runs alone (its wait is the run's one settling phase).
export function groupsOf(steps: Step<any>[]): {title?: string, indexes: number[]}[] {
  const groups: {title?: string, indexes: number[]}[] = []
  for (const [index, step] of steps.entries()) {
    const last = groups.at(-1)
    const joins = step.together !== undefined && !step.keepsRunning
    if (last && joins && last.title === step.together) last.indexes.push(index)
    else groups.push({title: joins ? step.together : undefined, indexes: [index]})
  }
  return groups
}

// Put-backs next to each other in the order they are due whose steps ran in one group.
function chunksOf(reports: Tracked[]): Tracked[][] {
  const chunks: Tracked[][] = []
  for (const report of reports) {
    const last = chunks.at(-1)
    if (last && report.together !== undefined && last[0].together === report.together) last.push(report)
    else chunks.push([report])
  }
  return chunks
}

export class Runner {
  private readonly results = new Map<string, unknown>()
  private log!: RunLog
  private reports: Tracked[] = []
  private phase: Phase = 'steps'
  private signal?: NodeJS.Signals
  private signalsInPhase = 0
  private leaving = false
  // The steps under way now (more than one in a group).
  private readonly running = new Set<Running>()
  private settleControl = new AbortController()
  private readonly putBackControl = new AbortController()
  private settling?: KeepsRunning
  // The steps as the log of the run being continued tells them.
  private prior?: Map<string, StepRecord>
  private readonly startedAt = Date.now()
  // Resources the steps loaded, let go at the end.
  private readonly loaded: Promise<unknown>[] = []

  constructor(private readonly settings: RunSettings) {}

  private get putBackApi() {
    return this.settings.api.with({signal: this.putBackControl.signal, writeSignal: undefined, timeoutMs: PUT_BACK_TIMEOUT_MS})
  }

  // Runs the steps; with `continuing`, goes on with a run another process began (recovery:resume --continue):
  // its done steps are kept, a change its log says exists is not made again, and one it may have been
  // making when it stopped is read back first.
  async run(steps: Step<any>[], continuing?: RunRecord): Promise<RunOutcome> {
    const {dataDir, command, app, what} = this.settings
    if (continuing) {
      this.log = RunLog.continue(continuing.file)
      this.prior = new Map(continuing.steps.map(record => [record.id, record]))
      this.reports = steps.map(({id, title, needs, together}) => {
        const {state, note, applied, partial, undo, running, settled, putBack, result} = this.prior!.get(id) ?? {state: 'not run' as const}
        if (state === 'done') {
          this.results.set(id, result)
          return {id, title, needs, together, state, note, applied, undo, running, settled, putBack}
        }
        // A change (or part of one) the run before made and did not take back is still owed its undo,
        // should going on fail before the step is done.
        const standing = state !== 'undone' && (applied || partial) ? {applied, partial, undo, running, settled} : {}
        return {id, title, needs, together, state: 'not run', putBack, ...standing}
      })
    } else {
      this.log = RunLog.begin(dataDir, {
        command, app, what, ...this.settings.context,
        steps: steps.map(({id, title, data, command}) => ({id, title, data: data as Planned | undefined, command})),
      })
      this.reports = steps.map(({id, title, needs, together}) => ({id, title, state: 'not run', needs, together}))
    }
    return this.settings.interrupts.during(signal => this.onSignal(signal), async () => {
      await this.settings.begun?.({id: this.log.id, file: this.log.file}).catch(() => {})
      let failure: {step: Step, error: string} | undefined
      for (const group of groupsOf(steps)) {
        if (this.signal) break
        const left = group.indexes.filter(index => this.reports[index].state !== 'done')
        if (left.length === 0) continue
        const errors = group.title !== undefined && left.length > 1
          ? await this.runTogether(group.title, left.map(index => steps[index]))
          : [await this.runStep(steps[left[0]], this.reports[left[0]], this.settings.progress)]
        // The first failure in plan order is the run's headline; the others are in their steps' reports.
        const failed = errors.findIndex(error => error !== undefined)
        if (failed >= 0) {
          failure = {step: steps[left[failed]], error: errors[failed]!}
          break
        }
      }
      if (!this.leaving && (failure || this.signal)) await this.putBack()
      for (const report of this.reports) {
        const later = this.reports.find(r => r.applied && r.needs?.includes(report.id))
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
      await this.letGo()
      return this.finish(failure?.error, putBackAbove)
    })
  }

  private async letGo() {
    for (const loading of this.loaded) (await loading.catch(() => undefined) as {destroy?: () => void} | undefined)?.destroy?.()
  }

  // The steps of one group at the same time: the group's title, then a line for each step as it ends.
  // Every step runs to its end (or is stopped by a signal) before the run decides what follows.
  private async runTogether(title: string, steps: Step[]): Promise<(string | undefined)[]> {
    const {progress} = this.settings
    progress.start(`${title} (${steps.length} at once)`)
    const ended = await Promise.allSettled(steps.map(step => this.runStep(step, this.reports.find(r => r.id === step.id)!, memberProgress(progress, step.title))))
    const errors = ended.map(end => end.status === 'fulfilled' ? end.value : messageOf(end.reason))
    progress.stop(errors.some(error => error !== undefined) ? 'not all done' : 'done')
    const thrown = ended.find(end => end.status === 'rejected')
    if (thrown) throw thrown.reason
    return errors
  }

  // Runs one step; returns the error that stops the run, if any.
  private async runStep(step: Step, report: Tracked, progress: Progress): Promise<string | undefined> {
    const running = {step, stepControl: new AbortController(), writeControl: new AbortController()}
    this.running.add(running)
    try {
      return await this.runRunning(running, report, progress)
    } finally {
      this.running.delete(running)
    }
  }

  private async runRunning(running: Running, report: Tracked, progress: Progress): Promise<string | undefined> {
    const {step} = running
    const {timeoutMs} = this.settings
    const stepContext = () => this.context(this.settings.api.with({
      signal: running.stepControl.signal, writeSignal: running.writeControl.signal, timeoutMs: Math.min(timeoutMs, 60_000),
    }), running.stepControl.signal, running.writeControl.signal, progress)
    let context = stepContext()
    const unneeded = step.skip?.(context)
    if (unneeded !== undefined) {
      Object.assign(report, {state: 'done', note: unneeded})
      this.log.append({event: 'done', step: step.id, note: unneeded})
      progress.start(step.title)
      progress.stop(unneeded)
      return undefined
    }
    const partial = step.undoPartial?.(this.log.id)
    this.log.append({event: 'started', step: step.id, ...(partial && {undo: partial})})
    progress.start(step.title)
    let earlier: Awaited<ReturnType<Runner['earlier']>>
    try {
      earlier = await this.earlier(step, context)
    } catch (error) {
      return this.failed(step, report, error, 'unknown', progress)
    }
    let result: unknown = earlier?.result
    let lost = false
    for (let attempt = 1; !earlier; attempt++) {
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
          await sleep((error as ApiFailure).retryAfterMs ?? 1000, running.stepControl.signal).catch(() => {})
          continue
        }
        // Part of the change may exist: the undo given before it ran reads back what was made.
        if (observed.unknown && partial) Object.assign(report, {partial: true, undo: partial})
        return this.failed(step, report, error, observed.unknown ? 'unknown' : false, progress)
      }
    }
    // From here on the change exists: its undo is due if the run does not succeed.
    this.results.set(step.id, result)
    const undo = step.undo?.(result as never, this.log.id)
    const keeps = step.keepsRunning?.(result)
    Object.assign(report, {applied: true, undo, running: keeps && {running: keeps.running, settle: keeps.settle}})
    this.log.append({event: 'applied', step: step.id, undo, running: report.running, putsBack: step.putsBack, needs: step.needs, result: recorded(step, result)})
    const putBack = this.reports.find(r => r.id === step.putsBack)
    if (putBack) putBack.putBack = true
    if (keeps && !earlier?.settled) {
      const settled = await this.settle(step, keeps)
      if (settled !== true) return settled
      // A signal that came before the work ended was answered by waiting for it: what follows (`then`)
      // still learns how it ended, until a second signal.
      if (running.stepControl.signal.aborted) {
        running.stepControl = new AbortController()
        running.writeControl = new AbortController()
        context = stepContext()
      }
    }
    if (step.then) {
      try {
        result = await step.then(context, result as never)
        this.results.set(step.id, result)
      } catch (error) {
        if (error instanceof NoEffect) {
          Object.assign(report, {applied: false, undo: undefined})
          if (error.result !== undefined) this.results.set(step.id, error.result)
        }
        return this.failed(step, report, error, !(error instanceof NoEffect), progress)
      }
    }
    const note = [step.done?.(result as never), lost ? 'its answer was lost; read back: it happened' : undefined, earlier?.note].filter(Boolean).join('; ')
    Object.assign(report, {state: 'done', note: note || undefined})
    this.log.append({event: 'done', step: step.id, note: report.note, result: step.then ? recorded(step, result) : undefined})
    progress.stop(report.note ?? 'done')
    return step.endsRun?.(context, result as never)
  }

  // Continuing a run: what its log says of this step's change, or, when the step was under way as the
  // process stopped, what reading the state back says. Undefined when the change is still to be made.
  private async earlier(step: Step, context: StepContext): Promise<{result: unknown, settled?: boolean, note: string} | undefined> {
    const prior = this.prior?.get(step.id)
    if (!prior) return undefined
    if (prior.applied && prior.state !== 'undone') {
      if ('result' in prior) return {result: prior.result, settled: prior.settled, note: 'its change was made by the run before'}
    } else if (!['started', 'unknown'].includes(prior.state)) {
      return undefined
    }
    const seen = await step.observe?.(context)
    if (seen?.applied) return {result: seen.result, note: 'read back: the run before had made its change'}
    if (prior.applied && prior.state !== 'undone') throw new Error(`Cannot go on with ${step.id}: its change was made, and what it produced is not known`)
    return undefined
  }

  private context(api: Api, signal: AbortSignal, writeSignal = signal, progress = this.settings.progress): StepContext {
    const {timeoutMs} = this.settings
    return {
      api, signal, writeSignal, timeoutMs, run: this.log.id,
      status: text => progress.status(text),
      output: text => progress.output(text),
      resource: <T>(key: string, load: () => Promise<T>) => {
        const resources = this.settings.resources ??= new Map()
        if (!resources.has(key)) {
          const loading = load()
          this.loaded.push(loading)
          resources.set(key, loading.catch(error => {
            resources.delete(key)
            throw error
          }))
        }
        return Promise.resolve(resources.get(key) as T | Promise<T>)
      },
      result: <T>(step: Ref<T> | string) => {
        const id = typeof step === 'string' ? step : step.ref
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
  private failed(step: Step, report: Tracked, error: unknown, applied: boolean | 'unknown', progress = this.settings.progress): string {
    const interrupted = isAbort(error) && this.signal !== undefined
    const said = error instanceof SafeRollbackError && error.state ? `${messageOf(error)} (${error.state})` : messageOf(error)
    const message = sentence(interrupted && said === 'cancelled' ? 'stopped by the interrupt' : said)
    const change = step.readOnly ? undefined : applied === 'unknown' ? 'unknown' : applied ? 'made' : 'not made'
    Object.assign(report, {state: applied === 'unknown' ? 'unknown' : interrupted ? 'interrupted' : 'failed', error: message, change})
    if (resultOf(error) !== undefined && !this.results.has(step.id)) this.results.set(step.id, resultOf(error))
    this.log.append({event: 'failed', step: step.id, error: message, applied})
    progress.stop(applied === 'unknown' ? '? outcome unknown' : interrupted ? 'interrupted' : 'failed')
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
      await this.settings.actions.perform(this.settings.api.with({signal: this.settleControl.signal, writeSignal: undefined}), keeps.settle, {
        timeoutMs: this.settings.timeoutMs, status: text => this.settings.progress.status(text),
      })
      this.log.append({event: 'settled', step: step.id})
      this.reports.find(r => r.id === step.id)!.settled = true
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
      // The work ended (it failed): nothing of it runs any more, as the log now says too.
      this.log.append({event: 'settled', step: step.id})
      report.settled = true
      return this.failed(step, report, error, true)
    } finally {
      this.settling = undefined
      this.phase = 'steps'
    }
  }

  private explainSettling() {
    // What only the running work relies on is put back only if it ends without effect: not said as certain.
    const due = this.dueUndos().filter(r => keptFor(this.reports, r).length === 0).map(r => r.undo!.title.toLowerCase())
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
    const [only, ...more] = this.running
    const stopping = only?.step.stopping && more.length === 0 && this.dueUndos().length === 0 ? only.step.stopping : undefined
    if (count === 1) this.settings.progress.say(stopping ?? 'Stopping at the next step; what was done will be put back, or listed with the command that undoes it.')
    for (const running of this.running) {
      running.stepControl.abort()
      // The write of this step: what follows a settle has controls of its own.
      const write = running.writeControl
      if (count === 1) setTimeout(() => write.abort(), WRITE_GRACE_MS).unref()
      else write.abort()
    }
  }

  // Automatic undos of the steps that ran and were not put back by a later step, newest first.
  private dueUndos(): Tracked[] {
    return due(this.reports)
  }

  private async putBack() {
    this.phase = 'putting back'
    this.signalsInPhase = 0
    const {progress} = this.settings
    for (const chunk of chunksOf(this.dueUndos())) {
      if (this.leaving) break
      if (chunk.length === 1) {
        await this.undo(chunk[0], progress)
        continue
      }
      progress.start(`Putting back ${chunk.length} changes at once`)
      await Promise.all(chunk.map(report => this.undo(report, memberProgress(progress, report.undo!.title))))
      progress.stop(chunk.every(report => report.state === 'undone') ? 'done' : 'not all done')
    }
  }

  private async undo(report: Tracked, progress: Progress) {
    const undo = report.undo!
    progress.start(undo.title)
    this.log.append({event: 'undo-started', step: report.id})
    try {
      await performChecked(this.settings.actions, this.putBackApi, undo.action!)
      report.state = 'undone'
      this.log.append({event: 'undone', step: report.id})
      progress.stop('done, read back')
    } catch (error) {
      Object.assign(report, {state: 'undo failed', error: messageOf(error)})
      this.log.append({event: 'undo-failed', step: report.id, error: messageOf(error)})
      progress.stop('failed')
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
    // Put-backs not done (they failed, or the command was left before them), each command once (the
    // batches of one command share the command that undoes them all). Work left running at Heroku: until
    // it ends, nothing may be put back by hand (a release phase may still fail); `recovery:resume` waits
    // for it, then does what is due.
    const open = status === 'succeeded' ? [] : this.dueUndos()
    const running = unsettled(this.reports).length > 0
    const finish = running ? [`heroku recovery:resume ${this.log.id}`] : open.length > 0 ? [...new Set([`heroku recovery:resume ${this.log.id}`, ...open.map(r => r.undo!.command)])] : []
    // What stays done, and the commands that would take it back (a rollback, a restore), newest first.
    const undo = kept(this.reports).map(r => r.undo!.command)
    const message = status === 'succeeded' ? undefined : error ?? `Interrupted (${this.signal}).`
    this.log.append({event: 'end', status, message})
    const steps = this.reports.map(({applied: _a, partial: _partial, running: _r, settled: _s, putBack: _p, needs: _n, together: _t, undo, ...report}): StepReport => ({...report, ...(undo && {undo: strip(undo)})}))
    const outcome = {run: this.log.id, status, signal: complete ? undefined : this.signal, error: message, steps, finish, undo, log: this.log.file, durationMs: Date.now() - this.startedAt}
    return Object.defineProperty(outcome, 'result', {value: <T>(id: string) => this.results.get(id) as T | undefined, enumerable: false}) as RunOutcome
  }
}


const strip = ({action: _action, ...rest}: Undo): StepReport['undo'] => rest

// What one step of a group shows: its waits in the group's status, one line once it ends, never a spinner of its own.
const memberProgress = (progress: Progress, title: string): Progress => ({
  start() {},
  status: text => progress.status(`${title}: ${text}`),
  stop: result => (progress.line ?? progress.say)(`  ${title}: ${result}`),
  say: text => progress.say(text),
  output: text => progress.output(text),
})

const recorded = (step: Step, result: unknown) => step.record ? step.record(result as never) : result

// An undo is done when reading the state back says so; one more try if not.
export async function performChecked(actions: Actions, api: Api, action: Action, timeoutMs = PUT_BACK_TIMEOUT_MS) {
  let last: unknown
  for (let round = 1; round <= 2; round++) {
    try {
      await actions.perform(api, action, {timeoutMs})
    } catch (error) {
      if (isAbort(error)) throw error
      last = error
    }
    try {
      if (await actions.isDone(api, action)) return
      last ??= new Error('reading the state back shows it is not done')
    } catch (error) {
      if (isAbort(error)) throw error
      last = error
    }
  }
  throw last
}
