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

// The one interpreter from a plan's data to the runner's steps.
export class Interpreter {
  constructor(private readonly builders: BuilderRegistry) {}

  isKnown = (kind: unknown): kind is StepKind => typeof kind === 'string' && Object.hasOwn(this.builders, kind)

  build = (planned: Planned): Step<any> => {
    const {id, putsBack, needs, together} = planned
    const builder = (this.builders as Record<string, Builder<StepData>>)[(planned as {kind: string}).kind]
    return {...builder(planned), id, putsBack, needs, together, data: planned}
  }
}
