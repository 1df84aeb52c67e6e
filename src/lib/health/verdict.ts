import type {Signal} from './lines.js'

// Did the change make things better? A tally of what the app served over a window after it, and the
// verdict it supports. Pure: signals and probe answers come in with their times, `judge(now)` answers.

export interface WatchRules {
  // How long to watch, from the moment traffic reaches the new code (--health-window).
  windowMs: number
  // Fewer requests than this in the whole window: too little to tell (--min-requests).
  minRequests: number
  // Percent of requests that may fail (--max-error-rate).
  maxErrorRate: number
}

export const DEFAULT_RULES: WatchRules = {windowMs: 2 * 60_000, minRequests: 30, maxErrorRate: 2}

export type Verdict = 'healthy' | 'unhealthy' | 'inconclusive'

export interface Health {
  // 'not verified': the watch was stopped (Ctrl-C) before it could tell.
  verdict: Verdict | 'watching' | 'not verified'
  // Why, in one clause: 'error rate 41.0% (41 of 100) over 2m, above 2%'.
  reason: string
  requests: number
  errors: number
  // Percent, one decimal.
  errorRate: number
  codes: Record<string, number>
  crashedDynos: string[]
  windowMs: number
  url?: {probes: number, failures: number, wrongRelease?: string}
}

// Consecutive failed probes of --health-url that make the verdict unhealthy on their own.
const URL_FAILURES = 3

const percent = (part: number, whole: number) => whole === 0 ? 0 : Math.round(part / whole * 1000) / 10

const minutes = (ms: number) => ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`

export class Tally {
  private requests = 0
  private errors = 0
  private readonly codes: Record<string, number> = {}
  private readonly crashed = new Set<string>()
  // Why what was seen may not be all there was: L-codes of the log pipeline, a log session lost.
  private readonly gaps = new Set<string>()
  private probes = 0
  private probeFailures = 0
  private failingInARow = 0
  private wrongRelease?: string

  // `from`: when the window of requests starts (the dynos up, or traffic switched by preboot); undefined
  // until known. `since`: from when the dynos' own signals count (crashes, runtime errors, lost lines):
  // the watch's start, before a preboot switch too.
  constructor(private readonly rules: WatchRules, private from?: number, private readonly since = from) {}

  start(at: number) {
    this.from ??= at
  }

  add(signal: Signal) {
    if (signal.kind === 'request' ? this.from === undefined || signal.at < this.from : this.since === undefined || signal.at < this.since) return
    if (signal.kind === 'pipeline') {
      this.gaps.add(signal.code)
      this.codes[signal.code] = (this.codes[signal.code] ?? 0) + 1
      return
    }
    if (signal.kind === 'state') {
      if (signal.state === 'crashed') this.crashed.add(signal.dyno)
      return
    }
    if (signal.kind === 'dyno') {
      this.codes[signal.code] = (this.codes[signal.code] ?? 0) + 1
      return
    }
    // Maintenance mode's own answer, while the run holds it on: expected, not the app's.
    if (signal.code === 'H80') return
    this.requests++
    if (!signal.error) return
    this.errors++
    const code = signal.code ?? String(signal.status)
    this.codes[code] = (this.codes[code] ?? 0) + 1
  }

  // Lines that did not reach the watch (the log session could not be opened or read): never unhealthy for it.
  lost(reason: string) {
    this.gaps.add(reason)
  }

  // Dyno states as the platform reports them: a crashed one is unhealthy at once.
  dynos(states: {name: string, state: string}[]) {
    for (const {name, state} of states) if (state === 'crashed') this.crashed.add(name)
  }

  // One answer of --health-url: ok (2xx in time), and the release it says it runs, when it says one.
  probe(answer: {ok: boolean, release?: string}, expected?: string) {
    this.probes++
    if (answer.ok) this.failingInARow = 0
    else {
      this.probeFailures++
      this.failingInARow++
    }
    if (expected && answer.release && answer.release !== expected) this.wrongRelease = answer.release
  }

  // What the watch may have missed, in words: 'the log pipeline dropped lines (L10)'.
  private missing(): string {
    const codes = [...this.gaps].filter(gap => /^L\d+$/.test(gap))
    const others = [...this.gaps].filter(gap => !codes.includes(gap))
    return [...(codes.length > 0 ? [`the log pipeline dropped lines (${codes.join(', ')})`] : []), ...others].join(' and ')
  }

  judge(now: number): Health {
    const {windowMs, minRequests, maxErrorRate} = this.rules
    const rate = percent(this.errors, this.requests)
    const counts = `${this.errors} of ${this.requests}`
    const health = (verdict: Health['verdict'], reason: string): Health => ({
      verdict, reason, requests: this.requests, errors: this.errors, errorRate: rate, codes: {...this.codes}, crashedDynos: [...this.crashed], windowMs,
      ...(this.probes > 0 ? {url: {probes: this.probes, failures: this.probeFailures, ...(this.wrongRelease ? {wrongRelease: this.wrongRelease} : {})}} : {}),
    })
    if (this.crashed.size > 0) return health('unhealthy', `${[...this.crashed].join(', ')} crashed`)
    if (this.failingInARow >= URL_FAILURES) return health('unhealthy', `--health-url failed ${this.failingInARow} times in a row`)
    if (this.from === undefined) return health('watching', 'waiting for traffic to reach the new code')
    const elapsed = Math.max(0, now - this.from)
    const over = rate > maxErrorRate
    if (elapsed >= windowMs) {
      if (this.requests < minRequests) return health('inconclusive', `only ${this.requests} request${this.requests === 1 ? '' : 's'} in ${minutes(windowMs)} (at least ${minRequests} needed)${this.gaps.size > 0 ? `; ${this.missing()}` : ''}`)
      if (over) return health('unhealthy', `error rate ${rate}% (${counts}) over ${minutes(windowMs)}, above ${maxErrorRate}%`)
      if (this.gaps.size > 0) return health('inconclusive', `error rate ${rate}% (${counts}), but ${this.missing()}`)
      return health('healthy', `error rate ${rate}% (${counts}) over ${minutes(windowMs)}, at most ${maxErrorRate}%`)
    }
    // Early, only when what is left of the window could not change the verdict: no traffic (at twice
    // the rate seen so far, every request a success) could bring the error rate back under the limit...
    const remaining = 2 * (this.requests / Math.max(elapsed, 1000)) * (windowMs - elapsed)
    if (this.requests >= Math.min(minRequests, 10) && this.errors / (this.requests + remaining) * 100 > maxErrorRate) {
      return health('unhealthy', `error rate ${rate}% (${counts}) after ${minutes(Math.round(elapsed / 1000) * 1000)}, above ${maxErrorRate}% whatever the rest of the window brings`)
    }
    // ...and healthy never before half the window, with plenty of traffic and half the allowed errors at
    // most, every line seen and --health-url answering.
    if (elapsed >= windowMs / 2 && this.requests >= 2 * minRequests && rate <= maxErrorRate / 2 && this.gaps.size === 0 && this.failingInARow === 0) {
      return health('healthy', `error rate ${rate}% (${counts}) after ${minutes(Math.round(elapsed / 1000) * 1000)}, well under ${maxErrorRate}%`)
    }
    return health('watching', `${counts} failed so far`)
  }
}
