import {setTimeout as sleep} from 'node:timers/promises'
import type {RunOutcome} from '../runner/runner.js'
import {newRunId, readEvents, RunLog, whoAmI} from '../runner/log.js'
import {registerSecrets} from '../secrets.js'
import {BUDGET_MS, type Delivered, Lane} from './deliver.js'
import {type Begun, blockedNotice, finishedNotice, healthOf, type Notice, startedNotice} from './notice.js'
import {type Sink, sinkFor} from './sinks.js'
import {chooseTargets} from './targets.js'

// What a changing command tells the people following the incident (see GuardedCommand): a start event
// once the run has its id and before its first step, an event when a check refuses the plan, an outcome
// event when the run ends. Each event is recorded in the run log as sent, and what became of each
// delivery after it, so that `heroku recovery:log RUN --notify TARGET` can send what did not arrive.

// How long the run waits for its start event before its first step; the rest of the delivery (a retry
// after a 429) goes on meanwhile, within the sink's budget.
export const START_WAIT_MS = 2000

interface Tally {
  delivered: number
  failed: {seq: number, status: 'not delivered' | 'in doubt', why: string}[]
}

export class Notifier {
  private readonly lanes: Lane[]
  // Ctrl-C while the command waits for its sinks at the end: deliveries stop, what they did not get is recorded.
  private readonly stop = new AbortController()
  private readonly tallies = new Map<Sink, Tally>()
  private readonly pending: Promise<unknown>[] = []
  private begun?: Begun
  private log?: RunLog
  private seq = 0

  private constructor(sinks: Sink[], private readonly command: string, private readonly warn: (text: string) => void, budgetMs = BUDGET_MS) {
    this.lanes = sinks.map(sink => new Lane(sink, budgetMs, this.stop.signal))
    for (const sink of sinks) this.tallies.set(sink, {delivered: 0, failed: []})
  }

  // The sinks --notify or the team default name, whose keys and URLs are set; undefined when there is none.
  // What cannot be used is said, once, and changes nothing else.
  static for(options: {given?: string[], env: NodeJS.ProcessEnv, command: string, warn(text: string): void, budgetMs?: number}): Notifier | undefined {
    const {targets, problems} = chooseTargets(options.given, options.env.HEROKU_SAFE_ROLLBACK_NOTIFY)
    const sinks = resolveSinks(targets, options.env, problem => problems.push(problem))
    for (const problem of problems) options.warn(problem)
    return sinks.length > 0 ? new Notifier(sinks, options.command, options.warn, options.budgetMs) : undefined
  }

  // The run has its log: its start event, waited for at most START_WAIT_MS.
  async started(run: {id: string, file: string}): Promise<void> {
    const {events} = readEvents(run.file)
    const begin = events.find(e => e.event === 'begin')
    if (begin?.event !== 'begin') return
    this.log = RunLog.attach(run.file)
    // A run continued by another process goes on with the numbers its events already have.
    this.seq = events.filter(e => e.event === 'notice').length
    this.begun = {run: run.id, command: begin.command, app: begin.app, what: begin.what, who: begin.who, steps: begin.steps.map(s => s.title)}
    const sent = this.send(startedNotice(this.begun, ++this.seq))
    const waited = new AbortController()
    await Promise.race([sent, sleep(START_WAIT_MS, undefined, {signal: waited.signal}).catch(() => {})])
    // The process must not stay for this timer once the run is over.
    waited.abort()
  }

  // The run ended: its outcome event, then every delivery finished or given up, and one line per sink that
  // did not get everything. Without an outcome (the runner failed to start), only the waiting. `stop`
  // ends the waiting early (a signal): the run is over, only its news is cut short.
  stopWaiting() {
    this.stop.abort()
  }

  async finished(outcome: RunOutcome | undefined): Promise<void> {
    if (outcome && this.begun) {
      const health = healthOf(outcome.steps.map(s => outcome.result(s.id)))
      this.send(finishedNotice(this.begun, {...outcome, health}, ++this.seq))
    }
    await this.settled()
    this.sayFailures(this.begun?.run)
  }

  // A check refused the plan: its event (there is no run, so no run log to record it in).
  async blocked(facts: {app: string, what: string, checks: {name: string, detail: string}[]}): Promise<void> {
    this.send(blockedNotice({...facts, ref: newRunId(), command: this.command, who: whoAmI().who}))
    await this.settled()
    this.sayFailures(undefined)
  }

  private send(notice: Notice): Promise<unknown> {
    this.log?.append({event: 'notice', seq: notice.seq, notice: notice as unknown as Record<string, unknown>})
    const deliveries = this.lanes.map(lane => lane.deliver(notice).then(delivered => this.record(lane.sink, notice, delivered)))
    const all = Promise.all(deliveries)
    this.pending.push(all)
    return all
  }

  private record(sink: Sink, notice: Notice, delivered: Delivered) {
    this.log?.append({event: 'notified', seq: notice.seq, to: sink.key, label: sink.label, ...delivered})
    const tally = this.tallies.get(sink)!
    if (delivered.status === 'delivered') tally.delivered++
    else tally.failed.push({seq: notice.seq, ...delivered})
  }

  private async settled() {
    await Promise.all(this.pending)
  }

  private sayFailures(run: string | undefined) {
    for (const [sink, {failed}] of this.tallies) {
      if (failed.length === 0) continue
      // The first failure is the cause: later events may only have found the sink's time used up.
      const {why} = failed[0]
      const count = `${failed.length} event${failed.length === 1 ? '' : 's'}`
      const doubt = failed.some(f => f.status === 'in doubt') ? ' (one may have arrived: no answer came)' : ''
      const again = run ? `; \`heroku recovery:log ${run} --notify ${sink.again}\` sends ${failed.length === 1 ? 'it' : 'them'} again` : ''
      this.warn(`Could not notify ${sink.label} (${why}): ${count} not delivered${doubt}${again}.`)
    }
  }
}

// Sinks for targets; the secret of each registered, so that it is hidden wherever it might show up.
export function resolveSinks(targets: string[], env: NodeJS.ProcessEnv, problem: (text: string) => void): Sink[] {
  return targets.flatMap(target => {
    const sink = sinkFor(target, env)
    if ('problem' in sink) {
      problem(sink.problem)
      return []
    }
    registerSecrets(sink.secrets)
    return [sink]
  })
}
