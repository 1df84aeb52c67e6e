import type {BuildersOf, Planned} from '../runner/plan.js'
import type {Observed, Undo} from '../runner/step.js'
import {maintenance, scale} from './actions.js'

// Quieting an app for a switch, as plan steps: maintenance mode on, workers at 0, and the steps that put
// them back. Each undo is automatic: if anything after it fails or is interrupted, the runner puts it back.

declare module '../runner/plan.js' {
  interface StepKinds {
    maintenance: {app: string, on: boolean}
    // `down`: scale these process types to 0 (their undo scales them back); else back to these quantities.
    scale: {app: string, formation: {type: string, quantity: number}[], down: boolean}
  }
}

const observed = (done: boolean): Observed<void> => done ? {applied: true, result: undefined} : {applied: false}

const list = (formation: {type: string, quantity: number}[]) => formation.map(p => `${p.type}=${p.quantity}`).join(', ')

export const platformSteps: BuildersOf<'maintenance' | 'scale'> = {
  maintenance({app, on}) {
    const action = {kind: 'maintenance', app, on} as const
    const off = {kind: 'maintenance', app, on: false} as const
    return {
      title: maintenance.title(action),
      command: maintenance.command(action),
      apply: ({api}) => maintenance.perform(api, action, {timeoutMs: 0}),
      observe: async ({api}) => observed(await maintenance.isDone(api, action)),
      undo: on ? (): Undo => ({title: maintenance.title(off), command: maintenance.command(off), action: off, automatic: true}) : undefined,
    }
  },
  scale({app, formation, down}) {
    const zero = {kind: 'scale', app, formation: formation.map(p => ({type: p.type, quantity: 0}))} as const
    const back = {kind: 'scale', app, formation} as const
    const action = down ? zero : back
    return {
      title: down ? `Scale ${list(formation)} to 0, so that nothing writes during the switch` : `Scale back to ${list(formation)}`,
      command: scale.command(action),
      apply: ({api}) => scale.perform(api, action, {timeoutMs: 0}),
      observe: async ({api}) => observed(await scale.isDone(api, action)),
      undo: down ? (): Undo => ({title: scale.title(back), command: scale.command(back), action: back, automatic: true}) : undefined,
    }
  },
}

// The quiet around a switch, as the plan lists it: maintenance on and workers down before, back after.
export function quieted(app: string, quiet: {maintenance: boolean, workers: {type: string, quantity: number}[]}, during: Planned[]): Planned[] {
  const workers = quiet.workers.length > 0
  return [
    ...(quiet.maintenance ? [{id: 'maintenance-on', kind: 'maintenance', app, on: true} as const] : []),
    ...(workers ? [{id: 'scale-down', kind: 'scale', app, formation: quiet.workers, down: true} as const] : []),
    ...during,
    ...(workers ? [{id: 'scale-back', kind: 'scale', app, formation: quiet.workers, down: false, putsBack: 'scale-down'} as const] : []),
    ...(quiet.maintenance ? [{id: 'maintenance-off', kind: 'maintenance', app, on: false, putsBack: 'maintenance-on'} as const] : []),
  ]
}
