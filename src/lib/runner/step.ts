import type {Api} from '../api/client.js'
import type {Action} from './actions.js'

// Every change a command makes is a step: what it does, how to learn afterwards whether it happened,
// and how to take it back. One runner executes the steps of every command (see runner.ts).

export interface StepContext {
  // Requests made through it stop when the engineer presses Ctrl-C.
  api: Api
  signal: AbortSignal
  // Fires a moment after `signal`: a write already on its way (a COMMIT) may still finish.
  writeSignal: AbortSignal
  // The longest a wait of this step may take (--wait-timeout).
  timeoutMs: number
  // A progress line (a spinner status in a terminal).
  status(text: string): void
  // Text to pass through as it comes (a release phase log).
  output(text: string): void
  // The result of an earlier step of this run.
  result<T>(step: Ref<T> | string): T
  // Something the steps share and that is not plan data (a resolved database URL, an S3 client): what the
  // command already holds, or loaded once per run (a run continued by another process loads it again).
  // What it loads is let go (its `destroy()`) when the run ends.
  resource<T>(key: string, load: () => Promise<T>): Promise<T>
  // The run's id (what recovery:log shows): a step that labels what it makes with its run names it.
  run: string
}

// Another step's result, by that step's id, with the type of what it produces.
export interface Ref<T> {
  ref: string
  // Never set: it only carries T.
  readonly result?: T
}

export const ref = <T>(id: string): Ref<T> => ({ref: id})

export type Observed<R> = {applied: true, result: R} | {applied: false}

export interface Undo {
  // 'Turn maintenance mode off'.
  title: string
  // The command a person runs to do the same by hand.
  command: string
  // What it does, as data: the runner (and recovery:resume, from the run log) performs and checks it.
  action?: Action
  // Run by the runner when a later step fails or the run is interrupted; otherwise only suggested.
  automatic: boolean
}

export interface Step<R = unknown> {
  // A stable name for the run log and --json: 'maintenance-on'.
  id: string
  // What the step does, as the plan shows it: 'Turn maintenance mode on'.
  title: string
  // What a person would type to do the same by hand ('heroku maintenance:on --app my-app'), for the
  // postmortem's timeline; none when no single command does it.
  command?: string
  // The change itself (usually one write).
  apply(context: StepContext): Promise<R>
  // After a lost answer or an interrupt: read the state to learn whether `apply` took effect.
  observe?(context: StepContext): Promise<Observed<R>>
  // What follows the change and can be interrupted: waiting for a release phase, dynos, a backup.
  then?(context: StepContext, result: R): Promise<R>
  // How to take the step back, once its result is known (it may name what the step created). `run` is
  // the run's id once it runs (a command that undoes a finished run names it); a preview has none.
  undo?(result: R | undefined, run?: string): Undo | undefined
  // Before `apply` runs: the undo of whatever part of its change may exist if the step never reports back
  // (the process dies half-way through a batch, or its outcome is unknown). It goes to the run log first,
  // so it is due in those cases; its action reads the state and reverts only what is there. Once the
  // step is applied, `undo` takes its place.
  undoPartial?(run: string): Undo | undefined
  // What the step started and that goes on at Heroku whatever this process does (a restore into the
  // app's database): the runner waits for it before anything is put back, and Ctrl-C cannot stop it.
  keepsRunning?(result: R): KeepsRunning | undefined
  // This step puts back an earlier one (maintenance off after maintenance on): that one's undo is then done.
  putsBack?: string
  // Once this step's change exists, it relies on these earlier changes (a code rollback onto reverted
  // migrations): they stay even when the run fails, and their undo becomes a command to run by hand.
  needs?: string[]
  // The title of the group this step runs with: consecutive steps of one group run at the same time
  // (requests to different apps, see Runner), each still a step of its own. A step that keeps work
  // running at Heroku always runs alone.
  together?: string
  // One line for the report once the step is done.
  done?(result: R): string
  // What the run log keeps of the result, for a later process to go on from (never a secret); the result itself by default.
  record?(result: R): unknown
  // The plan's data this step was built from (see plan.ts), kept in the run log.
  data?: {id: string, kind: string}
  // It changes nothing of the app (a watch of its health): when it fails or is stopped, nothing is said
  // of a change of its own.
  readOnly?: boolean
  // A step the plan holds for one outcome of an earlier step only (the undo after an unhealthy verdict):
  // why it is not needed, read from the earlier steps' results. It is then done without running.
  skip?(context: StepContext): string | undefined
  // A step that did what it should and whose result still means the run failed (a change undone after an
  // unhealthy verdict): the run's error headline. The step itself stays done; the run ends there.
  endsRun?(context: StepContext, result: R): string | undefined
  // What Ctrl-C during it means, said instead of the runner's words when nothing is due to be put back:
  // 'Stopping the watch only: v53 stays, not verified.'
  stopping?: string
}

export interface KeepsRunning {
  // 'Restore r005 of b002 into DATABASE'.
  running: string
  // Waiting for it, as data for the run log.
  settle: Action
  // What the app's data is while it runs and after, for the engineer deciding whether to leave.
  meanwhile: string
}

// What a step saw before it failed or was stopped (a watch's counts so far): thrown with it, it is kept as
// the step's result, for the command's report (outcome.result); it is not a change.
export interface WithResult {
  result: unknown
}

export const resultOf = (error: unknown): unknown => (error as Partial<WithResult> | undefined)?.result

// Thrown by `then` when the change turned out to have no effect after all (a rollback release whose
// release phase failed leaves the app on the release it ran before): nothing to undo. `result` is the
// step's result as it ended (the failed release), when it differs from what `apply` returned.
export class NoEffect extends Error {
  constructor(message: string, readonly result?: unknown) {
    super(message)
  }
}
