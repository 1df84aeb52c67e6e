import {scaleFormation, setMaintenance} from '../api/apps.js'
import type {Heroku} from '../api/heroku.js'
import {withRestore} from '../cleanup.js'
import type {RecoveryPlan} from './plan.js'

// Maintenance mode and quiet workers around the switch, put back exactly as they were whatever
// happens: success, failure, or Ctrl-C (the signal handling lives in `withRestore`).

export interface Touched {
  maintenance: boolean
  workers: {type: string, quantity: number}[]
}

export async function duringSwitch<T>(heroku: Heroku, plan: RecoveryPlan, touched: Touched, work: () => Promise<T>): Promise<T> {
  const putBack = async () => {
    const done: string[] = []
    if (touched.workers.length > 0) {
      await scaleFormation(heroku, plan.app, touched.workers)
      done.push(`Scaled ${touched.workers.map(w => `${w.type}=${w.quantity}`).join(', ')} back.`)
    }
    if (touched.maintenance) {
      await setMaintenance(heroku, plan.app, false)
      done.push('Maintenance mode is off again.')
    }
    return done.join(' ') || undefined
  }
  return withRestore(putBack, async () => {
    if (plan.maintenance) {
      touched.maintenance = true
      await setMaintenance(heroku, plan.app, true)
    }
    if (plan.workers.length > 0) {
      touched.workers = plan.workers
      await scaleFormation(heroku, plan.app, plan.workers.map(w => ({type: w.type, quantity: 0})))
    }
    return work()
  })
}
