import {type Api, path, SDK_HEADERS, started} from '../api/client.js'
import {orNoSuchApp} from '../api/apps.js'
import type {AppInfo} from '../api/types.js'
import type {Planned} from '../runner/plan.js'
import type {Ref} from '../runner/step.js'
import {type HealthInput, type HealthSettings, healthSettings, windowText} from './rules.js'
import {DEFAULT_RULES, type Health} from './verdict.js'

// The watch as a command that changes the app plans it: the log session as the run's first write, the
// watch after the change (and after maintenance mode is off again), and what an unhealthy verdict leads
// to. Each changing command splices these steps into its own plan.

export interface WatchInput {
  settings: HealthSettings
  onUnhealthy: 'stop' | 'undo'
  // Fir apps take other log session bodies (see session.ts).
  fir: boolean
}

// What the flags chose: a watch, or none (--skip-health-check). A plan made without either (a caller that
// predates the watch) has no watch and says nothing of it in its re-run command.
export type WatchChoice = WatchInput | 'skipped'

export const watching = (choice: WatchChoice | undefined): choice is WatchInput => typeof choice === 'object'

export type WatchFlags = HealthInput & {'skip-health-check': boolean, 'on-unhealthy': string}

// `generation` is in the 3.sdk variant of the app (`heroku logs` reads it there).
async function isFir(api: Api, app: string): Promise<boolean> {
  const info = await orNoSuchApp(app, api.get<AppInfo & {generation?: {name?: string} | string}>(path`/apps/${app}`, {headers: SDK_HEADERS}))
  return (typeof info.generation === 'string' ? info.generation : info.generation?.name) === 'fir'
}

// The watch a changing command's flags ask for; none with --skip-health-check. Bad flags are refused at
// once; the app's generation is read while the command gathers the rest (no round of its own). Skipped by
// HEROKU_SAFE_ROLLBACK_SKIP_HEALTH_CHECK rather than the flag (`argv`: the command line as typed), the
// re-run command leaves it to the environment too.
export function watchInput(api: Api, app: string, flags: WatchFlags, argv: string[]): Promise<WatchChoice | undefined> {
  if (flags['skip-health-check']) return Promise.resolve(argv.includes('--skip-health-check') ? 'skipped' : undefined)
  const settings = healthSettings(flags)
  const onUnhealthy = flags['on-unhealthy'] === 'undo' ? 'undo' : 'stop'
  return started(isFir(api, app).then(fir => ({settings, onUnhealthy, fir})))
}

export const sessionStep = (app: string, watch: WatchInput): Planned => ({id: 'log-session', kind: 'log-session', app, fir: watch.fir})

export interface WatchOf {
  // The release the change made current, or the step whose result names it.
  release?: number | Ref<{release: {version: number}}>
  // The exact command that undoes the change, said with an unhealthy verdict.
  undo?: string
  // The run goes on after an unhealthy verdict (its undo follows).
  goOn?: boolean
  // The watch again, after the undo that follows the first watch's unhealthy verdict.
  afterUndo?: {first: Ref<Health>, undone: string}
}

export function watchStep(app: string, watch: WatchInput, of: WatchOf, id = 'watch'): Planned {
  const {rules, healthUrl} = watch.settings
  return {
    id, kind: 'health-watch', app, fir: watch.fir, rules, ...(healthUrl ? {healthUrl} : {}), ...(of.release === undefined ? {} : {release: of.release}),
    afterChange: true, onUnhealthy: of.goOn ? 'continue' : 'stop', ...(of.undo ? {undo: of.undo} : {}), ...(of.afterUndo ? {afterUndo: of.afterUndo} : {}),
  }
}

// The flags that ask for this watch again, as the re-run command gives them (defaults left out).
export function watchRerun(watch: WatchChoice | undefined): string[] {
  if (!watching(watch)) return watch === 'skipped' ? ['--skip-health-check'] : []
  const {rules, healthUrl} = watch.settings
  return [
    ...(rules.windowMs === DEFAULT_RULES.windowMs ? [] : ['--health-window', windowText(rules.windowMs)]),
    ...(rules.minRequests === DEFAULT_RULES.minRequests ? [] : ['--min-requests', String(rules.minRequests)]),
    ...(rules.maxErrorRate === DEFAULT_RULES.maxErrorRate ? [] : ['--max-error-rate', String(rules.maxErrorRate)]),
    ...(healthUrl ? ['--health-url', healthUrl] : []),
    ...(watch.onUnhealthy === 'undo' ? ['--on-unhealthy', 'undo'] : []),
  ]
}

// The watches of a run, first and (after an undo) again, from its outcome.
export const watched = (outcome: {result<T>(id: string): T | undefined} | undefined, id = 'watch') => outcome?.result<Health>(id)
