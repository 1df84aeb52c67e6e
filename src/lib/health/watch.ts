import {listDynos} from '../api/apps.js'
import {path, type Api} from '../api/client.js'
import {sleep} from '../abort.js'
import {formatDuration} from '../duration.js'
import {windowText} from './rules.js'
import type {LogTap} from './session.js'
import {type Health, Tally, type WatchRules} from './verdict.js'

// The health watch: after a change, what the app serves over a window, judged by verdict.ts. The log
// session (opened before the change) brings the router's lines; the dynos are read on a backing-off
// schedule (a crash is unhealthy at once); --health-url is probed every few seconds.

export interface WatchOptions {
  app: string
  rules: WatchRules
  // The log session opened before the change; none when it could not be opened (`noLogs` says why).
  tap?: LogTap
  noLogs?: string
  // The release the change made current (v53), compared with what --health-url says it runs.
  release?: number
  healthUrl?: string
  // The watch follows a change of this run (the dynos were just seen up): with preboot, the window starts
  // when traffic switches, and the dynos are read again after 5 s. Otherwise (recovery:verify) the window
  // starts now and the dynos are read at once.
  afterChange: boolean
  // Stops the watch only (Ctrl-C): the change stays, the verdict is not reached.
  signal: AbortSignal
  status(text: string): void
  clock?: Clock
}

export interface Clock {
  now(): number
  sleep(ms: number, signal: AbortSignal): Promise<void>
}

const realClock: Clock = {now: Date.now, sleep}

// With preboot, the router switches traffic to the new dynos about three minutes after they are up.
export const PREBOOT_SWITCH_MS = 3 * 60_000
const PROBE_EVERY_MS = 5000
const PROBE_TIMEOUT_MS = 10_000
const DYNOS_FIRST_MS = 5000
const DYNOS_MOST_MS = 30_000

export async function prebootEnabled(api: Api, app: string): Promise<boolean> {
  const features = await api.get<{name: string, enabled: boolean}[]>(path`/apps/${app}/features`).catch(() => [])
  return features.some(f => f.name === 'preboot' && f.enabled)
}

// One probe of --health-url: ok is a 2xx within 10 s; the release it names (a header, or the body).
export async function probe(url: string, signal: AbortSignal): Promise<{ok: boolean, release?: string}> {
  try {
    const response = await fetch(url, {signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]), redirect: 'manual'})
    const header = response.headers.get('x-heroku-release-version') ?? undefined
    const body = await response.text().catch(() => '')
    const named = header ?? /\bv(\d+)\b/.exec(body.slice(0, 2000))?.[0]
    return {ok: response.status >= 200 && response.status < 300, release: named && (named.startsWith('v') ? named : `v${named}`)}
  } catch {
    return {ok: false}
  }
}

const ONE_OFF_TYPES = new Set(['run', 'release', 'scheduler'])

const countText = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

// The live status line: '35s of 2m: 42 requests, 1 failed (2.4%): H12 ×1'.
export function statusLine(health: Health, elapsedMs: number): string {
  const codes = Object.entries(health.codes).map(([code, n]) => `${code} ×${n}`).join(', ')
  return `${windowText(elapsedMs)} of ${windowText(health.windowMs)}: ${countText(health.requests, 'request')}, ${health.errors} failed (${health.errorRate}%)${codes ? `: ${codes}` : ''}`
}

export async function watchHealth(api: Api, options: WatchOptions): Promise<Health> {
  const {now} = options.clock ?? realClock
  const preboot = options.afterChange && await prebootEnabled(api, options.app)
  const started = now()
  const switchAt = preboot ? started + PREBOOT_SWITCH_MS : undefined
  const tally = new Tally(options.rules, preboot ? undefined : started, started)
  if (options.tap) options.tap.listen(signal => tally.add(signal), reason => tally.lost(reason))
  else tally.lost(options.noLogs ?? 'no log session')
  try {
    return await watching(api, options, tally, started, switchAt)
  } finally {
    options.tap?.unlisten()
  }
}

async function watching(api: Api, options: WatchOptions, tally: Tally, started: number, switchAt: number | undefined): Promise<Health> {
  const {now, sleep: pause} = options.clock ?? realClock
  const expected = options.release === undefined ? undefined : `v${options.release}`
  let nextProbe = started
  let dynoWait = DYNOS_FIRST_MS
  let nextDynos = options.afterChange ? started + DYNOS_FIRST_MS : started
  for (;;) {
    if (options.signal.aborted) return tally.judge(now())
    const at = now()
    if (switchAt !== undefined && at >= switchAt) tally.start(switchAt)
    if (options.healthUrl && at >= nextProbe) {
      tally.probe(await probe(options.healthUrl, options.signal), expected)
      nextProbe = at + PROBE_EVERY_MS
    }
    if (at >= nextDynos) {
      const dynos = await listDynos(api, options.app).catch(() => [])
      tally.dynos(dynos.filter(d => !ONE_OFF_TYPES.has(d.type)))
      if (at > started) dynoWait = Math.min(dynoWait * 2, DYNOS_MOST_MS)
      nextDynos = at + dynoWait
    }
    if (options.signal.aborted) return tally.judge(now())
    const health = tally.judge(now())
    if (health.verdict !== 'watching') return health
    options.status(switchAt !== undefined && now() < switchAt
      ? `waiting for preboot to switch traffic to the new dynos (about ${formatDuration(switchAt - now())} more)`
      : statusLine(health, now() - (switchAt ?? started)))
    await pause(1000, options.signal).catch(() => {})
  }
}
