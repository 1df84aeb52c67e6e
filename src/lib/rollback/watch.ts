import {sessionStep, type WatchInput, watchStep} from '../health/plan.js'
import type {Planned} from '../runner/plan.js'
import {ref} from '../runner/step.js'
import type {Health} from '../health/verdict.js'
import {type RolledBack, undoCommand} from './steps.js'

// safe-rollback's steps with the health watch around them: the log session first (before any write, so
// that nothing after the rollback is missed), the watch once the dynos are up and maintenance mode is off
// again; with `--on-unhealthy undo`, the roll back to the release it ran before and a second watch, both
// done only after an unhealthy verdict.
export function watchRollback(app: string, current: {id: string, version: number}, watch: WatchInput | undefined, steps: Planned[]): Planned[] {
  if (!watch) return steps
  const undo = watch.onUnhealthy === 'undo'
  return [
    sessionStep(app, watch),
    ...steps,
    watchStep(app, watch, {release: ref('rollback'), undo: undoCommand(app, current.version), goOn: undo}),
    ...(undo ? [
      {id: 'undo', kind: 'undo-rollback', app, watch: ref<Health>('watch'), rollback: ref<RolledBack>('rollback'), back: {id: current.id, version: current.version}, putsBack: 'rollback'} satisfies Planned,
      watchStep(app, watch, {release: ref<RolledBack>('undo'), afterUndo: {first: ref<Health>('watch'), undone: `rolled ${app} back to v${current.version}, the release it ran before`}}, 'watch-again'),
    ] : []),
  ]
}
