import type {Api} from '../api/client.js'
import type {Origin} from './actions.js'
import type {Step} from './step.js'

// A plan's steps are data: what each does and to what, by names and ids, never a secret. The plan that
// is printed is the plan that runs, and the run log keeps it, so that a run cut short can be finished
// forward by another process (`heroku recovery:resume RUN --continue`). Each area adds its step kinds by
// declaration merging, and registers how each kind's data becomes a runner step (src/lib/registry.ts):
//
//   declare module '../runner/plan.js' {
//     interface StepKinds {rollback: {app: string, target: {id: string, version: number}}}
//   }

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface StepKinds {}

export type StepKind = keyof StepKinds & string

export type StepData = {[K in StepKind]: {kind: K} & StepKinds[K]}[StepKind]

export type StepDataOf<K extends StepKind> = Extract<StepData, {kind: K}>

// A step of a plan: its data, and its place among the others.
export type Planned<D extends StepData = StepData> = D & {
  // A stable name for the run log and --json: 'maintenance-on'.
  id: string
  // This step puts back an earlier one (maintenance off after maintenance on).
  putsBack?: string
  // Once this step's change exists, it relies on these earlier ones (see Step.needs).
  needs?: string[]
  // It runs at the same time as the steps next to it with the same group title (see Step.together).
  together?: string
}

// How a kind's data becomes a runner step: the step without its place (id, putsBack, needs come from the plan).
export type Builder<D> = (data: D) => Omit<Step<any>, 'id' | 'putsBack' | 'needs' | 'together' | 'data'>

export type BuildersOf<K extends StepKind> = {[P in K]: Builder<StepDataOf<P>>}

export type BuilderRegistry = {[K in StepKind]: Builder<StepDataOf<K>>}

// The kinds whose steps may be about another app than the run's (db:recover moves every app on the
// database), each with how a run log read back proves that app is still the run's concern: a reason
// not to trust the step, or undefined.
export type CrossAppTrust = {[K in StepKind]?: (api: Api, data: StepDataOf<K>, origin: Origin) => Promise<string | undefined>}

// The one interpreter from a plan's data to the runner's steps.
export class Interpreter {
  constructor(private readonly builders: BuilderRegistry, private readonly crossApp: CrossAppTrust = {}) {}

  isKnown = (kind: unknown): kind is StepKind => typeof kind === 'string' && Object.hasOwn(this.builders, kind)

  // Why a step about another app than the run's is not to be trusted; a kind that may not name one never is.
  distrustOtherApp = async (api: Api, data: StepData, origin: Origin): Promise<string | undefined> => {
    const check = (this.crossApp as Record<string, (api: Api, data: StepData, origin: Origin) => Promise<string | undefined>>)[data.kind]
    return check ? check(api, data, origin) : `it is for ${(data as {app?: unknown}).app}, and the run was on ${origin.app}`
  }

  build = (planned: Planned): Step<any> => {
    const {id, putsBack, needs, together} = planned
    const builder = (this.builders as Record<string, Builder<StepData>>)[(planned as {kind: string}).kind]
    return {...builder(planned), id, putsBack, needs, together, data: planned}
  }
}
