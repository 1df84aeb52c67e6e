import type {Action, Kind} from './actions.js'
import type {Observed, Step, Undo} from './step.js'

// A step that carries out one registered action (maintenance on, a scale), read back through the action's
// own isDone, and whose undo, when it has one, is another action the runner performs by itself.
export function actionStep<A extends Action>(kind: Kind<A>, action: A, options: {title?: string, undo?: A} = {}): Omit<Step<void>, 'id'> {
  const {undo} = options
  return {
    title: options.title ?? kind.title(action),
    command: kind.command(action),
    apply: ({api}) => kind.perform(api, action, {timeoutMs: 0}).then(() => undefined),
    observe: async ({api}): Promise<Observed<void>> => await kind.isDone(api, action) ? {applied: true, result: undefined} : {applied: false},
    undo: undo && ((): Undo => ({title: kind.title(undo), command: kind.command(undo), action: undo, automatic: true})),
  }
}
