import {scaleFormation, setMaintenance} from './api/apps.js'
import {maintenance, scale} from './platform/actions.js'
import type {ActionOf} from './runner/actions.js'
import type {Observed, Step, StepContext, Undo} from './runner/step.js'

// Quieting an app for a switch: maintenance mode on, workers at 0, and the steps that put them back.
// Each undo is automatic: if anything after it fails or is interrupted, the runner puts it back.

// A lost answer to one of these writes: reading the app tells whether it holds.
const holds = (action: ActionOf<'maintenance' | 'scale'>) => async ({api}: StepContext): Promise<Observed<void>> =>
  await (action.kind === 'maintenance' ? maintenance.isDone(api, action) : scale.isDone(api, action)) ? {applied: true, result: undefined} : {applied: false}

const automatic = (action: ActionOf<'maintenance' | 'scale'>): Undo => action.kind === 'maintenance'
  ? {title: maintenance.title(action), command: maintenance.command(action), action, automatic: true}
  : {title: scale.title(action), command: scale.command(action), action, automatic: true}

const maintenanceUndo = (app: string): Undo => automatic({kind: 'maintenance', app, on: false})

export function maintenanceOn(app: string): Step<void> {
  return {
    id: 'maintenance-on',
    title: 'Turn maintenance mode on',
    apply: ({api}) => setMaintenance(api, app, true),
    observe: holds({kind: 'maintenance', app, on: true}),
    undo: () => maintenanceUndo(app),
  }
}

export function maintenanceOff(app: string): Step<void> {
  return {
    id: 'maintenance-off', title: 'Turn maintenance mode off', putsBack: 'maintenance-on',
    apply: ({api}) => setMaintenance(api, app, false), observe: holds({kind: 'maintenance', app, on: false}),
  }
}

export type Formation = {type: string, quantity: number}[]

const list = (formation: Formation) => formation.map(p => `${p.type}=${p.quantity}`).join(', ')

export function scaleDown(app: string, formation: Formation): Step<void> {
  const action = {kind: 'scale', app, formation} as const
  return {
    id: 'scale-down',
    title: `Scale ${list(formation)} to 0, so that nothing writes during the switch`,
    apply: ({api}) => scaleFormation(api, app, formation.map(p => ({type: p.type, quantity: 0}))),
    observe: holds({kind: 'scale', app, formation: formation.map(p => ({type: p.type, quantity: 0}))}),
    undo: () => automatic(action),
  }
}

export function scaleBack(app: string, formation: Formation): Step<void> {
  return {
    id: 'scale-back', title: `Scale back to ${list(formation)}`, putsBack: 'scale-down',
    apply: ({api}) => scaleFormation(api, app, formation), observe: holds({kind: 'scale', app, formation}),
  }
}
