import type {Api} from '../api/client.js'
import {printable} from '../names.js'

// Undos and waits as data, so that the run log can carry them and `recovery:resume` can finish a run
// whose process died. The runner knows none of them: each area adds its kinds to `ActionKinds` by
// declaration merging, and registers what each kind does (src/lib/registry.ts collects them):
//
//   declare module '../runner/actions.js' {
//     interface ActionKinds {maintenance: {app: string, on: boolean}}
//   }

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ActionKinds {}

export type ActionKind = keyof ActionKinds & string

export type Action = {[K in ActionKind]: {kind: K} & ActionKinds[K]}[ActionKind]

export type ActionOf<K extends ActionKind> = Extract<Action, {kind: K}>

export interface Performing {
  timeoutMs: number
  status?(text: string): void
}

// How a wait ended, when its work can end without effect (a release phase that fails): what only that
// work relied on is then to be put back too (see keptFor in ledger.ts).
export interface Ended {
  tookEffect: boolean
  // One line for the engineer: 'v56 (Rollback to v53) succeeded: it is live'.
  said: string
}

// The run an action was read from, for deciding whether it may be carried out on the log's word.
export interface Origin {
  app: string
  startedAt: string
}

export interface Kind<A extends Action> {
  // What it does, in the words a plan uses, and what a person types for the same. From the action
  // itself, so that a run log cannot retitle what it asks for.
  title(action: A): string
  command(action: A): string
  perform(api: Api, action: A, how: Performing): Promise<void | Ended>
  // Reading the state: is it done?
  isDone(api: Api, action: A): Promise<boolean>
  // Why an action read from a run log must not be carried out (it was not this run's to do), by reading
  // the state it would change; undefined when it may.
  distrust(api: Api, action: A, origin: Origin): Promise<string | undefined>
}

export type ActionRegistry = {[K in ActionKind]: Kind<ActionOf<K>>}

// What an area registers: some of the kinds.
export type KindsOf<K extends ActionKind> = {[P in K]: Kind<ActionOf<P>>}

// The registry as the runner, the run log and recovery:resume use it.
export class Actions {
  constructor(private readonly registry: ActionRegistry) {}

  private kindOf<A extends Action>(action: A): Kind<A> {
    return this.registry[action.kind as ActionKind] as unknown as Kind<A>
  }

  isKnown = (kind: unknown): kind is ActionKind => typeof kind === 'string' && Object.hasOwn(this.registry, kind)

  // A kind no area registers can only come from an edited run log: named, never carried out.
  title = (action: Action) => this.isKnown(action.kind) ? this.kindOf(action).title(action) : `An unknown action (${printable(String(action.kind))})`
  command = (action: Action) => this.isKnown(action.kind) ? this.kindOf(action).command(action) : 'none: this plugin does not know it'
  perform = (api: Api, action: Action, how: Performing) => this.kindOf(action).perform(api, action, how)
  isDone = (api: Api, action: Action) => this.kindOf(action).isDone(api, action)
  distrust = (api: Api, action: Action, origin: Origin) => this.kindOf(action).distrust(api, action, origin)
}

// Clocks differ a little between this machine and Heroku's.
export const CLOCK_SKEW_MS = 5 * 60_000

// The common reason: an action on another app than the run's.
export const otherApp = (action: {app: string}, origin: Origin) =>
  action.app === origin.app ? undefined : `it is for ${action.app}, and the run was on ${origin.app}`
