import {listDynos} from '../api/apps.js'
import {path, type Api} from '../api/client.js'
import {sleep} from '../abort.js'
import type {LogTap} from './session.js'
import {type Health, Tally, type WatchRules} from './verdict.js'

// The health watch: after a change, what the app serves over a window, judged by verdict.ts. The log
// session (opened before the change) brings the router's lines; the dynos are read on a backing-off
// schedule (a crash is unhealthy at once); --health-url is probed every few seconds.

export interface WatchOptions {
  app: string
  rules: WatchRules
  tap: LogTap
  // The release the change made current (v53), compared with what --health-url says it runs.
  release?: number
  healthUrl?: string
  // Stops the watch only (Ctrl-C): the change stays, the verdict is not reached.
  signal: AbortSignal
  status(text: string): void
  now?: () => number
}

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

export async function watchHealth(api: Api, options: WatchOptions): Promise<Health> {
  const now = options.now ?? Date.now
  const preboot = await prebootEnabled(api, options.app)
  const tally = new Tally(options.rules, preboot ? undefined : now())
  const switchAt = preboot ? now() + PREBOOT_SWITCH_MS : undefined
  options.tap.listen(signal => tally.add(signal))
  const expected = options.release === undefined ? undefined : `v${options.release}`
  let nextProbe = 0
  let nextDynos = now() + DYNOS_FIRST_MS
  let dynoWait = DYNOS_FIRST_MS
  for (;;) {
    if (options.signal.aborted) return tally.judge(now())
    const at = now()
    if (switchAt !== undefined && at >= switchAt) tally.start(switchAt)
    if (options.healthUrl && at >= nextProbe) {
      tally.probe(await probe(options.healthUrl, options.signal), expected)
      nextProbe = at + PROBE_EVERY_MS
    }
    if (at >= nextDynos) {
      tally.dynos(await listDynos(api, options.app).catch(() => []))
      dynoWait = Math.min(dynoWait * 2, DYNOS_MOST_MS)
      nextDynos = at + dynoWait
    }
    const health = tally.judge(now())
    options.status(`${health.requests} requests, ${health.errors} errors (${health.errorRate}%)${Object.keys(health.codes).length > 0 ? `, ${Object.entries(health.codes).map(([code, n]) => `${code} ×${n}`).join(' ')}` : ''}`)
    if (health.verdict !== 'watching') return health
    await sleep(1000, options.signal).catch(() => {})
  }
}
