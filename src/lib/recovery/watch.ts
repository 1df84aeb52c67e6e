import type {Check} from '../checks.js'
import {sessionStep, type WatchChoice, watching, watchStep} from '../health/plan.js'
import type {Planned} from '../runner/plan.js'

// db:recover's health watch: the log session first, the watch once the database is switched and the app
// quiet no more (maintenance off, workers back), before the follow-up (the follower check, the new
// database's first backup). A drill changes nothing the app serves: no watch.
//
// `--on-unhealthy undo` is refused: the run's own undos are a promote back to the old database, or a
// restore of the safety backup, and either loses what the app wrote since the switch (the orders it took
// while being watched, too). A person decides that, with the command the unhealthy verdict names.

interface Shape {
  app: string
  drill: boolean
  way: 'backup' | 'point-in-time'
  surgical?: unknown
  database: {addon: string, attachment: string}
}

// The steps after which the app serves again: the last of them in the plan.
const SERVING_AGAIN = new Set(['restore', 'verify', 'put-back', 'promote', 'pooler', 'release-phase', 'scale-back', 'maintenance-off'])

// The command that undoes the switch, as the unhealthy verdict says it (the restore's names its safety
// backup once known: the run's closing lines list it).
const undoOf = (plan: Shape) => plan.way === 'point-in-time' && !plan.surgical ? `heroku pg:promote ${plan.database.addon} --app ${plan.app}` : undefined

export function watchRecovery(plan: Shape, watch: WatchChoice | undefined, steps: Planned[]): Planned[] {
  if (!watching(watch) || plan.drill || steps.length === 0) return steps
  const at = steps.map(s => SERVING_AGAIN.has(s.id)).lastIndexOf(true) + 1
  const undo = undoOf(plan)
  return [sessionStep(plan.app, watch), ...steps.slice(0, at), watchStep(plan.app, watch, undo ? {undo} : {}), ...steps.slice(at)]
}

export function recoveryWatchChecks(plan: Shape, watch: WatchChoice | undefined): Check[] {
  if (!watching(watch) || watch.onUnhealthy !== 'undo' || plan.drill) return []
  const instead = undoOf(plan)
  return [{
    name: 'on-unhealthy', outcome: 'failed',
    detail: `--on-unhealthy undo is not automated for db:recover: undoing it (${instead ? `\`${instead}\`` : 'restoring the safety backup'}) would lose every write made since the switch. Leave it out: an unhealthy verdict stops with the exact command, for you to decide.`,
  }]
}
