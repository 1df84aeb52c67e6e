import type {BuildersOf, Planned} from '../runner/plan.js'
import {actionStep} from '../runner/action-step.js'
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

const list = (formation: {type: string, quantity: number}[]) => formation.map(p => `${p.type}=${p.quantity}`).join(', ')

export const platformSteps: BuildersOf<'maintenance' | 'scale'> = {
  maintenance({app, on}) {
    const action = {kind: 'maintenance', app, on} as const
    return actionStep(maintenance, action, {undo: on ? {...action, on: false} : undefined})
  },
  scale({app, formation, down}) {
    const zero = {kind: 'scale', app, formation: formation.map(p => ({type: p.type, quantity: 0}))} as const
    const back = {kind: 'scale', app, formation} as const
    return down
      ? actionStep(scale, zero, {title: `Scale ${list(formation)} to 0, so that nothing writes during the switch`, undo: back})
      : actionStep(scale, back, {title: `Scale back to ${list(formation)}`})
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
