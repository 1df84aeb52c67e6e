import type {Health} from '../health/verdict.js'
import type {BuildersOf} from '../runner/plan.js'
import type {Ref, Step, StepContext} from '../runner/step.js'
import {type RolledBack, rollbackStep} from './steps.js'

// `--on-unhealthy undo` of safe-rollback: when the watch finds the rolled-back app unhealthy, roll back
// once more, to the release that was current before the run (read back as the rollback is: the release,
// its release phase, its dynos up). A step of the plan like the others, so that the run log has it and
// `recovery:resume` knows it; it runs only after an unhealthy verdict, and never twice in a run.

declare module '../runner/plan.js' {
  interface StepKinds {
    // `rollback`: the run's rollback (its release is the one this one follows); `back`: the release the
    // app ran before the run.
    'undo-rollback': {app: string, watch: Ref<Health>, rollback: Ref<RolledBack>, back: {id: string, version: number}}
  }
}

export const undoSteps: BuildersOf<'undo-rollback'> = {
  'undo-rollback'({app, watch, rollback, back}) {
    let inner: Omit<Step<RolledBack>, 'id'> | undefined
    // Built once the rollback's release is known: a release newer than it and named for v{back} is this one.
    const again = (context: StepContext) => (inner ??= rollbackStep(app, context.result(rollback).release.version, back, false))
    return {
      title: `If the watch finds ${app} unhealthy: roll back to v${back.version} (the release it ran before) and wait for its dynos`,
      command: `heroku releases:rollback v${back.version} --app ${app}`,
      skip(context) {
        const {verdict} = context.result<Health>(watch)
        return verdict === 'unhealthy' ? undefined : `not needed: ${app} was not found unhealthy (${verdict})`
      },
      apply: context => again(context).apply(context),
      observe: context => again(context).observe!(context),
      then: (context, result) => again(context).then!(context, result),
      done: ({release, dynos}) => `${app} runs v${back.version}'s code again, as v${release.version}; ${dynos.length} dyno(s) up`,
    }
  },
}
