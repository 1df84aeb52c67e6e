import {listFormation, orNoSuchApp} from '../api/apps.js'
import {type Api, path, SDK_HEADERS} from '../api/client.js'
import {recentReleases} from '../api/releases.js'
import type {Check} from '../checks.js'
import type {Plan} from '../plan.js'
import type {AppInfo} from '../api/types.js'
import {type HealthSettings, windowText} from './rules.js'
import type {WatchRules} from './verdict.js'

// recovery:verify: the watch on its own, with no change before it. It is a run of the one runner like
// every other, so that its verdict is in the run log: `recovery:log --app APP` then tells an incident's
// story in order (the rollback, then whether the app got better), and a watch cut short is said the same
// way everywhere. It changes nothing, so it asks for no confirmation.

export interface VerifyFacts {
  app: string
  fir: boolean
  maintenance: boolean
  // Web dynos in the formation: the router's requests go to them.
  web: number
  current?: {version: number, description: string}
}

export interface VerifyPlan extends Plan {
  facts: VerifyFacts
  rules: WatchRules
  healthUrl?: string
}

// `generation` is in the 3.sdk variant of the app (`heroku logs` reads it there).
const generationOf = (app: AppInfo & {generation?: {name?: string} | string}) =>
  (typeof app.generation === 'string' ? app.generation : app.generation?.name) === 'fir'

export async function gatherVerify(api: Api, app: string): Promise<VerifyFacts> {
  const [info, formation, releases] = await Promise.all([
    orNoSuchApp(app, api.get<AppInfo & {generation?: {name?: string}}>(path`/apps/${app}`, {headers: SDK_HEADERS})),
    orNoSuchApp(app, listFormation(api, app)),
    recentReleases(api, app, 5),
  ])
  const current = releases.find(r => r.current)
  return {
    app, fir: generationOf(info), maintenance: info.maintenance, web: formation.filter(p => p.type === 'web').reduce((n, p) => n + p.quantity, 0),
    current: current && {version: current.version, description: current.description},
  }
}

export function planVerify(facts: VerifyFacts, settings: HealthSettings): VerifyPlan {
  const {app, fir, web, current} = facts
  const {rules, healthUrl} = settings
  const checks: Check[] = [web > 0
    ? {name: 'web', outcome: 'passed', detail: `${web} web dyno${web === 1 ? '' : 's'} in the formation: the router's requests go to ${web === 1 ? 'it' : 'them'}.`}
    : {name: 'web', outcome: 'failed', detail: `${app} has no web dynos: the router serves none of its requests, so there is nothing to watch.`}]
  return {
    app, what: `verify health over ${windowText(rules.windowMs)}`, checks, timeoutMs: 60_000, facts, rules, healthUrl,
    steps: [
      {id: 'log-session', kind: 'log-session', app, fir},
      {id: 'watch', kind: 'health-watch', app, fir, rules, ...(healthUrl ? {healthUrl} : {}), ...(current ? {release: current.version} : {}), afterChange: false, onUnhealthy: 'stop'},
    ],
    rerun: ['heroku', 'recovery:verify', '--app', app, '--health-window', windowText(rules.windowMs), '--min-requests', String(rules.minRequests),
      '--max-error-rate', String(rules.maxErrorRate), ...(healthUrl ? ['--health-url', healthUrl] : [])],
  }
}
