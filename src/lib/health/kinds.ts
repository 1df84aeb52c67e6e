import {Aborted, isAbort} from '../abort.js'
import {formatDuration} from '../duration.js'
import {messageOf} from '../errors.js'
import type {BuildersOf} from '../runner/plan.js'
import type {Ref, StepContext, WithResult} from '../runner/step.js'
import {windowText} from './rules.js'
import {openTap, type LogTap} from './session.js'
import type {Health, WatchRules} from './verdict.js'
import {watchHealth} from './watch.js'

// The health watch as plan steps. `log-session` is the first write of a run that changes the app: it
// opens a session of Heroku's own log lines before the change, read from then on (a Fir app keeps no
// history), and shares it with the steps as a run resource. `health-watch` comes after the change (the
// dynos up, maintenance mode off again): it judges what the app serves over the window. Neither changes
// anything of the app, and neither is ever put back.
//
// An unhealthy verdict fails the watch (`onUnhealthy: 'stop'`), with the numbers and the exact command
// that undoes the change; with 'continue', the watch reports it and the run goes on (the steps of
// `--on-unhealthy undo` follow it). Ctrl-C stops the watch only: the change stays, 'not verified'.

export interface SessionOpened {
  opened: boolean
  // Why not: the watch then sees the dynos' states and --health-url only.
  error?: string
}

declare module '../runner/plan.js' {
  interface StepKinds {
    // Nothing secret: the session's URL, which holds its token, stays in the run's resources.
    'log-session': {app: string, fir: boolean}
    'health-watch': {
      app: string
      fir: boolean
      rules: WatchRules
      healthUrl?: string
      // The release the change made current, compared with what --health-url says it runs: a version, or
      // the step whose result names it ({release: {version}}, as the rollback's does).
      release?: number | Ref<{release: {version: number}}>
      // It follows a change of this run: with preboot, the window starts when traffic switches.
      afterChange: boolean
      onUnhealthy: 'stop' | 'continue'
      // The exact command that undoes the change, said with an unhealthy verdict.
      undo?: string
      // The watch again after `--on-unhealthy undo` undid the change: it runs only when the first watch
      // (`first`) was unhealthy, and then ends the run as failed whatever it finds, saying what was undone.
      afterUndo?: {first: Ref<Health>, undone: string}
    }
  }
}

// The run's log session on an app: opened by `log-session`, or by the watch of a run another process goes on with.
const tapOf = (context: StepContext, app: string, fir: boolean) => context.resource<LogTap>(`log-session:${app}`, () => openTap(context.api, app, fir))

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

// '500 ×10, H12 ×2'.
export const codesText = (health: Health) => Object.entries(health.codes).map(([code, n]) => `${code} ×${n}`).join(', ')

// '36 requests, 10 failed (27.8%): 500 ×10'.
export const counts = (health: Health) => `${plural(health.requests, 'request')}, ${health.errors} failed (${health.errorRate}%)${codesText(health) ? `: ${codesText(health)}` : ''}`

// The verdict was unhealthy: why, the codes, and the command that undoes the change.
export class UnhealthyVerdict extends Error implements WithResult {
  constructor(readonly result: Health, undo?: string) {
    super(`Unhealthy: ${result.reason}${codesText(result) ? ` (${codesText(result)})` : ''}.${undo ? ` To undo the change: ${undo}` : ''}`)
  }
}

// The change was unhealthy and undone (--on-unhealthy undo): the run failed, whatever the watch after the
// undo found (that watch itself is done, with its verdict).
const undoneText = (first: Health, undone: string, again: Health) =>
  `Unhealthy: ${first.reason}${codesText(first) ? ` (${codesText(first)})` : ''}. Undone: ${undone}; watched again: ${again.verdict}, ${again.reason}${codesText(again) ? ` (${codesText(again)})` : ''}.`

// Ctrl-C during the watch: it stops, the change stays, and the verdict is 'not verified'.
function notVerified(app: string, health: Health, elapsedMs: number): Aborted & WithResult {
  const seen: Health = {...health, verdict: 'not verified', reason: `the watch was stopped after ${formatDuration(elapsedMs)}`}
  return Object.assign(new Aborted(), {
    message: `Not verified: the watch was stopped after ${formatDuration(elapsedMs)}, with ${plural(health.requests, 'request')} and ${health.errors} failed so far; ${app} stays as it is`,
    result: seen,
  })
}

const releaseOf = (context: StepContext, release: number | Ref<{release: {version: number}}> | undefined) =>
  typeof release === 'object' ? context.result(release).release.version : release

export const healthSteps: BuildersOf<'log-session' | 'health-watch'> = {
  'log-session': ({app, fir}) => ({
    title: `Open a log session on ${app} (Heroku's router and dyno lines${fir ? ', streamed as Fir does' : ''})`,
    readOnly: true,
    // A recovery must not wait on its logs: a session that cannot be opened leaves the watch without them.
    async apply(context): Promise<SessionOpened> {
      try {
        await tapOf(context, app, fir)
        return {opened: true}
      } catch (error) {
        if (isAbort(error)) throw error
        return {opened: false, error: messageOf(error)}
      }
    },
    done: ({opened, error}) => opened ? 'opened' : `not opened (${error}): the watch will see the dynos and --health-url only`,
  }),
  'health-watch': ({app, fir, rules, healthUrl, release, afterChange, onUnhealthy, undo, afterUndo}) => ({
    title: `${afterUndo ? 'After the undo: watch' : 'Watch'} ${app}'s requests for ${windowText(rules.windowMs)} (healthy: at least ${rules.minRequests}, at most ${rules.maxErrorRate}% failing)${healthUrl ? `, probing ${healthUrl}` : ''}`,
    readOnly: true,
    skip: afterUndo && (context => context.result<Health>(afterUndo.first).verdict === 'unhealthy' ? undefined : 'not needed: nothing was undone'),
    stopping: `Stopping the watch only: ${app} stays as it is, not verified.`,
    async apply(context): Promise<Health> {
      let noLogs: string | undefined
      const tap = await tapOf(context, app, fir).catch(error => {
        if (isAbort(error)) throw error
        noLogs = `no log session (${messageOf(error)})`
        return undefined
      })
      const started = Date.now()
      const health = await watchHealth(context.api, {
        app, rules, tap, noLogs, release: releaseOf(context, release), healthUrl, afterChange, signal: context.signal, status: context.status,
      })
      if (context.signal.aborted) throw notVerified(app, health, Date.now() - started)
      if (health.verdict === 'unhealthy' && onUnhealthy === 'stop') throw new UnhealthyVerdict(health, undo)
      return health
    },
    done: health => `${health.verdict}: ${health.reason}`,
    endsRun: afterUndo && ((context, health) => undoneText(context.result<Health>(afterUndo.first), afterUndo.undone, health)),
  }),
}
