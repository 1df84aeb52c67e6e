import {platformSteps} from './platform/steps.js'
import type {Step} from './runner/step.js'

// The quieting steps for the areas whose plans are not data yet (see platform/steps.ts).

export type Formation = {type: string, quantity: number}[]

export const maintenanceOn = (app: string): Step<void> => ({...platformSteps.maintenance({kind: 'maintenance', app, on: true}), id: 'maintenance-on'})

export const maintenanceOff = (app: string): Step<void> => ({...platformSteps.maintenance({kind: 'maintenance', app, on: false}), id: 'maintenance-off', putsBack: 'maintenance-on'})

export const scaleDown = (app: string, formation: Formation): Step<void> => ({...platformSteps.scale({kind: 'scale', app, formation, down: true}), id: 'scale-down'})

export const scaleBack = (app: string, formation: Formation): Step<void> => ({...platformSteps.scale({kind: 'scale', app, formation, down: false}), id: 'scale-back', putsBack: 'scale-down'})
